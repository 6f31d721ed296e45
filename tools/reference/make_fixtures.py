"""Builds the engine's test fixtures: tiny random-weight SD 1.5-architecture
models (diffusers folders and single-file LDM/A1111 checkpoints), LoRAs, and
reference outputs computed with diffusers / transformers on CPU in float32.

Run from the repository root:  tools/reference/.venv/bin/python tools/reference/make_fixtures.py
Everything is seeded; see tools/reference/README.md and tests/fixtures/engine/ref/README.md.
"""

import copy
import gzip
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from diffusers import AutoencoderKL, ControlNetModel, DDIMScheduler, UNet2DConditionModel
from diffusers.loaders import single_file_utils as sfu
from diffusers.models.attention_processor import AttnProcessor2_0
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

sys.path.insert(0, os.path.dirname(__file__))
import ldm_keys  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(ROOT, "tests", "fixtures", "engine")
REF = os.path.join(FIX, "ref")
VOCAB_GZ = os.path.join(ROOT, "assets", "clip", "bpe_simple_vocab_16e6.txt.gz")
TINY_MERGES = 1000
LAYERS_PER_BLOCK = 2
SCALING = 0.18215

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

# ---------------------------------------------------------------- helpers

manifest: dict = {}


def save_ref(name: str, t, dtype: str = "float32") -> None:
    arr = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    arr = np.ascontiguousarray(arr.astype("<f4" if dtype == "float32" else "<i8"))
    fname = name.replace("/", "__") + ".bin"
    arr.tofile(os.path.join(REF, fname))
    manifest[name] = {"file": fname, "shape": list(arr.shape), "dtype": dtype}


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Every parameter random (zero-initialised convs and norm affines included)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if p.ndim == 1 and "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * r)
            elif p.ndim == 1:
                p.copy_(0.05 * r)
            else:
                fan_in = p[0].numel()
                std = min(0.2, max(0.02, 1.0 / math.sqrt(fan_in)))
                p.copy_(std * r)


def te_state(te) -> dict:
    """Text-encoder state dict in the `text_model.*` naming of real SD 1.5 files
    (transformers 5 drops that prefix in state_dict(), but loads either)."""
    return {(k if k.startswith("text_model.") else "text_model." + k): v.contiguous() for k, v in te.state_dict().items()}


def bytes_to_unicode() -> dict:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def clip_vocab(n_merges: int):
    """The vocabulary construction of CLIP's simple_tokenizer, limited to n_merges merges."""
    lines = gzip.open(VOCAB_GZ).read().decode("utf-8").split("\n")
    merges = [tuple(m.split()) for m in lines[1 : 1 + n_merges]]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(vocab)}, merges


def write_tokenizer_files(folder: str, n_merges: int) -> None:
    os.makedirs(folder, exist_ok=True)
    vocab, merges = clip_vocab(n_merges)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))


def load_tokenizer(folder: str) -> CLIPTokenizer:
    vocab = json.load(open(os.path.join(folder, "vocab.json"), encoding="utf-8"))
    merges = [tuple(l.split()) for l in open(os.path.join(folder, "merges.txt"), encoding="utf-8").read().split("\n")[1:] if l]
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


# ---------------------------------------------------------------- models


def build_models():
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=LAYERS_PER_BLOCK,
        block_out_channels=(16, 16, 32, 32),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        mid_block_type="UNetMidBlock2DCrossAttn",
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        norm_num_groups=8,
        attention_head_dim=8,
        cross_attention_dim=32,
    )
    randomize(unet, 1)
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(8, 16, 32, 32))
    randomize(controlnet, 2)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 16, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=64,
        scaling_factor=SCALING,
    )
    randomize(vae, 3)
    vocab_size = 512 + TINY_MERGES + 2
    te = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            hidden_act="quick_gelu",
            projection_dim=32,
            bos_token_id=vocab_size - 2,
            eos_token_id=vocab_size - 1,
            pad_token_id=vocab_size - 1,
        )
    )
    randomize(te, 4)
    scheduler = DDIMScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
        prediction_type="epsilon",
        timestep_spacing="leading",
    )
    vae_override = copy.deepcopy(vae)
    randomize(vae_override, 5)
    for m in (unet, controlnet, vae, te, vae_override):
        m.eval()
    return unet, controlnet, vae, te, scheduler, vae_override


