"""Torch side of bench/cpu-vs-torch/run.ts: diffusers on the torch CPU backend.

Builds UNet2DConditionModel, ControlNetModel and AutoencoderKL from the config.json files the Node
side wrote (SD 1.5's) and loads the SAME random weights from its safetensors files, so both sides
run identical math. Then it serves one op per request so the Node side can interleave rounds:

    stdin  (one JSON object a line): {"op": "step" | "encode" | "decode"} or {"op": "save", "path": P}
    stdout (one JSON object a line): {"ok": true, "ms": float, "cpu_ms": float, "rss_kb": int} or {"ok": false, "error": str}

Only the timed call is inside the timer; inputs are made once at start from the shared inputs file.
Logs go to stderr. Exit code 3 means torch/diffusers are missing (the Node side reports ours only).

    python3 bench/cpu-vs-torch/torch_side.py --weights DIR --inputs FILE [--threads N]
"""

import argparse
import json
import os
import resource
import sys
import time

try:
    import torch
    from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
    from safetensors.torch import load_file, save_file
except ImportError as err:  # tooling only: the Node side reports our figures alone
    print(json.dumps({"ok": False, "error": f"missing Python package: {err.name}"}), flush=True)
    sys.exit(3)


def log(msg: str) -> None:
    print(f"[torch] {msg}", file=sys.stderr, flush=True)


def rss_kb() -> int:
    # Linux reports ru_maxrss in KiB: the peak resident set of this process so far.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def build(cls, folder: str):
    """The model from the folder's config, holding the folder's weights (no second random copy)."""
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    weights = load_file(os.path.join(folder, "diffusion_pytorch_model.safetensors"))
    # load_file hands out views of a file mapping: pages the kernel may drop under memory pressure
    # and read again mid-run. Copy each into ordinary memory, as from_pretrained's copy would.
    for name in list(weights):
        weights[name] = weights[name].clone()
    try:
        # Built on the meta device, then given the loaded tensors: peak memory is one copy.
        with torch.device("meta"):
            model = cls.from_config(config)
        model.load_state_dict(weights, strict=True, assign=True)
    except (RuntimeError, NotImplementedError, TypeError) as err:
        log(f"{cls.__name__}: meta-device build failed ({err}); building in memory")
        model = cls.from_config(config)
        model.load_state_dict(weights, strict=True)
    return model.eval().requires_grad_(False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    unet = build(UNet2DConditionModel, os.path.join(args.weights, "unet"))
    controlnet = build(ControlNetModel, os.path.join(args.weights, "controlnet"))
    vae = build(AutoencoderKL, os.path.join(args.weights, "vae"))
    x = load_file(args.inputs)
    t = x["timestep"][0]
    scaling = vae.config.scaling_factor

    def step():
        down, mid = controlnet(x["sample"], t, x["encoder_hidden_states"], controlnet_cond=x["controlnet_cond"],
                               conditioning_scale=1.0, return_dict=False)
        noise = unet(x["sample"], t, x["encoder_hidden_states"], down_block_additional_residuals=down,
                     mid_block_additional_residual=mid, return_dict=False)[0]
        return {"noise_pred": noise}

    def encode():
        # Our encoder graph returns the moments (mean ‖ logvar); sampling is the caller's.
        return {"moments": vae.quant_conv(vae.encoder(x["image"]))}

    def decode():
        # Our decoder graph takes latents in UNet space and applies 1/scaling inside.
        return {"image": vae.decode(x["latents"] / scaling, return_dict=False)[0]}

    ops = {"step": step, "encode": encode, "decode": decode}
    last = {}
    print(json.dumps({"ok": True, "ready": True, "rss_kb": rss_kb(), "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["op"] == "save":
                save_file({k: v.contiguous() for k, v in last.items()}, req["path"])
                print(json.dumps({"ok": True}), flush=True)
                continue
            fn = ops[req["op"]]
            with torch.inference_mode():
                t0, c0 = time.perf_counter(), time.process_time()
                out = fn()
                ms = (time.perf_counter() - t0) * 1000
                cpu_ms = (time.process_time() - c0) * 1000
            last.update(out)
            print(json.dumps({"ok": True, "ms": ms, "cpu_ms": cpu_ms, "rss_kb": rss_kb()}), flush=True)
        except Exception as err:  # reported to the Node side, which stops the run
            print(json.dumps({"ok": False, "error": f"{type(err).__name__}: {err}"}), flush=True)


if __name__ == "__main__":
    main()
