"""FreeU references: the tiny UNet of tests/fixtures/engine/tiny-sd run by diffusers with
`unet.enable_freeu(...)`, on latents large enough that the Fourier filter is not trivial
(diffusers applies FreeU in up blocks 0 and 1 only, i.e. at latent/8 and latent/4; at the
8x8 latent of the other references those are 1x1 and 2x2, where the filter is a plain scale).

Run from the repository root, after make_fixtures.py (which rewrites tests/fixtures/engine/):
    tools/reference/.venv/bin/python tools/reference/make_freeu_ref.py
Writes tests/fixtures/engine/freeu/ (manifest.json + raw little-endian float32 .bin files).

It also checks the closed form the ONNX compiler uses for diffusers' `fourier_filter`
(threshold 1): y = x + (s - 1) * (R_H x R_W + I_H x I_W) with, for a side of N samples,
R[n, j] = (1 + c cos t) / N, I[n, j] = c sin t / N, t = 2 pi (n - j) / N, c = 1 if N > 1 else 0.

The `official.*` references apply FreeU as the official Rerender code does (its src/freeu.py, on
the LDM UNet's output blocks), written here for the diffusers UNet with a pre-hook on every up
resnet (whose input is concat(h, skip)): the stage is picked by h's channel count (the largest
of the UNet -> b1/s1, the second largest -> b2/s2), the first half of h is scaled by
(b - 1) * m + 1 with m the per-sample min-max-normalised channel mean of h, and the skip is
filtered before the ControlNet residual is added to it. `diffusers.cn` is enable_freeu with the
same residuals (diffusers adds them before filtering).
"""

import json
import math
import os

import numpy as np
import torch

from diffusers import UNet2DConditionModel
from diffusers.utils.torch_utils import fourier_filter
from fixture_io import save_tensor  # noqa: E402  (tools/reference is the script's own folder)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(ROOT, "tests", "fixtures", "engine")
OUT = os.path.join(FIX, "freeu")

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

manifest: dict = {}


def save(name: str, value) -> None:
    save_tensor(manifest, OUT, name, value)