def save_diffusers(unet, controlnet, vae, te, scheduler, vae_override) -> None:
    sd_dir = os.path.join(FIX, "tiny-sd")
    unet.save_pretrained(os.path.join(sd_dir, "unet"), safe_serialization=True)
    vae.save_pretrained(os.path.join(sd_dir, "vae"), safe_serialization=True)
    te.save_pretrained(os.path.join(sd_dir, "text_encoder"), safe_serialization=True)
    save_file(te_state(te), os.path.join(sd_dir, "text_encoder", "model.safetensors"), metadata={"format": "pt"})
    scheduler.save_pretrained(os.path.join(sd_dir, "scheduler"))
    write_tokenizer_files(os.path.join(sd_dir, "tokenizer"), TINY_MERGES)
    with open(os.path.join(sd_dir, "model_index.json"), "w") as f:
        json.dump(
            {
                "_class_name": "StableDiffusionPipeline",
                "text_encoder": ["transformers", "CLIPTextModel"],
                "tokenizer": ["transformers", "CLIPTokenizer"],
                "unet": ["diffusers", "UNet2DConditionModel"],
                "vae": ["diffusers", "AutoencoderKL"],
                "scheduler": ["diffusers", "DDIMScheduler"],
                "safety_checker": [None, None],
                "feature_extractor": [None, None],
            },
            f,
            indent=2,
        )
    controlnet.save_pretrained(os.path.join(FIX, "tiny-controlnet"), safe_serialization=True)

    # single-file versions, checked against diffusers' own LDM -> diffusers conversion
    up_has_attn = [t.startswith("CrossAttn") for t in unet.config.up_block_types]
    unet_sd = {k: v.contiguous() for k, v in unet.state_dict().items()}
    vae_sd = {k: v.contiguous() for k, v in vae.state_dict().items()}
    te_sd = te_state(te)
    cn_sd = {k: v.contiguous() for k, v in controlnet.state_dict().items()}
    ldm = {}
    ldm.update({"model.diffusion_model." + k: v for k, v in ldm_keys.unet_to_ldm(unet_sd, LAYERS_PER_BLOCK, up_has_attn).items()})
    ldm.update({"first_stage_model." + k: v for k, v in ldm_keys.vae_to_ldm(vae_sd, 4).items()})
    ldm.update(ldm_keys.text_encoder_to_ldm(te_sd))
    # non-weight entries real A1111 checkpoints carry; loaders must ignore them
    ldm["alphas_cumprod"] = scheduler.alphas_cumprod.clone().float()
    if "cond_stage_model.transformer.text_model.embeddings.position_ids" not in ldm:
        ldm["cond_stage_model.transformer.text_model.embeddings.position_ids"] = torch.arange(77, dtype=torch.int64)[None]

    ldm_keys.assert_same(sfu.convert_ldm_unet_checkpoint(ldm, dict(unet.config)), unet_sd, "unet")
    ldm_keys.assert_same(sfu.convert_ldm_vae_checkpoint(ldm, dict(vae.config)), vae_sd, "vae")
    te_back = sfu.convert_ldm_clip_checkpoint(ldm)
    te_back.pop("text_model.embeddings.position_ids", None)
    ldm_keys.assert_same(te_back, te_sd, "text_encoder")
    save_file(ldm, os.path.join(FIX, "tiny-sd.safetensors"), metadata={"format": "pt"})

    cn_ldm = {"control_model." + k: v for k, v in ldm_keys.controlnet_to_ldm(cn_sd, LAYERS_PER_BLOCK).items()}
    ldm_keys.assert_same(sfu.convert_controlnet_checkpoint(cn_ldm, dict(controlnet.config)), cn_sd, "controlnet")
    save_file(cn_ldm, os.path.join(FIX, "tiny-controlnet.safetensors"), metadata={"format": "pt"})

    # standalone VAE override in the LDM naming without prefix (as vae-ft-mse-*.safetensors)
    vo_sd = {k: v.contiguous() for k, v in vae_override.state_dict().items()}
    vo_ldm = ldm_keys.vae_to_ldm(vo_sd, 4)
    ldm_keys.assert_same(sfu.convert_ldm_vae_checkpoint(vo_ldm, dict(vae.config)), vo_sd, "vae_override")
    save_file(vo_ldm, os.path.join(FIX, "tiny-vae-override.safetensors"), metadata={"format": "pt"})


# ---------------------------------------------------------------- tokenizer references

