"""References for the built-in ControlNet annotators compiled by src-main/engine/graph (hed.ts,
depth-anything.ts), on tiny random-weight networks so the fixtures stay small.

HED: controlnet-aux's own `ControlNetHED_Apache2` (controlnet_aux/hed/__init__.py, the
ControlNet 1.1 "ControlNetHED.pth" network) with its five DoubleConvBlocks swapped for narrower
ones built by the same class (the graph reads channel counts from the weights), and the
post-processing of `HEDdetector.__call__` (each side output resized to the input with
cv2.INTER_LINEAR, mean, sigmoid, ×255 truncated to uint8) without its resize_image step, as
Rerender's annotator calls it on frames already at the working size.

Depth: transformers' DepthAnythingForDepthEstimation (Depth Anything V2 architecture) in a tiny
random config, saved with the hub's (transformers) key names.

Run from the repository root with the reference environment (torch CPU build, transformers):
    pip install --no-deps controlnet-aux==0.0.10 einops opencv-python-headless
    python3 tools/reference/make_annotator_fixtures.py
Writes tests/fixtures/engine/annotators/ (HED weights as float32 .safetensors and as a half
torch.save pickle like the original file, Depth Anything weights as hub-layout .safetensors,
manifest.json + raw little-endian .bin tensors).
"""

import importlib
import json
import os
import sys
import types
from collections import OrderedDict

import numpy as np
import torch
from safetensors.torch import save_file
from fixture_io import save_tensor  # noqa: E402  (tools/reference is the script's own folder)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "engine", "annotators")

torch.set_num_threads(2)
torch.manual_seed(0)
rng = np.random.default_rng(0)
manifest: dict = {}


def save(name: str, value) -> None:
    save_tensor(manifest, OUT, name, value)


def controlnet_aux_hed():
    """controlnet_aux.hed without the package __init__ (which imports every detector's deps)."""
    if "controlnet_aux" not in sys.modules:
        spec = importlib.util.find_spec("controlnet_aux")
        pkg = types.ModuleType("controlnet_aux")
        pkg.__path__ = list(spec.submodule_search_locations)
        sys.modules["controlnet_aux"] = pkg
    return importlib.import_module("controlnet_aux.hed")


def make_hed() -> None:
    import cv2

    hed = controlnet_aux_hed()
    net = hed.ControlNetHED_Apache2()
    widths = [(3, 4, 2), (4, 6, 2), (6, 8, 3), (8, 8, 3), (8, 12, 3)]
    for i, (cin, cout, layers) in enumerate(widths):
        setattr(net, f"block{i + 1}", hed.DoubleConvBlock(input_channel=cin, output_channel=cout, layer_number=layers))
    with torch.no_grad():
        net.norm.copy_(torch.tensor([120.0, 110.0, 100.0]).view(1, 3, 1, 1))
        for name, p in net.named_parameters():
            if name.endswith(".weight"):
                # torch's default init shrinks activations layer by layer; keep them O(1)
                # (the first conv sees pixels − norm, up to ±255).
                p.mul_(0.03 if "block1.convs.0" in name else 2.5)
        # Weights exactly representable in half: ControlNetHED.pth stores torch.HalfStorage, and
        # HEDdetector runs it in float32 (.float()), so the half .pth and the float32
        # safetensors give the same network.
        for p in net.parameters():
            p.copy_(p.half().float())
    net.float().eval()
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, os.path.join(OUT, "hed-tiny.safetensors"))
    torch.save(OrderedDict((k, v.half()) for k, v in state.items()), os.path.join(OUT, "hed-tiny.pth"))

    # Odd sizes: the max-pools floor (50→25→12→6→3, 66→33→16→8→4) and the side outputs are
    # resized by non-integer factors.
    H, W = 50, 66
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.stack([(xx * 4) % 256, (yy * 5) % 256, ((xx - 30) ** 2 + (yy - 25) ** 2 < 200) * 255], axis=2)
    img = np.clip(img + rng.integers(-20, 20, size=img.shape), 0, 255).astype(np.uint8)
    save("hed.image", img)
    with torch.no_grad():
        x = torch.from_numpy(img.copy()).float().permute(2, 0, 1)[None]
        edges = [e.numpy().astype(np.float32)[0, 0] for e in net(x)]
    # HEDdetector.__call__'s post-processing, verbatim.
    edges = [cv2.resize(e, (W, H), interpolation=cv2.INTER_LINEAR) for e in edges]
    edges = np.stack(edges, axis=2)
    edge = 1 / (1 + np.exp(-np.mean(edges, axis=2).astype(np.float64)))
    save("hed.edge", edge)
    save("hed.edge_u8", (edge * 255.0).clip(0, 255).astype(np.uint8))