def side_matrices(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    idx = torch.arange(n, dtype=torch.float64)
    theta = 2 * math.pi * (idx[:, None] - idx[None, :]) / n
    c = 1.0 if n > 1 else 0.0
    return (1 + c * torch.cos(theta)) / n, c * torch.sin(theta) / n


def closed_form(x: torch.Tensor, s: float) -> torch.Tensor:
    rh, ih = side_matrices(x.shape[-2])
    rw, iw = side_matrices(x.shape[-1])
    x64 = x.double()
    return (x64 + (s - 1) * (rh @ x64 @ rw + ih @ x64 @ iw)).float()


def check_closed_form() -> None:
    g = torch.Generator().manual_seed(5)
    for h, w in [(1, 1), (1, 4), (2, 2), (3, 1), (5, 6), (8, 8), (10, 12), (7, 9), (64, 64), (96, 128)]:
        x = torch.randn(2, 3, h, w, generator=g)
        for s in (0.2, 0.9, 0.0, 1.7):
            want = fourier_filter(x, threshold=1, scale=s)
            err = (closed_form(x, s) - want).abs().max().item()
            assert err < 1e-5, f"closed form differs at {h}x{w}, s={s}: {err}"


CASES = {
    # name: (latent h, w, (s1, s2, b1, b2))
    # Small enough for the WebGPU test lane on a software adapter, with sides of 3 and more in both
    # filtered blocks (at 2 the kept frequencies {0, -1} are every frequency).
    "a": (24, 32, (0.9, 0.2, 1.3, 1.4)),   # up block 0 at 3x4, up block 1 at 6x8
    "b": (24, 8, (0.9, 0.2, 1.3, 1.4)),    # 3x1 and 6x2: the N = 1 and N = 2 sides
    "c": (24, 8, (1.0, 0.2, 1.1, 1.2)),   # Rerender's example freeu_args [1.1, 1.2, 1.0, 0.2] (s1 = 1)
}


def skip_channels(cfg) -> list[int]:
    """Channels of the down path's skips, in order (conv_in, each resnet, each downsampler)."""
    out = [cfg.block_out_channels[0]]
    for i, c in enumerate(cfg.block_out_channels):
        out += [c] * (cfg.layers_per_block + (1 if i < len(cfg.block_out_channels) - 1 else 0))
    return out


def official_freeu(unet, b1: float, b2: float, s1: float, s2: float):
    """Hooks the up resnets to apply the official FreeU; returns (set_residuals, remove)."""
    stages = sorted(set(unet.config.block_out_channels), reverse=True)[:2]
    factors = dict(zip(stages, [(b1, s1), (b2, s2)]))
    skips = skip_channels(unet.config)
    pending: list = []  # (skip channels, residual or None), consumed from the end like the skips

    def set_residuals(residuals) -> None:
        pending[:] = list(zip(skips, residuals if residuals is not None else [None] * len(skips)))

    def pre_hook(_module, args):
        x, temb = args
        skip_c, residual = pending.pop()
        h, skip = x[:, : x.shape[1] - skip_c], x[:, x.shape[1] - skip_c :]
        if h.shape[1] in factors:
            b, s = factors[h.shape[1]]
            m = h.mean(1, keepdim=True)
            lo, hi = m.amin(dim=(2, 3), keepdim=True), m.amax(dim=(2, 3), keepdim=True)
            m = (m - lo) / (hi - lo)
            half = h.shape[1] // 2
            h = torch.cat([h[:, :half] * ((b - 1) * m + 1), h[:, half:]], dim=1)
            skip = fourier_filter(skip, threshold=1, scale=s)
        if residual is not None:
            skip = skip + residual
        return (torch.cat([h, skip], dim=1), temb)

    handles = [r.register_forward_pre_hook(pre_hook) for blk in unet.up_blocks for r in blk.resnets]

    def remove() -> None:
        assert not pending, "every skip consumed"
        for hd in handles:
            hd.remove()

    return set_residuals, remove


OFFICIAL = {
    # name: (latent case, factors (s1, s2, b1, b2), with ControlNet residuals)
    "official.a": ("a", (0.9, 0.2, 1.3, 1.4), False),
    "official.b": ("b", (0.9, 0.2, 1.3, 1.4), False),
    "official.c": ("c", (1.0, 0.2, 1.1, 1.2), False),
    "official.cn": ("a", (0.9, 0.2, 1.3, 1.4), True),
}


def residuals_for(unet, latent: torch.Tensor, g: torch.Generator) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Random ControlNet residuals shaped like the skips (0.5 * N(0, 1): the size of real ones)."""
    h, w = latent.shape[-2:]
    per = unet.config.layers_per_block + 1
    down = [0.5 * torch.randn(1, c, h >> (i // per), w >> (i // per), generator=g) for i, c in enumerate(skip_channels(unet.config))]
    last = len(unet.config.block_out_channels) - 1
    mid = 0.5 * torch.randn(1, unet.config.block_out_channels[-1], h >> last, w >> last, generator=g)
    return down, mid


def make_official(unet, ehs: torch.Tensor, t: torch.Tensor, latents: dict) -> None:
    g = torch.Generator().manual_seed(7)  # its own generator: the earlier fixtures stay as they were
    for name, (case, (s1, s2, b1, b2), with_res) in OFFICIAL.items():
        latent = latents[case]
        down, mid = residuals_for(unet, latent, g) if with_res else (None, None)
        extra = {"mid_block_additional_residual": mid} if with_res else {}
        unet.enable_freeu(s1=s1, s2=s2, b1=b1, b2=b2)
        diffusers_eps = unet(latent, t, encoder_hidden_states=ehs, down_block_additional_residuals=down, **extra).sample
        unet.disable_freeu()
        set_residuals, remove = official_freeu(unet, b1, b2, s1, s2)
        # Residuals go to the hooks; the UNet, which would add them before the filter, gets zeros
        # (with no down residuals it would drop the mid one too).
        set_residuals(down)
        zeros = [torch.zeros_like(r) for r in down] if with_res else None
        eps = unet(latent, t, encoder_hidden_states=ehs, down_block_additional_residuals=zeros, **extra).sample
        if with_res:
            # The order matters: adding them first (as diffusers does) gives another result.
            set_residuals(None)
            early = unet(latent, t, encoder_hidden_states=ehs, down_block_additional_residuals=down, **extra).sample
            rel = ((eps - early).abs().max() / eps.abs().max()).item()
            assert rel > 1e-3, f"{name}: filtering before the residual changed only {rel}"
        remove()
        rel = ((eps - diffusers_eps).abs().max() / eps.abs().max()).item()
        assert rel > 1e-2, f"{name}: the official variant differs from diffusers' by only {rel}"
        save(f"{name}.out.eps", eps)
        manifest[f"{name}.out.eps"].update(latent=f"{case}.in.latent", timestep=500, freeu={"b1": b1, "b2": b2, "s1": s1, "s2": s2, "variant": "official"})
        if with_res:
            for i, r in enumerate(down):
                save(f"{name}.in.down_res_{i}", r)
            save(f"{name}.in.mid_res", mid)
            save("diffusers.cn.out.eps", diffusers_eps)
            manifest["diffusers.cn.out.eps"].update(latent=f"{case}.in.latent", timestep=500, residuals=name, freeu={"b1": b1, "b2": b2, "s1": s1, "s2": s2})


def main() -> None:
    check_closed_form()
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".bin") or f == "manifest.json":
            os.remove(os.path.join(OUT, f))
    unet = UNet2DConditionModel.from_pretrained(os.path.join(FIX, "tiny-sd", "unet")).eval()
    assert unet.config.up_block_types[0] == "UpBlock2D" and len(unet.up_blocks) == 4
    g = torch.Generator().manual_seed(2024)
    ehs = torch.randn(1, 77, unet.config.cross_attention_dim, generator=g)
    save("in.encoder_hidden_states", ehs)
    t = torch.tensor([500])
    latents = {}
    with torch.no_grad():
        for name, (h, w, (s1, s2, b1, b2)) in CASES.items():
            latent = latents[name] = torch.randn(1, 4, h, w, generator=g)
            save(f"{name}.in.latent", latent)
            unet.disable_freeu()
            plain = unet(latent, t, encoder_hidden_states=ehs).sample
            unet.enable_freeu(s1=s1, s2=s2, b1=b1, b2=b2)
            eps = unet(latent, t, encoder_hidden_states=ehs).sample
            unet.disable_freeu()
            rel = ((eps - plain).abs().max() / plain.abs().max()).item()
            assert rel > 1e-2, f"case {name}: FreeU changed the output by only {rel}"
            save(f"{name}.out.eps", eps)
            manifest[f"{name}.out.eps"]["freeu"] = {"b1": b1, "b2": b2, "s1": s1, "s2": s2}
            manifest[f"{name}.out.eps"]["timestep"] = 500
        make_official(unet, ehs, t, latents)
    with open(os.path.join(OUT, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    print(f"wrote {len(manifest)} tensors to {OUT}")


if __name__ == "__main__":
    main()