TOKENIZER_PROMPTS = [
    "a photo of a cat",
    "A Photo Of A CAT",
    "",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines   and    runs of   spaces",
    "masterpiece, best quality, (oil painting:1.2), [blurry]",
    "it's what we've done, they'll see; I'm sure you'd agree",
    "numbers 1234567 and 3.14159 and 2nd 10x",
    "café naïve résumé Ångström",
    "日本語のテキスト and 中文 mixed",
    "emoji 🎨🖌️ and symbols ©®™ — “quotes” …",
    "hyphen-ated words_with_underscores and CamelCaseWords",
    "!!!??? ... ,,, ### $$$",
    "an extremely long prompt " + ", ".join(f"detail number {i} in the scene" for i in range(30)),
    "Ünïcödé ΣΊΣΥΦΟΣ straße ǅ ﬁ ligature",
]


def chunk_a1111(ids_no_special: list[int], bos: int, eos: int) -> list[list[int]]:
    """Plain A1111-style chunking: 75-token pieces, each [bos] + piece + eos padding to 77."""
    pieces = [ids_no_special[i : i + 75] for i in range(0, len(ids_no_special), 75)] or [[]]
    return [[bos] + p + [eos] * (76 - len(p)) for p in pieces]


def tokenizer_refs() -> None:
    real = tempfile.mkdtemp()
    write_tokenizer_files(real, 49152 - 256 - 2)
    tok = load_tokenizer(real)
    assert tok.convert_tokens_to_ids("<|endoftext|>") == 49407 and tok.convert_tokens_to_ids("<|startoftext|>") == 49406
    cases = []
    for p in TOKENIZER_PROMPTS:
        full = tok(p, add_special_tokens=True)["input_ids"]
        padded = tok(p, padding="max_length", max_length=77, truncation=True)["input_ids"]
        cases.append(
            {
                "prompt": p,
                "ids": full,
                "ids77": padded,
                "truncated": len(full) > 77,
                "chunks": chunk_a1111(full[1:-1], 49406, 49407),
            }
        )
    with open(os.path.join(FIX, "tokenizer-ref.json"), "w", encoding="utf-8") as f:
        json.dump(
            {
                "source": "transformers CLIPTokenizer, vocabulary built from assets/clip/bpe_simple_vocab_16e6.txt.gz",
                "bos": 49406,
                "eos": 49407,
                "cases": cases,
            },
            f,
            ensure_ascii=False,
            indent=1,
        )
    shutil.rmtree(real)


# ---------------------------------------------------------------- model references


class CrossFrameAttnProcessor(AttnProcessor2_0):
    """Self-attention whose keys/values come from stored contexts.

    mode "record": records the layer input (the normed hidden states fed to
    to_k/to_v) under the layer name. mode "use": for layers in `use_layers`,
    keys/values are computed from torch.cat(stored contexts, dim=1) instead of
    the layer's own input; the query stays the layer's own input.
    """

    def __init__(self, name: str, state: dict):
        super().__init__()
        self.name = name
        self.state = state

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        assert encoder_hidden_states is None and attention_mask is None and hidden_states.ndim == 3
        ctx = hidden_states
        if self.state["mode"] == "record":
            self.state["recorded"][self.name] = hidden_states.detach().clone()
        elif self.state["mode"] == "use" and self.name in self.state["use_layers"]:
            ctx = torch.cat([c[self.name] for c in self.state["contexts"]], dim=1)
        b, n, _ = hidden_states.shape
        q = attn.to_q(hidden_states)
        k = attn.to_k(ctx)
        v = attn.to_v(ctx)
        d = q.shape[-1] // attn.heads
        q = q.view(b, -1, attn.heads, d).transpose(1, 2)
        k = k.view(b, -1, attn.heads, d).transpose(1, 2)
        v = v.view(b, -1, attn.heads, d).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, v)
        o = o.transpose(1, 2).reshape(b, n, -1)
        o = attn.to_out[0](o)
        return attn.to_out[1](o)


def encode_prompt(tok, te, prompt: str):
    ids = tok(prompt, padding="max_length", max_length=77, truncation=True, return_tensors="pt")["input_ids"]
    return ids, te(ids).last_hidden_state


