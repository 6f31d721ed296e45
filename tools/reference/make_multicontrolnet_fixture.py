"""Multi-ControlNet reference: diffusers' StableDiffusionControlNetPipeline given a list of two
ControlNets (it wraps them in MultiControlNetModel: each one's residuals times its own
conditioning scale, summed, added in the UNet) on the tiny models of tests/fixtures/engine.

Run from the repository root, after make_fixtures.py (which rewrites tests/fixtures/engine/):
    tools/reference/.venv/bin/python tools/reference/make_multicontrolnet_fixture.py
Writes tests/fixtures/engine/multi-controlnet/: controlnet-b/ (a second tiny ControlNet, the
architecture of tiny-controlnet with other random weights) and the references (manifest.json +
raw little-endian float32 .bin files).
"""

import json
import os
import sys

import numpy as np
import torch

from diffusers import AutoencoderKL, ControlNetModel, DDIMScheduler, StableDiffusionControlNetPipeline, UNet2DConditionModel
from transformers import CLIPTextModel

sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures import FIX, SCALING, encode_prompt, load_tokenizer, randomize  # noqa: E402
from fixture_io import save_tensor  # noqa: E402  (tools/reference is the script's own folder)

OUT = os.path.join(FIX, "multi-controlnet")
SD = os.path.join(FIX, "tiny-sd")
PROMPT = "a watercolor painting of a fox in the snow"
NEGATIVE = "blurry, low quality, ugly"
STEPS, GUIDANCE, SCALES = 3, 7.5, (0.7, 1.3)

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

manifest: dict = {}


def save(name: str, value) -> None:
    save_tensor(manifest, OUT, name, value)


@torch.no_grad()
def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".bin") or f == "manifest.json":
            os.remove(os.path.join(OUT, f))
    unet = UNet2DConditionModel.from_pretrained(SD, subfolder="unet").eval()
    vae = AutoencoderKL.from_pretrained(SD, subfolder="vae").eval()
    te = CLIPTextModel.from_pretrained(SD, subfolder="text_encoder").eval()
    scheduler = DDIMScheduler.from_pretrained(SD, subfolder="scheduler")
    tok = load_tokenizer(os.path.join(SD, "tokenizer"))
    cn_a = ControlNetModel.from_pretrained(os.path.join(FIX, "tiny-controlnet")).eval()
    cn_b = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(8, 16, 32, 32))
    randomize(cn_b, 7)
    cn_b.eval()
    cn_b.save_pretrained(os.path.join(OUT, "controlnet-b"), safe_serialization=True)

    g = torch.Generator().manual_seed(4321)
    noise = torch.randn(1, 4, 8, 8, generator=g)
    control_a = torch.rand(1, 3, 64, 64, generator=g)
    # A different kind of picture for the second: vertical stripes, as an edge map might give.
    control_b = (torch.arange(64).view(1, 1, 1, 64).expand(1, 3, 64, 64) % 8 < 2).float()
    save("in.noise", noise)
    save("in.control_a", control_a)
    save("in.control_b", control_b)

    _, pos = encode_prompt(tok, te, PROMPT)
    _, neg = encode_prompt(tok, te, NEGATIVE)
    pipe = StableDiffusionControlNetPipeline(
        vae=vae, text_encoder=te, tokenizer=tok, unet=unet, controlnet=[cn_a, cn_b], scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    steps_seen = []

    def on_step(_pipe, i, t, kw):
        steps_seen.append(int(t))
        save(f"latents_after_step.{i}", kw["latents"])
        return kw

    latents = pipe(
        prompt_embeds=pos, negative_prompt_embeds=neg, image=[control_a, control_b], height=64, width=64,
        num_inference_steps=STEPS, guidance_scale=GUIDANCE, controlnet_conditioning_scale=list(SCALES),
        latents=noise.clone(), output_type="latent", callback_on_step_end=on_step, callback_on_step_end_tensor_inputs=["latents"],
    ).images
    save("final_latents", latents)
    save("decoded", vae.decode(latents / SCALING).sample)
    manifest["run"] = {"prompt": PROMPT, "negative": NEGATIVE, "steps": STEPS, "guidance": GUIDANCE, "scales": list(SCALES), "timesteps": steps_seen, "size": [64, 64]}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"multi-ControlNet reference written to {OUT}: timesteps {steps_seen}")


if __name__ == "__main__":
    main()
