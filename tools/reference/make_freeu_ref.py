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
"""

import json
import math
import os

import numpy as np
import torch

from diffusers import UNet2DConditionModel
from diffusers.utils.torch_utils import fourier_filter

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(ROOT, "tests", "fixtures", "engine")
OUT = os.path.join(FIX, "freeu")

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

manifest: dict = {}


def save(name: str, t: torch.Tensor) -> None:
    arr = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
    fname = name + ".bin"
    arr.tofile(os.path.join(OUT, fname))
    manifest[name] = {"file": fname, "shape": list(arr.shape), "dtype": "float32"}


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
    "a": (40, 48, (0.9, 0.2, 1.3, 1.4)),   # up block 0 at 5x6, up block 1 at 10x12
    "b": (24, 8, (0.9, 0.2, 1.3, 1.4)),    # 3x1 and 6x2: the N = 1 and N = 2 sides
    "c": (40, 48, (1.0, 0.2, 1.1, 1.2)),   # Rerender's example freeu_args [1.1, 1.2, 1.0, 0.2] (s1 = 1)
}


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
    with torch.no_grad():
        for name, (h, w, (s1, s2, b1, b2)) in CASES.items():
            latent = torch.randn(1, 4, h, w, generator=g)
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
    with open(os.path.join(OUT, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    print(f"wrote {len(manifest)} tensors to {OUT}")


if __name__ == "__main__":
    main()
