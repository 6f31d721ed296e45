"""Reference of Rerender A Video's key-frame translation (stage 1) on the tiny test models.

Re-implements, with diffusers components (UNet, ControlNet, VAE, DDIM ᾱ), the hierarchical
cross-frame constraints of the paper's official code: cross-frame attention, shape-aware
fusion (warped anchor x̂0), pixel-aware fusion (fused target + fidelity-oriented encoding,
pulled toward in pass B), colour-aware AdaIN and x0_strength. Flows, occlusion masks, control
maps and noise are inputs stored in the fixture so the TypeScript port consumes the same ones.

Run from the repository root:
    tools/reference/.venv/bin/python tools/reference/rerender/make_rerender_refs.py
Writes tests/fixtures/rerender/ (see its README.md for every entry).
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
from diffusers.models.attention_processor import AttnProcessor2_0
from transformers import CLIPTextModel

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from make_fixtures import load_tokenizer, reset_keeping_readmes  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
ENGINE = os.path.join(ROOT, "tests", "fixtures", "engine")
OUT = os.path.join(ROOT, "tests", "fixtures", "rerender")
SCALING = 0.18215
SIZE = 64  # the tiny models' native image size (latent 8×8)

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

manifest: dict = {}


def save(name: str, t) -> None:
    arr = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    arr = np.ascontiguousarray(arr.astype("<f4"))
    fname = name + ".bin"
    arr.tofile(os.path.join(OUT, fname))
    manifest[name] = {"file": fname, "shape": list(arr.shape), "dtype": "float32"}


# ---------------------------------------------------------------- image-space helpers (official semantics)


def gaussian_blur(x: torch.Tensor, ksize: int = 9, sigma: float = 18.0) -> torch.Tensor:
    """torchvision.transforms.GaussianBlur(9, 18) on [..., H, W]: normalised 1-D Gaussian, reflect padding."""
    half = (ksize - 1) * 0.5
    pdf = torch.exp(-0.5 * (torch.linspace(-half, half, ksize, device=x.device) / sigma) ** 2)
    k1 = pdf / pdf.sum()
    k2 = torch.outer(k1, k1)[None, None].to(x.dtype)
    shape = x.shape
    y = x.reshape(-1, 1, shape[-2], shape[-1])
    y = F.pad(y, (ksize // 2,) * 4, mode="reflect")
    return F.conv2d(y, k2).reshape(shape)


def flow_warp(img: torch.Tensor, flow: torch.Tensor, mode: str) -> torch.Tensor:
    """out(p) = img(p + flow(p)), grid_sample with align_corners=True, zero padding."""
    _, _, h, w = img.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=img.device), torch.arange(w, device=img.device), indexing="ij")
    # the grid is built in float32 (pixel coordinates lose their fraction in float16) and cast to
    # img's dtype, which grid_sample requires
    gx = 2 * (xs.float()[None] + flow[:, 0]) / (w - 1) - 1
    gy = 2 * (ys.float()[None] + flow[:, 1]) / (h - 1) - 1
    grid = torch.stack([gx, gy], dim=-1).to(img.dtype)
    return F.grid_sample(img, grid, mode=mode, padding_mode="zeros", align_corners=True)


def dilate_blur(occ: torch.Tensor) -> torch.Tensor:
    """clamp(blur(maxpool9(occ)) + occ, 0, 1): the official soft occlusion mask ([1, H, W])."""
    return torch.clamp(gaussian_blur(F.max_pool2d(occ, kernel_size=9, stride=1, padding=4)) + occ, 0, 1)


def find_flat_region(mask: torch.Tensor) -> torch.Tensor:
    """1 where the 3×3 Prewitt gradients of the mask (replicate padding) are both zero."""
    kx = torch.tensor([[-1.0, 0, 1], [-1, 0, 1], [-1, 0, 1]], device=mask.device, dtype=mask.dtype)[None, None]
    ky = torch.tensor([[-1.0, -1, -1], [0, 0, 0], [1, 1, 1]], device=mask.device, dtype=mask.dtype)[None, None]
    m = F.pad(mask.unsqueeze(0), (1, 1, 1, 1), mode="replicate")
    return ((F.conv2d(m, kx).abs() + F.conv2d(m, ky).abs()) == 0).to(mask.dtype)[0]


def calc_mean_std(x: torch.Tensor, eps: float = 1e-5):
    n, c = x.shape[:2]
    var = x.view(n, c, -1).var(dim=2) + eps  # unbiased, as the official calc_mean_std
    return x.view(n, c, -1).mean(dim=2).view(n, c, 1, 1), var.sqrt().view(n, c, 1, 1)


# ---------------------------------------------------------------- models


class Hooked(AttnProcessor2_0):
    """Decoder self-attention whose key/value source can be recorded and replaced.

    state["record"]: dict to fill with {(branch, layer): normed hidden states}; state["kv"]: dict
    {(branch, layer): replacement K/V source} (absent: the layer's own input).
    """

    def __init__(self, name: str, state: dict):
        super().__init__()
        self.name = name
        self.state = state

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        key = (self.state["branch"], self.name)
        if self.state["record"] is not None:
            self.state["record"][key] = hidden_states.detach().clone()
        ctx = self.state["kv"].get(key, hidden_states)
        b, n, _ = hidden_states.shape
        q = attn.to_q(hidden_states)
        k = attn.to_k(ctx)
        v = attn.to_v(ctx)
        d = q.shape[-1] // attn.heads
        q, k, v = (t.view(b, -1, attn.heads, d).transpose(1, 2) for t in (q, k, v))
        o = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, -1)
        return attn.to_out[1](attn.to_out[0](o))


class Models:
    """The components with the decoder self-attention hooked. Takes built modules (already on their
    device and dtype) so other models than the tiny fixtures can run the same functions (see
    bench/rerender/diffusers_keyframe.py); alphas: the DDIM ᾱ table (CPU float32)."""

    def __init__(self, unet, controlnet, vae, te, tok, alphas: torch.Tensor):
        self.unet = unet.eval()
        self.controlnet = controlnet.eval()
        self.vae = vae.eval()
        self.te = te.eval()
        self.tok = tok
        self.alphas = alphas
        self.state = {"branch": 0, "record": None, "kv": {}}
        attn1 = [n[: -len(".processor")] for n in self.unet.attn_processors if n.endswith("attn1.processor")]
        self.decoder = [n for n in attn1 if n.startswith("up_blocks.")]
        # loose: the 640/320-channel SD 1.5 decoder blocks = every decoder block after the deepest one with attention
        deepest = min(int(n.split(".")[1]) for n in self.decoder)
        self.loose = [n for n in self.decoder if int(n.split(".")[1]) != deepest]
        procs = {}
        for n in self.unet.attn_processors:
            layer = n[: -len(".processor")]
            procs[n] = Hooked(layer, self.state) if layer in self.decoder else AttnProcessor2_0()
        self.unet.set_attn_processor(procs)

    @classmethod
    def tiny(cls) -> "Models":
        """The tiny test models of tests/fixtures/engine."""
        from diffusers import DDIMScheduler

        sd = os.path.join(ENGINE, "tiny-sd")
        return cls(
            UNet2DConditionModel.from_pretrained(os.path.join(sd, "unet")),
            ControlNetModel.from_pretrained(os.path.join(ENGINE, "tiny-controlnet")),
            AutoencoderKL.from_pretrained(os.path.join(sd, "vae")),
            CLIPTextModel.from_pretrained(os.path.join(sd, "text_encoder")),
            load_tokenizer(os.path.join(sd, "tokenizer")),
            DDIMScheduler.from_pretrained(os.path.join(sd, "scheduler")).alphas_cumprod,
        )

    def text(self, prompt: str) -> torch.Tensor:
        ids = self.tok(prompt, padding="max_length", max_length=77, truncation=True, return_tensors="pt")["input_ids"]
        return self.te(ids.to(self.te.device)).last_hidden_state

    def encode(self, img: torch.Tensor) -> torch.Tensor:
        """E(x): the posterior mean × scaling (the official samples; we use the mean, see README)."""
        return self.vae.encode(img).latent_dist.mean * SCALING

    def decode(self, lat: torch.Tensor) -> torch.Tensor:
        return self.vae.decode(lat / SCALING).sample


# ---------------------------------------------------------------- the sampler with Rerender's hooks


def timesteps(steps: int) -> list[int]:
    ratio = 1000 // steps
    return [i * ratio + 1 for i in reversed(range(steps))]


def in_period(i: int, steps: int, period) -> bool:
    return steps * period[0] <= i <= steps * period[1]


def in_mask_period(i: int, steps: int, period) -> bool:
    return steps * period[0] < i < steps * period[1]


class Store:
    """What the anchor and the previous key frame leave for later ones."""

    def __init__(self):
        self.first = {}  # (step, branch, layer) -> context
        self.previous = {}
        self.x0 = {}  # step -> anchor's x̂0 (after its own hooks: none for the anchor)
        self.ada = {}  # step -> (mean, std)


def sample(m: Models, cfg: dict, x0_lat, control, emb_u, emb_c, noise: dict, store: Store, role: str, warp=None, target=None, update_style=False):
    """One pass of the sampler. role: 'anchor' (records everything) or 'later' (uses the store)."""
    steps = cfg["steps"]
    ts = timesteps(steps)
    a = m.alphas
    x0s = cfg["x0_strength"]
    if x0s < 0:
        start, img = 0, noise["xT"].clone()
    else:
        start = int(steps * (1 - x0s))
        t0 = ts[start]
        img = a[t0].sqrt() * x0_lat + (1 - a[t0]).sqrt() * noise["x0"]
    layers = m.loose if cfg["loose_cfattn"] else m.decoder
    dir_xt = torch.zeros_like(img)
    for i in range(start, steps):
        t = ts[i]
        at = a[t]
        ap = a[t - 1000 // steps] if t - 1000 // steps >= 0 else a[0]
        if target is not None and in_mask_period(i, steps, cfg["mask_period"]):
            w = target["mask"] * cfg["mask_strength"]
            rescale = torch.maximum(1 - w, (1 - w**2) ** 0.5 * cfg["inner_strength"])
            nr = target["noise_rescale"]
            rescale = (1 - w) * (1 - nr) + rescale * nr
            ref = at.sqrt() * target["xtrg"] + (1 - at).sqrt() * noise["mask"][i]
            img = ref * w + (1 - w) * (img - dir_xt) + rescale * dir_xt
        eps = []
        for branch, emb in ((0, emb_u), (1, emb_c)):
            kv = {}
            record = None
            if cfg["cross_frame"]:
                if role == "anchor" or update_style:
                    record = {}
                if role == "later" and in_period(i, steps, cfg["cross_period"]):
                    for layer in layers:
                        kv[(branch, layer)] = torch.cat([store.first[(i, branch, layer)], store.previous[(i, branch, layer)]], dim=1)
            m.state.update(branch=branch, record=record, kv=kv)
            d, mid = m.controlnet(img, t, encoder_hidden_states=emb, controlnet_cond=control, conditioning_scale=cfg["control_strength"], return_dict=False)
            eps.append(m.unet(img, t, encoder_hidden_states=emb, down_block_additional_residuals=d, mid_block_additional_residual=mid).sample)
            if record is not None:
                for layer in layers:
                    if role == "anchor":
                        store.first[(i, branch, layer)] = record[(branch, layer)]
                    store.previous[(i, branch, layer)] = record[(branch, layer)]
            m.state.update(record=None, kv={})
        e = eps[0] + cfg["scale"] * (eps[1] - eps[0])
        x0 = (img - (1 - at).sqrt() * e) / at.sqrt()
        if role == "anchor":
            store.x0[i] = x0.clone()
            store.ada[i] = calc_mean_std(x0)
        else:
            if cfg["ada"] and in_period(i, steps, cfg["ada_period"]):
                mean, std = store.ada[i]
                x0 = F.instance_norm(x0) * std + mean
            if warp is not None and in_period(i, steps, cfg["warp_period"]):
                x0 = flow_warp(store.x0[i], warp["flow"], "nearest") * warp["mask"] + (1 - warp["mask"]) * x0
        dir_xt = (1 - ap).sqrt() * e
        img = ap.sqrt() * x0 + dir_xt
    return img


def pixel_fusion(m: Models, cfg: dict, direct, pre_result, first_result, flow_pre, occ_pre, flow_0, occ_0) -> dict:
    """Pixel-aware fusion: fused image, its fidelity-oriented latent and the pass-B masks."""
    warped_pre = flow_warp(pre_result, flow_pre, "bilinear")
    warped_0 = flow_warp(first_result, flow_0, "bilinear")
    bm_pre = dilate_blur(occ_pre)
    bm_0 = dilate_blur(occ_0)
    fused = (1 - bm_pre) * warped_pre + bm_pre * direct
    fused = (1 - bm_0) * warped_0 + bm_0 * fused
    both = 1 - torch.clamp(1 - occ_pre + 1 - occ_0, 0, 1)
    blend_mask = 1 - dilate_blur(both)
    xtrg = m.encode(fused)
    xtrg_rec = m.encode(m.decode(xtrg))
    rec_new = m.decode(xtrg + (xtrg - xtrg_rec))
    # masks keep the images' dtype so that float16 latents stay float16
    worse = ((rec_new - fused).abs().mean(dim=1, keepdim=True) > cfg["fidelity_threshold"]).to(fused.dtype)
    mask_x = F.max_pool2d((F.interpolate(worse, scale_factor=1 / 8, mode="bilinear") > 0).to(fused.dtype), kernel_size=3, stride=1, padding=1)
    mask = 1 - F.max_pool2d(1 - blend_mask, kernel_size=8)
    nr = find_flat_region(mask) if cfg["smooth_boundary"] else torch.ones_like(mask)
    xtrg = (xtrg + (1 - mask_x) * (xtrg - xtrg_rec)) * mask
    return {"fused": fused, "xtrg": xtrg, "mask": mask, "mask_x": mask_x, "noise_rescale": nr}


@torch.no_grad()
def translate(m: Models, cfg: dict, inputs: dict, prefix: str) -> None:
    emb_c = m.text(cfg["prompt"] + ", " + cfg["a_prompt"] if cfg["a_prompt"] else cfg["prompt"])
    emb_u = m.text(cfg["n_prompt"])
    noise = inputs["noise"]
    frames = inputs["frames"][: cfg["frames"]]
    store = Store()
    x0_lat = m.encode(frames[0])
    lat = sample(m, cfg, x0_lat, inputs["controls"][0], emb_u, emb_c, noise, store, "anchor")
    first_result = m.decode(lat)
    pre_result = first_result
    save(f"{prefix}.0.out.latent", lat)
    save(f"{prefix}.0.out.image", first_result)
    for k in range(1, len(frames)):
        x0_lat = m.encode(frames[k])
        flow_0, occ_0 = inputs["flow_0"][k], inputs["occ_0"][k]
        flow_pre, occ_pre = inputs["flow_pre"][k], inputs["occ_pre"][k]
        warp = None
        if cfg["warp"]:
            warp = {
                "flow": F.interpolate(flow_0 / 8.0, scale_factor=1 / 8, mode="bilinear"),
                "mask": 1 - F.max_pool2d(dilate_blur(occ_0), kernel_size=8),
            }
        update = (k - 1) % cfg["style_update_every"] == 0
        control = inputs["controls"][k]
        lat_a = sample(m, cfg, x0_lat, control, emb_u, emb_c, noise, store, "later", warp, update_style=update and not cfg["pixel"])
        direct = m.decode(lat_a)
        save(f"{prefix}.{k}.passA.latent", lat_a)
        if cfg["pixel"]:
            tgt = pixel_fusion(m, cfg, direct, pre_result, first_result, flow_pre, occ_pre, flow_0, occ_0)
            save(f"{prefix}.{k}.fusion.image", tgt["fused"])
            for name in ("xtrg", "mask", "mask_x", "noise_rescale"):
                save(f"{prefix}.{k}.fusion.{name}", tgt[name])
            lat = sample(m, cfg, x0_lat, control, emb_u, emb_c, noise, store, "later", warp, target=tgt, update_style=update)
            result = m.decode(lat)
            save(f"{prefix}.{k}.passB.latent", lat)
        else:
            lat, result = lat_a, direct
        save(f"{prefix}.{k}.out.image", result)
        pre_result = result


# ---------------------------------------------------------------- inputs


def make_inputs(g: torch.Generator, n_frames: int) -> dict:
    """A smooth random texture panned across n frames; flows are exact to the pan plus a smooth
    wobble (so the latent flow is not constant), occlusions are the out-of-frame border plus a
    synthetic occluded blob per frame."""
    big = F.interpolate(torch.rand(1, 3, 12, 12, generator=g), size=(SIZE + 48, SIZE + 48), mode="bicubic", align_corners=False)
    big = big.clamp(0, 1)
    offsets = [(10, 12), (16, 15), (21, 17), (27, 20)][:n_frames]
    frames, controls = [], []
    for ox, oy in offsets:
        crop = big[:, :, oy : oy + SIZE, ox : ox + SIZE]
        frames.append((torch.round(crop * 255) / 127.5 - 1).clone())
        controls.append(torch.rand(1, 3, SIZE, SIZE, generator=g))
    ys, xs = torch.meshgrid(torch.arange(SIZE).float(), torch.arange(SIZE).float(), indexing="ij")

    def flow_between(a: int, b: int, phase: float):
        dx = offsets[b][0] - offsets[a][0] + 0.6 * torch.sin(ys / 9 + phase)
        dy = offsets[b][1] - offsets[a][1] + 0.4 * torch.cos(xs / 11 + phase)
        flow = torch.stack([dx, dy])[None]
        sx, sy = xs + dx, ys + dy
        occ = ((sx < 0) | (sx > SIZE - 1) | (sy < 0) | (sy > SIZE - 1)).float()
        cx, cy = 20 + 9 * b + 3 * a, 36 - 5 * b
        occ = torch.maximum(occ, (((xs - cx) ** 2 + (ys - cy) ** 2) < 36).float())
        return flow, occ[None]

    flow_0, occ_0, flow_pre, occ_pre = [None], [None], [None], [None]
    for k in range(1, n_frames):
        f, o = flow_between(0, k, 0.3 * k)
        flow_0.append(f)
        occ_0.append(o)
        if k == 1:
            f, o = f.clone(), o.clone()
        else:
            f, o = flow_between(k - 1, k, 1.1 * k)
        flow_pre.append(f)
        occ_pre.append(o)
    noise = {
        "xT": torch.randn(1, 4, 8, 8, generator=g),
        "x0": torch.randn(1, 4, 8, 8, generator=g),
        "mask": [torch.randn(1, 4, 8, 8, generator=g) for _ in range(STEPS)],
    }
    return {"frames": frames, "controls": controls, "flow_0": flow_0, "occ_0": occ_0, "flow_pre": flow_pre, "occ_pre": occ_pre, "noise": noise}


STEPS = 10
BASE = {
    "prompt": "a watercolor painting of a fox in the snow",
    "a_prompt": "best quality",
    "n_prompt": "blurry, low quality, ugly",
    "steps": STEPS,
    "scale": 7.5,
    "control_strength": 0.9,
    "x0_strength": -1,
    "frames": 3,
    "cross_frame": True,
    "cross_period": [0, 1],
    "loose_cfattn": False,
    "style_update_every": 1,
    "warp": True,
    "warp_period": [0, 0.1],
    "pixel": True,
    "mask_period": [0.5, 0.8],
    "mask_strength": 0.5,
    "inner_strength": 0.9,
    "smooth_boundary": True,
    "fidelity_threshold": 0.25,
    "ada": True,
    "ada_period": [0.8, 1],
}
OFF = {"cross_frame": False, "warp": False, "pixel": False, "ada": False}
SCENARIOS = {
    "full": {},
    "cross": {**OFF, "cross_frame": True},
    "shape": {**OFF, "warp": True},
    "pixel": {**OFF, "pixel": True, "fidelity_threshold": 0.9},
    "ada": {**OFF, "ada": True},
    "variant": {
        "frames": 4,
        "loose_cfattn": True,
        "style_update_every": 2,
        "x0_strength": 0.85,
        "cross_period": [0.2, 0.9],
        "warp_period": [0, 0.3],
        "mask_period": [0.3, 0.9],
        "mask_strength": 0.7,
        "inner_strength": 0.8,
        "smooth_boundary": False,
        "ada_period": [0.6, 0.9],
    },
    # Every constraint at 5 steps (warp at step 0, pixel-aware fusion at 3, AdaIN at 4): the WebGPU
    # test lane's translation, small enough for a software adapter.
    "lane": {"steps": 5},
}


def main() -> None:
    reset_keeping_readmes(OUT)
    g = torch.Generator().manual_seed(2023)
    inputs = make_inputs(g, 4)
    for k, fr in enumerate(inputs["frames"]):
        save(f"in.frame.{k}", fr)
        save(f"in.control.{k}", inputs["controls"][k])
        if k > 0:
            for name in ("flow_0", "occ_0", "flow_pre", "occ_pre"):
                save(f"in.{name}.{k}", inputs[name][k])
    save("in.noise.xT", inputs["noise"]["xT"])
    save("in.noise.x0", inputs["noise"]["x0"])
    for i, n in enumerate(inputs["noise"]["mask"]):
        save(f"in.noise.mask.{i}", n)
    m = Models.tiny()
    configs = {}
    for name, over in SCENARIOS.items():
        cfg = {**BASE, **over}
        configs[name] = cfg
        translate(m, cfg, inputs, name)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(OUT, "scenarios.json"), "w") as f:
        json.dump({"layers": {"decoder": m.decoder, "loose": m.loose}, "scenarios": configs}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"rerender references written to {OUT}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
