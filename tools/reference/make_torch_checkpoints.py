"""Builds the PyTorch-checkpoint fixtures in tests/fixtures/engine/torch/: tiny state dicts saved
with torch.save in both layouts (zip, legacy) and three float types, each beside a safetensors
twin holding the same values; shared storages and views; a Lightning-style checkpoint; and two
malicious pickles whose __reduce__ runs os.system (checked here to be armed: torch.load with
weights_only=False really creates the marker; the app must refuse them without doing so).

Run from the repository root:  python3 tools/reference/make_torch_checkpoints.py
With --bench DIR it instead writes a ~100 MB fp16 checkpoint (zip) and its safetensors twin into
DIR for the read-speed measurement (never committed).
"""

import argparse
import os
import sys

import torch
from safetensors.torch import save_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "engine", "torch")
# The malicious fixtures touch this file when unpickled by Python; the tests assert it never appears.
MARKER = "/tmp/rerender-studio-pickle-marker"

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def small_state_dict(dtype: torch.dtype) -> dict:
    g = torch.Generator().manual_seed(1234)
    sd = {
        "conv.weight": torch.randn(4, 3, 3, 3, generator=g),
        "conv.bias": torch.randn(4, generator=g),
        "linear.weight": torch.randn(5, 7, generator=g) * 100,
        "norm.scale": torch.tensor(0.5),
        "tiny": torch.tensor([1e-7, -65504.0, 3.0e38 if dtype != torch.float16 else 60000.0, -0.0]),
        "empty": torch.zeros(0, 3),
    }
    return {k: v.to(dtype) for k, v in sd.items()}


def save(obj, path: str, legacy: bool) -> None:
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)


def layouts() -> None:
    for name, dtype in DTYPES.items():
        sd = small_state_dict(dtype)
        save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(OUT, f"small-{name}.safetensors"))
        save(sd, os.path.join(OUT, f"small-zip-{name}.pt"), legacy=False)
        save(sd, os.path.join(OUT, f"small-legacy-{name}.pt"), legacy=True)


def views() -> None:
    base = torch.arange(48, dtype=torch.float32).reshape(6, 8) / 7
    sd = {
        "base": base,
        "shared": base,  # the same tensor twice
        "row": base[2],  # storage offset
        "col": base[:, 3],  # stride 8
        "t": base.t(),  # transposed
        "slice": base[1:5:2, 2:7],  # offset and strides
        "expand": base[0, :4].unsqueeze(0).expand(3, 4),  # stride 0
        "half_view": base.to(torch.float16)[::2, 1::3],  # a strided F16 view
        "int64": torch.arange(6, dtype=torch.int64),
    }
    save_file({k: v.contiguous().clone() for k, v in sd.items()}, os.path.join(OUT, "views.safetensors"))
    save(sd, os.path.join(OUT, "views-zip.pt"), legacy=False)
    save(sd, os.path.join(OUT, "views-legacy.pt"), legacy=True)


class SomeCallback:
    """Stands in for a training framework's callback class (pickled by reference, never importable)."""

    def __init__(self) -> None:
        self.best = 0.25
        self.monitor = "val/loss"


def lightning() -> None:
    sd = small_state_dict(torch.float32)
    ckpt = {
        "epoch": 3,
        "global_step": 1200,
        "pytorch-lightning_version": "1.9.0",
        "state_dict": sd,
        "optimizer_states": [{"state": {0: {"exp_avg": torch.ones(3), "step": torch.tensor(5.0)}}, "param_groups": [{"lr": 1e-4, "params": [0]}]}],
        "lr_schedulers": [{"last_epoch": 3}],
        "callbacks": {SomeCallback: SomeCallback()},
        "hyper_parameters": argparse.Namespace(lr=1e-4, name="tiny"),
    }
    save(ckpt, os.path.join(OUT, "lightning.ckpt"), legacy=False)


class Evil:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


def malicious() -> None:
    # zip layout, protocol 2: the call sits where a weight should be
    evil_zip = os.path.join(OUT, "evil-zip.pt")
    save({"state_dict": {"ok": torch.ones(2), "evil": Evil()}}, evil_zip, legacy=False)
    # legacy layout: the whole checkpoint is the call's result
    evil_legacy = os.path.join(OUT, "evil-legacy.ckpt")
    save(Evil(), evil_legacy, legacy=True)
    for p in (evil_zip, evil_legacy):
        if os.path.exists(MARKER):
            os.remove(MARKER)
        torch.load(p, weights_only=False)  # proves the fixture is armed
        assert os.path.exists(MARKER), f"{p} did not run its payload"
        os.remove(MARKER)


def bench(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    sd = {f"block.{i}.weight": torch.randn(1280, 1280, generator=g).half() for i in range(32)}  # 32 x 3.3 MB
    torch.save(sd, os.path.join(out_dir, "bench.pt"))
    save_file(sd, os.path.join(out_dir, "bench.safetensors"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", metavar="DIR")
    a = ap.parse_args()
    if a.bench:
        bench(a.bench)
        return
    os.makedirs(OUT, exist_ok=True)
    layouts()
    views()
    lightning()
    malicious()
    print(f"wrote {len(os.listdir(OUT))} files to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