# transformers 5 renamed DINOv2's attention at load time; the hub files (what users download) keep
# the old names, so the fixture is saved with them.
HUB_NAMES = [
    ("attention.q_proj.", "attention.attention.query."),
    ("attention.k_proj.", "attention.attention.key."),
    ("attention.v_proj.", "attention.attention.value."),
    ("attention.o_proj.", "attention.output.dense."),
]


def make_depth() -> None:
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    torch.manual_seed(1)
    # Depth Anything V2 Small's layout (DINOv2 ViT + DPT head), shrunk: 4 layers of 16 channels in
    # 2 heads, a 4×4 position grid (56 px) so a 70×98 input interpolates it (bicubic) to 5×7.
    backbone = Dinov2Config(hidden_size=16, num_hidden_layers=4, num_attention_heads=2, image_size=56, patch_size=14,
                            out_indices=[1, 2, 3, 4], reshape_hidden_states=False, apply_layernorm=True)
    cfg = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=16, neck_hidden_sizes=[4, 8, 12, 16],
                              fusion_hidden_size=8, head_hidden_size=8, patch_size=14, depth_estimation_type="relative")
    model = DepthAnythingForDepthEstimation(cfg).float().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lambda1" in name or ("norm" in name and name.endswith(".weight")):
                p.copy_(torch.empty_like(p).uniform_(0.5, 1.5))
            elif name.endswith(".bias") or "cls_token" in name:
                p.copy_(torch.empty_like(p).uniform_(-0.2, 0.2))
            elif p.dim() >= 2 and "position" not in name:
                # transformers' 0.02-std init makes a near-constant map; unit-gain weights do not.
                fan_in = p.shape[0] if "reassemble_stage.layers.0.resize" in name or "reassemble_stage.layers.1.resize" in name else p[0].numel()
                p.copy_(torch.randn_like(p) * 1.4 / fan_in**0.5)
        model.head.conv3.weight.mul_(0.2)
        model.head.conv3.bias.fill_(4.0)  # mostly above the final ReLU
    state = {}
    for k, v in model.state_dict().items():
        for new, old in HUB_NAMES:
            k = k.replace(new, old)
        state[k] = v.contiguous()
    save_file(state, os.path.join(OUT, "depth-tiny.safetensors"))
    with open(os.path.join(OUT, "depth-tiny.config.json"), "w") as f:
        json.dump({"num_attention_heads": 2, "out_indices": [1, 2, 3, 4]}, f)

    H, W = 70, 98
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.stack([(xx * 3) % 256, (yy * 4) % 256, ((xx - 50) ** 2 + (yy - 30) ** 2 < 300) * 200], axis=2)
    img = np.clip(img + rng.integers(-20, 20, size=img.shape), 0, 255).astype(np.uint8)
    save("depth.image", img)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    pixels = ((img.astype(np.float32) / 255.0 - mean) / std).transpose(2, 0, 1)[None]
    with torch.no_grad():
        depth = model(pixel_values=torch.from_numpy(np.ascontiguousarray(pixels))).predicted_depth
    save("depth.depth", depth.numpy()[:, None])


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    which = sys.argv[1:] or ["hed", "depth"]
    path = os.path.join(OUT, "manifest.json")
    if os.path.exists(path):
        manifest.update(json.load(open(path)))
    if "hed" in which:
        make_hed()
    if "depth" in which and "make_depth" in globals():
        globals()["make_depth"]()
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
