"""Diffusers-side counterpart of `npm run bench:rerender` (bench/rerender/run.ts).

Builds the FULL-SIZE SD 1.5 UNet, ControlNet, VAE and CLIP text encoder with random weights (speed
and memory do not depend on the weights; nothing is downloaded) and runs an anchor key frame and
one later key frame with every constraint on, through the reference implementation's own sampler
and fusion (tools/reference/rerender/make_rerender_refs.py), so the work is the same algorithm as
ours. Prints the seconds of each key frame and, on CUDA, the peak GPU memory of each (on CPU, the
peak resident memory of the process), then one line of JSON with the same figures.

    tools/reference/.venv/bin/python bench/rerender/diffusers_keyframe.py [--size 512] [--steps 20]
        [--device cuda|cpu] [--dtype fp16|fp32] [--warmup | --no-warmup] [--step-bench N] [--tiny]

--step-bench N also times N plain UNet + ControlNet steps at batch 2 (the CFG pair in one batch, as
our pipeline runs it) and reports their median (bench/gpu compares it with ours). --tiny runs the
tiny fixture models of tests/fixtures/engine instead (bench/gpu's plumbing smoke test).
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, ControlNetModel, DDIMScheduler, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference", "rerender"))
THREADS = torch.get_num_threads()
import make_rerender_refs as ref  # noqa: E402  (puts tools/reference on sys.path too)
from make_fixtures import load_tokenizer, write_tokenizer_files  # noqa: E402

# The reference scripts pin 2 threads and deterministic kernels so fixtures are reproducible; a
# benchmark wants neither (and deterministic mode makes cuBLAS refuse to run unconfigured).
torch.set_num_threads(THREADS)
torch.use_deterministic_algorithms(False)

# SD 1.5's configs, as src-main/engine/pipeline/sd15-configs.ts gives them to our side.
UNET = dict(
    in_channels=4,
    out_channels=4,
    block_out_channels=(320, 640, 1280, 1280),
    layers_per_block=2,
    down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    cross_attention_dim=768,
    attention_head_dim=8,
    norm_num_groups=32,
    norm_eps=1e-5,
    use_linear_projection=False,
    flip_sin_to_cos=True,
    freq_shift=0,
)
CONTROLNET = {k: v for k, v in UNET.items() if k not in ("out_channels", "up_block_types")} | dict(
    conditioning_channels=3, conditioning_embedding_out_channels=(16, 32, 96, 256)
)
VAE = dict(
    in_channels=3,
    out_channels=3,
    latent_channels=4,
    block_out_channels=(128, 256, 512, 512),
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
    layers_per_block=2,
    norm_num_groups=32,
    scaling_factor=ref.SCALING,
)
TEXT = dict(
    hidden_size=768,
    intermediate_size=3072,
    num_hidden_layers=12,
    num_attention_heads=12,
    max_position_embeddings=77,
    vocab_size=49408,
    hidden_act="quick_gelu",
    layer_norm_eps=1e-5,
)
GIB = 2**30


def rerender_config(steps: int) -> dict:
    """resolveRerenderConfig({ steps })'s defaults (src-main/rerender/config.ts) in the reference's keys:
    the reference scenarios' base with every constraint on, at full control strength, empty prompts."""
    cfg = {k: v for k, v in ref.BASE.items() if k != "frames"}
    cfg.update(prompt="", a_prompt="", n_prompt="", steps=steps, control_strength=1.0)
    return cfg


def build(device: str, dtype: torch.dtype, seed: int = 0) -> ref.Models:
    torch.manual_seed(seed)
    # initialise on the target device: the random init of ~1.4 G parameters is slow on a CPU
    with torch.device(device):
        parts = {
            "unet": UNet2DConditionModel(**UNET),
            "controlnet": ControlNetModel(**CONTROLNET),
            "vae": AutoencoderKL(**VAE),
            "text": CLIPTextModel(CLIPTextConfig(**TEXT)),
        }
    for name, mod in parts.items():
        print(f"  {name}: {sum(p.numel() for p in mod.parameters()) / 1e6:.1f} M parameters")
        if dtype == torch.float16:
            mod.half()  # not .to(dtype): diffusers' to() warns of float32-kept modules even when there are none
    with tempfile.TemporaryDirectory() as d:
        # the full CLIP BPE vocabulary from assets/clip, built as make_fixtures.py builds its real tokenizer
        write_tokenizer_files(d, 49152 - 256 - 2)
        tok = load_tokenizer(d)
    alphas = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear").alphas_cumprod
    return ref.Models(parts["unet"], parts["controlnet"], parts["vae"], parts["text"], tok, alphas)