@torch.no_grad()
def model_refs(unet, controlnet, vae, te, scheduler) -> None:
    g = torch.Generator().manual_seed(1234)
    tok = load_tokenizer(os.path.join(FIX, "tiny-sd", "tokenizer"))

    # text encoder
    prompts = ["a watercolor painting of a fox in the snow", "blurry, low quality, ugly"]
    embs = []
    for i, p in enumerate(prompts):
        ids, emb = encode_prompt(tok, te, p)
        save_ref(f"te.ids.{i}", ids, "int64")
        save_ref(f"te.last_hidden_state.{i}", emb)
        embs.append(emb)
    pos, neg = embs

    # unet + controlnet
    latent = torch.randn(1, 4, 8, 8, generator=g)
    t = torch.tensor([500], dtype=torch.int64)
    control = torch.rand(1, 3, 64, 64, generator=g)
    save_ref("unet.in.latent", latent)
    save_ref("unet.in.t", t, "int64")
    save_ref("controlnet.in.cond", control)
    eps = unet(latent, t, encoder_hidden_states=pos).sample
    save_ref("unet.out.eps", eps)
    down, mid = controlnet(latent, t, encoder_hidden_states=pos, controlnet_cond=control, conditioning_scale=1.0, return_dict=False)
    assert len(down) == 12
    for i, r in enumerate(down):
        save_ref(f"controlnet.out.down.{i}", r)
    save_ref("controlnet.out.mid", mid)
    eps_c = unet(latent, t, encoder_hidden_states=pos, down_block_additional_residuals=down, mid_block_additional_residual=mid).sample
    save_ref("unet.out.eps_controlled", eps_c)

    # vae
    image = torch.rand(1, 3, 64, 64, generator=g) * 2 - 1
    save_ref("vae.in.image", image)
    h = vae.encoder(image)
    moments = vae.quant_conv(h)
    save_ref("vae.out.moments", moments)
    save_ref("vae.out.mean", vae.encode(image).latent_dist.mean)
    z = torch.randn(1, 4, 8, 8, generator=g)
    save_ref("vae.in.z", z)
    save_ref("vae.out.decoded", vae.decode(z).sample)

    # scheduler
    scheduler.set_timesteps(20)
    ts = scheduler.timesteps.clone()
    save_ref("ddim.alphas_cumprod", scheduler.alphas_cumprod)
    save_ref("ddim20.timesteps", ts, "int64")
    save_ref("ddim20.alpha_t", scheduler.alphas_cumprod[ts])
    prev = ts - 1000 // 20
    save_ref("ddim20.alpha_prev", torch.stack([scheduler.alphas_cumprod[p] if p >= 0 else scheduler.final_alpha_cumprod for p in prev]))
    s_model = torch.randn(1, 4, 8, 8, generator=g)
    s_sample = torch.randn(1, 4, 8, 8, generator=g)
    save_ref("ddim20.step5.model_output", s_model)
    save_ref("ddim20.step5.sample", s_sample)
    save_ref("ddim20.step5.prev_sample", scheduler.step(s_model, ts[5], s_sample, eta=0.0).prev_sample)

    # img2img + controlnet DDIM run with classifier-free guidance
    init_image = torch.rand(1, 3, 64, 64, generator=g) * 2 - 1
    ctrl = torch.rand(1, 3, 64, 64, generator=g)
    noise = torch.randn(1, 4, 8, 8, generator=g)
    save_ref("run.in.init_image", init_image)
    save_ref("run.in.control", ctrl)
    save_ref("run.in.noise", noise)
    steps, strength, guidance = 4, 0.75, 7.5
    scheduler.set_timesteps(steps)
    init_t = min(int(steps * strength), steps)
    t_start = max(steps - init_t, 0)
    timesteps = scheduler.timesteps[t_start:]
    save_ref("run.timesteps", timesteps, "int64")
    init_latents = vae.encode(init_image).latent_dist.mean * SCALING
    save_ref("run.init_latents", init_latents)
    latents = scheduler.add_noise(init_latents, noise, timesteps[:1])
    save_ref("run.noised_latents", latents)
    emb = torch.cat([neg, pos])
    for i, tt in enumerate(timesteps):
        lat_in = scheduler.scale_model_input(torch.cat([latents] * 2), tt)
        d, m = controlnet(lat_in, tt, encoder_hidden_states=emb, controlnet_cond=torch.cat([ctrl] * 2), conditioning_scale=1.0, return_dict=False)
        e = unet(lat_in, tt, encoder_hidden_states=emb, down_block_additional_residuals=d, mid_block_additional_residual=m).sample
        e_u, e_c = e.chunk(2)
        e = e_u + guidance * (e_c - e_u)
        latents = scheduler.step(e, tt, latents, eta=0.0).prev_sample
        save_ref(f"run.latents_after_step.{i}", latents)
    save_ref("run.final_latents", latents)
    save_ref("run.decoded", vae.decode(latents / SCALING).sample)

    # cross-frame attention
    names = [n[: -len(".processor")] for n in unet.attn_processors if n.endswith("attn1.processor")]
    state = {"mode": "off", "recorded": {}, "contexts": [], "use_layers": set()}
    procs = {}
    for n, p in unet.attn_processors.items():
        layer = n[: -len(".processor")]
        procs[n] = CrossFrameAttnProcessor(layer, state) if layer in names else AttnProcessor2_0()
    default_procs = dict(unet.attn_processors)
    unet.set_attn_processor(procs)
    la, lb, lc = (torch.randn(1, 4, 8, 8, generator=g) for _ in range(3))
    save_ref("xframe.in.latent_a", la)
    save_ref("xframe.in.latent_b", lb)
    save_ref("xframe.in.latent_c", lc)
    plain = unet(lc, t, encoder_hidden_states=pos).sample
    save_ref("xframe.out.eps_c_plain", plain)
    ctxs = []
    for lat in (la, lb):
        state.update(mode="record", recorded={})
        unet(lat, t, encoder_hidden_states=pos)
        ctxs.append(dict(state["recorded"]))
    for tag, ctx in zip("ab", ctxs):
        for i, n in enumerate(names):
            save_ref(f"xframe.ctx_{tag}.{n}", ctx[n])
    with open(os.path.join(REF, "xframe_layers.json"), "w") as f:
        json.dump(names, f, indent=1)
    for tag, layers in (("up", {n for n in names if n.startswith("up_blocks.")}), ("all", set(names))):
        state.update(mode="use", contexts=ctxs, use_layers=layers)
        save_ref(f"xframe.out.eps_c_{tag}", unet(lc, t, encoder_hidden_states=pos).sample)
    state.update(mode="off")
    unet.set_attn_processor(default_procs)
    # with no context swap the processor must reproduce diffusers' own attention
    assert torch.allclose(unet(lc, t, encoder_hidden_states=pos).sample, plain, atol=1e-6)