def tiny(device: str, dtype: torch.dtype) -> ref.Models:
    """The tiny fixture models (tests/fixtures/engine), on `device` in `dtype`."""
    m = ref.Models.tiny()
    for mod in (m.unet, m.controlnet, m.vae, m.te):
        mod.to(device=device, dtype=dtype)
    return m


def step_seconds(m: ref.Models, size: int, n: int, device: str, dtype: torch.dtype) -> float:
    """Median seconds of one plain ControlNet + UNet evaluation at batch 2 (after one untimed)."""
    lat = torch.randn(2, 4, size // 8, size // 8, device=device, dtype=dtype)
    cond = torch.rand(2, 3, size, size, device=device, dtype=dtype)
    ehs = torch.cat([m.text(""), m.text("")])
    times = []
    for i in range(n + 1):
        t = torch.tensor(999 - 50 * (i % 20), device=device)
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        down, mid = m.controlnet(lat, t, encoder_hidden_states=ehs, controlnet_cond=cond, return_dict=False)
        m.unet(lat, t, encoder_hidden_states=ehs, down_block_additional_residuals=down, mid_block_additional_residual=mid)
        if device == "cuda":
            torch.cuda.synchronize()
        if i > 0:
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def synthetic_inputs(size: int, steps: int, device: str, dtype: torch.dtype, seed: int = 0) -> dict:
    """run.ts's synthetic pattern: two frames of a gradient 6 pixels apart, so the flow is constant."""
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")

    def frame(shift: int) -> torch.Tensor:
        rgb = torch.stack([((xs + shift) * 3) % 256, (ys * 5) % 256, ((xs + ys) * 2) % 256])
        return rgb[None].float() / 127.5 - 1

    frames = [frame(0), frame(6)]
    # frame 1 at p is the anchor at p + (6, 0) (flow_warp: out(p) = img(p + flow(p))); what that
    # takes from beyond the anchor's right edge is occluded
    flow = torch.zeros(1, 2, size, size)
    flow[:, 0] = 6
    occ = (xs + 6 > size - 1).float()[None]
    g = torch.Generator().manual_seed(seed)
    lat = (1, 4, size // 8, size // 8)
    noise = {"xT": torch.randn(lat, generator=g), "x0": torch.randn(lat, generator=g), "mask": [torch.randn(lat, generator=g) for _ in range(steps)]}
    to = lambda t: t.to(device=device, dtype=dtype)  # noqa: E731
    return {
        "frames": [to(f) for f in frames],
        # the frames stand in for Canny maps: the ControlNet's cost does not depend on its input
        "controls": [to((f + 1) / 2) for f in frames],
        "flow": to(flow),
        "occ": to(occ),
        "noise": {"xT": to(noise["xT"]), "x0": to(noise["x0"]), "mask": [to(n) for n in noise["mask"]]},
    }


def anchor(m: ref.Models, cfg: dict, inp: dict, store: ref.Store):
    """Key frame 0 as ref.translate runs it (prompts encoded here, as our pipeline does per run)."""
    embs = (m.text(cfg["n_prompt"]), m.text(cfg["prompt"]))
    x0_lat = m.encode(inp["frames"][0])
    lat = ref.sample(m, cfg, x0_lat, inp["controls"][0], *embs, inp["noise"], store, "anchor")
    return m.decode(lat), embs


def later(m: ref.Models, cfg: dict, inp: dict, store: ref.Store, embs, first: torch.Tensor) -> torch.Tensor:
    """Key frame 1 as ref.translate runs it: pass A, pixel-aware fusion, pass B (previous = anchor)."""
    flow, occ, control = inp["flow"], inp["occ"], inp["controls"][1]
    x0_lat = m.encode(inp["frames"][1])
    warp = {"flow": F.interpolate(flow / 8.0, scale_factor=1 / 8, mode="bilinear"), "mask": 1 - F.max_pool2d(ref.dilate_blur(occ), kernel_size=8)}
    lat_a = ref.sample(m, cfg, x0_lat, control, *embs, inp["noise"], store, "later", warp)
    tgt = ref.pixel_fusion(m, cfg, m.decode(lat_a), first, first, flow, occ, flow, occ)
    lat = ref.sample(m, cfg, x0_lat, control, *embs, inp["noise"], store, "later", warp, target=tgt, update_style=True)
    return m.decode(lat)


def timed(device: str, fn):
    """(result, seconds, peak memory in GiB): per call on CUDA; on CPU the process's peak RSS so far."""
    cuda = device == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    out = fn()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    if cuda:
        mem = {"max_allocated_gib": torch.cuda.max_memory_allocated() / GIB, "max_reserved_gib": torch.cuda.max_memory_reserved() / GIB}
    else:
        mem = {"peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB}  # ru_maxrss is in KiB on Linux
    return out, seconds, mem


def store_gib(store: ref.Store) -> float:
    """Bytes of the stored self-attention contexts (anchor and previous share tensors after the anchor)."""
    seen = {t.data_ptr(): t.numel() * t.element_size() for t in [*store.first.values(), *store.previous.values()]}
    return sum(seen.values()) / GIB


def fmt(mem: dict) -> str:
    if "peak_rss_gib" in mem:
        return f"peak RSS of the process {mem['peak_rss_gib']:.2f} GiB"
    return f"peak GPU memory allocated {mem['max_allocated_gib']:.2f} GiB, reserved {mem['max_reserved_gib']:.2f} GiB"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", choices=("fp16", "fp32"), help="default: fp16 on cuda, fp32 on cpu")
    p.add_argument("--warmup", action=argparse.BooleanOptionalAction, help="run the anchor once untimed first (default: on for cuda)")
    p.add_argument("--step-bench", type=int, default=0, metavar="N", help="also time N plain UNet + ControlNet steps at batch 2 (median)")
    p.add_argument("--tiny", action="store_true", help="the tiny fixture models instead of full-size random ones")
    a = p.parse_args()
    if a.size % 64:
        p.error("--size must be a multiple of 64 (the UNet halves the size/8 latent three times)")
    dtype_name = a.dtype or ("fp16" if a.device == "cuda" else "fp32")
    dtype = torch.float16 if dtype_name == "fp16" else torch.float32
    warmup = a.warmup if a.warmup is not None else a.device == "cuda"
    gpu = torch.cuda.get_device_name() if a.device == "cuda" else None
    print(f"Rerender key frames (diffusers reference): FULL-SIZE SD 1.5 + ControlNet (random weights), {a.size}×{a.size}, {a.steps} steps, all constraints, {dtype_name} on {gpu or 'cpu'} ({torch.get_num_threads()} threads)")

    with torch.inference_mode():
        t0 = time.perf_counter()
        m = tiny(a.device, dtype) if a.tiny else build(a.device, dtype)
        inp = synthetic_inputs(a.size, a.steps, a.device, dtype)
        cfg = rerender_config(a.steps)
        build_s = time.perf_counter() - t0
        print(f"models built in {build_s:.1f} s" + (f"; weights {torch.cuda.memory_allocated() / GIB:.2f} GiB on the GPU" if gpu else ""))
        if warmup:
            _, s, _ = timed(a.device, lambda: anchor(m, cfg, inp, ref.Store()))
            print(f"warm-up anchor (untimed): {s:.1f} s")
        store = ref.Store()
        (first, embs), anchor_s, anchor_mem = timed(a.device, lambda: anchor(m, cfg, inp, store))
        print(f"anchor key frame: {anchor_s:.2f} s; {fmt(anchor_mem)}")
        result, later_s, later_mem = timed(a.device, lambda: later(m, cfg, inp, store, embs, first))
        print(f"later key frame (pass A + fusion + pass B): {later_s:.2f} s; {fmt(later_mem)}")
        ctx = store_gib(store)
        print(f"stored contexts (anchor + previous): {ctx:.2f} GiB")
        finite = bool(torch.isfinite(result).all())
        step_s = step_seconds(m, a.size, a.step_bench, a.device, dtype) if a.step_bench > 0 else None
        if step_s is not None:
            print(f"UNet + ControlNet step (batch 2, median of {a.step_bench}): {step_s:.3f} s")

    report = {"bench": "rerender-diffusers-keyframe", "size": a.size, "steps": a.steps, "device": a.device, "gpu": gpu, "dtype": dtype_name, "warmup": warmup}
    report |= {"tiny": a.tiny, "build_s": round(build_s, 3), "step_s": None if step_s is None else round(step_s, 4)}
    report |= {"anchor_s": round(anchor_s, 3), "later_s": round(later_s, 3), "stored_contexts_gib": round(ctx, 3), "output_finite": finite}
    report |= {f"anchor_{k}": round(v, 3) for k, v in anchor_mem.items()} | {f"later_{k}": round(v, 3) for k, v in later_mem.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