# ---------------------------------------------------------------- LoRAs


def _lora_pair(g, out_f: int, in_f: int, rank: int, kernel: tuple | None):
    if kernel is None:
        down = torch.randn(rank, in_f, generator=g) * 0.1
        up = torch.randn(out_f, rank, generator=g) * 0.1
    else:
        down = torch.randn(rank, in_f, *kernel, generator=g) * 0.1
        up = torch.randn(out_f, rank, 1, 1, generator=g) * 0.1
    return down, up


def lora_delta(down: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    if down.ndim == 2:
        return up.double() @ down.double()
    return torch.einsum("or,rikl->oikl", up[:, :, 0, 0].double(), down.double())


def make_loras(unet, te):
    """Returns {file: (format, [(component, canonical weight name, down, up, alpha|None)])}."""
    g = torch.Generator().manual_seed(77)
    usd, tsd = unet.state_dict(), te_state(te)

    def pair(comp, name, rank, alpha):
        w = (usd if comp == "unet" else tsd)[name]
        kernel = tuple(w.shape[2:]) if w.ndim == 4 else None
        d, u = _lora_pair(g, w.shape[0], w.shape[1], rank, kernel)
        return (comp, name, d, u, alpha)

    specs = {
        "lora-kohya.safetensors": [
            pair("unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight", 4, 2.0),
            pair("unet", "down_blocks.1.attentions.1.transformer_blocks.0.attn2.to_k.weight", 4, 4.0),
            pair("unet", "up_blocks.1.attentions.0.transformer_blocks.0.ff.net.2.weight", 2, 1.0),
            pair("unet", "up_blocks.3.attentions.2.transformer_blocks.0.ff.net.0.proj.weight", 4, 3.0),
            pair("unet", "up_blocks.2.attentions.1.transformer_blocks.0.attn1.to_out.0.weight", 4, 4.0),
            pair("unet", "mid_block.attentions.0.proj_in.weight", 4, 2.0),
            pair("unet", "down_blocks.0.resnets.0.conv1.weight", 4, 2.0),
            pair("text_encoder", "text_model.encoder.layers.0.self_attn.q_proj.weight", 4, 2.0),
            pair("text_encoder", "text_model.encoder.layers.1.mlp.fc1.weight", 4, 1.0),
            pair("text_encoder", "text_model.encoder.layers.1.self_attn.out_proj.weight", 2, 2.0),
        ],
        # kohya keys in the LDM naming, stored as float16 (alpha too)
        "lora-kohya-ldm-f16.safetensors": [
            pair("unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight", 2, 1.0),
            pair("unet", "up_blocks.1.attentions.1.transformer_blocks.0.ff.net.2.weight", 4, 2.0),
            pair("unet", "mid_block.attentions.0.proj_in.weight", 2, 2.0),
            pair("unet", "down_blocks.0.resnets.0.conv1.weight", 4, 4.0),
            pair("unet", "up_blocks.1.resnets.0.conv_shortcut.weight", 4, 2.0),
            pair("unet", "down_blocks.2.attentions.0.proj_out.weight", 4, 1.0),
            pair("text_encoder", "text_model.encoder.layers.0.self_attn.q_proj.weight", 2, 2.0),
        ],
        # diffusers / peft naming: lora_A = down, lora_B = up, no alpha (scale 1)
        "lora-peft.safetensors": [
            pair("unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v.weight", 4, None),
            pair("unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight", 4, None),
            pair("unet", "up_blocks.3.resnets.2.conv2.weight", 4, None),
            pair("text_encoder", "text_model.encoder.layers.1.self_attn.v_proj.weight", 4, None),
        ],
    }
    # round the f16 LoRA to its stored precision so the references use what the file holds
    specs["lora-kohya-ldm-f16.safetensors"] = [
        (c, n, d.half().float(), u.half().float(), a) for c, n, d, u, a in specs["lora-kohya-ldm-f16.safetensors"]
    ]
    up_has_attn = [t.startswith("CrossAttn") for t in unet.config.up_block_types]
    for fname, entries in specs.items():
        out = {}
        for comp, name, d, u, alpha in entries:
            module = name[: -len(".weight")]
            if fname == "lora-peft.safetensors":
                prefix = ("unet." if comp == "unet" else "text_encoder.") + module
                out[prefix + ".lora_A.weight"] = d.contiguous()
                out[prefix + ".lora_B.weight"] = u.contiguous()
                continue
            if comp == "unet" and "ldm" in fname:
                module = ldm_keys.unet_key_to_ldm(name, LAYERS_PER_BLOCK, up_has_attn)[: -len(".weight")]
            key = ("lora_unet_" if comp == "unet" else "lora_te_") + module.replace(".", "_")
            dt = torch.float16 if "f16" in fname else torch.float32
            out[key + ".lora_down.weight"] = d.to(dt).contiguous()
            out[key + ".lora_up.weight"] = u.to(dt).contiguous()
            out[key + ".alpha"] = torch.tensor(alpha, dtype=dt)
        save_file(out, os.path.join(FIX, fname))
    return specs


def merged(base: dict, loras: list, comp: str) -> dict:
    """W' = W + sum(weight * alpha/rank * up @ down) over (entries, weight) pairs, in float64."""
    res = {}
    for entries, weight in loras:
        for c, name, d, u, alpha in entries:
            if c != comp:
                continue
            scale = 1.0 if alpha is None else alpha / d.shape[0]
            cur = res.get(name, base[name].double())
            res[name] = cur + weight * scale * lora_delta(d, u).reshape(cur.shape)
    return {k: v.float() for k, v in res.items()}


@torch.no_grad()
def lora_refs(unet, te, specs) -> None:
    usd, tsd = unet.state_dict(), te_state(te)
    k1 = specs["lora-kohya.safetensors"]
    k2 = specs["lora-kohya-ldm-f16.safetensors"]
    pe = specs["lora-peft.safetensors"]
    cases = {
        "lora.kohya_0.7": [(k1, 0.7)],
        "lora.combo": [(k1, 0.7), (k2, 0.5), (pe, 1.0)],
    }
    index = {}
    for case, loras in cases.items():
        index[case] = {"loras": [[f, w] for f, w in zip([_name_of(specs, e) for e, _ in loras], [w for _, w in loras])]}
        for comp, base in (("unet", usd), ("text_encoder", tsd)):
            for name, t in merged(base, loras, comp).items():
                save_ref(f"{case}.{comp}.{name}", t)
    with open(os.path.join(REF, "lora_cases.json"), "w") as f:
        json.dump(index, f, indent=1)
    verify_with_diffusers(unet, te, specs)


def _name_of(specs, entries):
    for k, v in specs.items():
        if v is entries:
            return k
    raise KeyError


def verify_with_diffusers(unet, te, specs) -> None:
    """Loads each LoRA file with diffusers and fuses it: the fused weights must equal our merge."""
    try:
        import peft  # noqa: F401
    except ImportError:
        print("peft not installed: skipping the diffusers cross-check of the LoRA merge")
        return
    from diffusers import StableDiffusionPipeline

    for fname, weight in (("lora-kohya.safetensors", 0.7), ("lora-kohya-ldm-f16.safetensors", 0.5), ("lora-peft.safetensors", 1.0)):
        pipe = StableDiffusionPipeline(
            vae=AutoencoderKL.from_pretrained(os.path.join(FIX, "tiny-sd", "vae")),
            text_encoder=copy.deepcopy(te),
            tokenizer=load_tokenizer(os.path.join(FIX, "tiny-sd", "tokenizer")),
            unet=copy.deepcopy(unet),
            scheduler=DDIMScheduler.from_pretrained(os.path.join(FIX, "tiny-sd", "scheduler")),
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
        # diffusers 0.42 drops per-module alphas that differ from the file's most common one
        # (its alpha_pattern keys do not match), so check it on a copy with every alpha 1 and the
        # alpha folded into up (alpha/rank * up @ down == 1/rank * (alpha * up) @ down)
        from safetensors.torch import load_file

        tmp = tempfile.mkdtemp()
        sd = load_file(os.path.join(FIX, fname))
        for k in [k for k in sd if k.endswith(".alpha")]:
            base = k[: -len(".alpha")]
            up = base + ".lora_up.weight"
            sd[up] = (sd[up].float() * sd[k].float()).to(sd[up].dtype)
            sd[k] = torch.tensor(1.0, dtype=sd[k].dtype)
        save_file(sd, os.path.join(tmp, fname))
        try:
            pipe.load_lora_weights(tmp, weight_name=fname)
            pipe.fuse_lora(lora_scale=weight)
        except Exception as e:  # noqa: BLE001
            print(f"diffusers could not load {fname} ({type(e).__name__}: {e}); our merge is the only reference for it")
            continue
        want_u = merged(unet.state_dict(), [(specs[fname], weight)], "unet")
        want_t = merged(te_state(te), [(specs[fname], weight)], "text_encoder")
        got_u = {k.replace(".base_layer", ""): v for k, v in pipe.unet.state_dict().items()}
        got_t = {k.replace(".base_layer", ""): v for k, v in te_state(pipe.text_encoder).items()}
        for want, got in ((want_u, got_u), (want_t, got_t)):
            for k, v in want.items():
                err = (got[k] - v).abs().max().item()
                assert err < 1e-5, f"{fname}: {k} differs from diffusers' fuse by {err}"
        print(f"diffusers fuse_lora agrees with the reference merge for {fname}")


# ---------------------------------------------------------------- main


def reset_keeping_readmes(root: str) -> None:
    """Deletes `root` and recreates it with every README.md it held: the hand-written descriptions
    of the references (ref/, freeu/, ...) survive a rebuild."""
    kept = {}
    for d, _, files in os.walk(root):
        if "README.md" in files:
            with open(os.path.join(d, "README.md"), encoding="utf-8") as f:
                kept[os.path.relpath(d, root)] = f.read()
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root)
    for rel, text in kept.items():
        os.makedirs(os.path.join(root, rel), exist_ok=True)
        with open(os.path.join(root, rel, "README.md"), "w", encoding="utf-8") as f:
            f.write(text)


def main() -> None:
    reset_keeping_readmes(FIX)
    os.makedirs(REF, exist_ok=True)
    if not os.path.exists(VOCAB_GZ):
        raise SystemExit(f"missing {VOCAB_GZ}: copy it from the open_clip_torch package (see README)")
    unet, controlnet, vae, te, scheduler, vae_override = build_models()
    save_diffusers(unet, controlnet, vae, te, scheduler, vae_override)
    tokenizer_refs()
    model_refs(unet, controlnet, vae, te, scheduler)
    specs = make_loras(unet, te)
    lora_refs(unet, te, specs)
    with open(os.path.join(REF, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(FIX) for f in fs)
    print(f"fixtures written to {FIX}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
