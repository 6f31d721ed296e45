"""Diffusers -> original LDM / A1111 single-file key names (the inverse of the
mapping diffusers applies in `diffusers.loaders.single_file_utils`).

make_fixtures.py checks every mapping here by running diffusers' own forward
conversion on the result and requiring the identical state dict back.
"""

import re

import torch

RESNET_UNET = [
    ("norm1", "in_layers.0"),
    ("conv1", "in_layers.2"),
    ("time_emb_proj", "emb_layers.1"),
    ("norm2", "out_layers.0"),
    ("conv2", "out_layers.3"),
    ("conv_shortcut", "skip_connection"),
]


def _resnet_unet(rest: str) -> str:
    for d, l in RESNET_UNET:
        if rest.startswith(d + "."):
            return l + rest[len(d):]
    raise KeyError(rest)


def unet_key_to_ldm(key: str, layers_per_block: int, up_has_attn: list[bool]) -> str | None:
    """Maps one UNet / ControlNet-trunk key; None when the key is not part of the trunk."""
    fixed = {
        "time_embedding.linear_1.": "time_embed.0.",
        "time_embedding.linear_2.": "time_embed.2.",
        "conv_in.": "input_blocks.0.0.",
        "conv_norm_out.": "out.0.",
        "conv_out.": "out.2.",
    }
    for d, l in fixed.items():
        if key.startswith(d):
            return l + key[len(d):]
    per = layers_per_block + 1
    m = re.match(r"down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)$", key)
    if m:
        b, kind, i, rest = int(m[1]), m[2], int(m[3]), m[4]
        idx = 1 + b * per + i
        return f"input_blocks.{idx}.0.{_resnet_unet(rest)}" if kind == "resnets" else f"input_blocks.{idx}.1.{rest}"
    m = re.match(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.*)$", key)
    if m:
        return f"input_blocks.{(int(m[1]) + 1) * per}.0.op.{m[2]}"
    m = re.match(r"mid_block\.(resnets|attentions)\.(\d+)\.(.*)$", key)
    if m:
        kind, i, rest = m[1], int(m[2]), m[3]
        if kind == "resnets":
            return f"middle_block.{2 * i}.{_resnet_unet(rest)}"
        return f"middle_block.1.{rest}"
    m = re.match(r"up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)$", key)
    if m:
        b, kind, i, rest = int(m[1]), m[2], int(m[3]), m[4]
        idx = b * per + i
        return f"output_blocks.{idx}.0.{_resnet_unet(rest)}" if kind == "resnets" else f"output_blocks.{idx}.1.{rest}"
    m = re.match(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.*)$", key)
    if m:
        b = int(m[1])
        slot = 2 if up_has_attn[b] else 1
        return f"output_blocks.{b * per + per - 1}.{slot}.conv.{m[2]}"
    return None


def unet_to_ldm(sd: dict, layers_per_block: int, up_has_attn: list[bool]) -> dict:
    out = {}
    for k, v in sd.items():
        lk = unet_key_to_ldm(k, layers_per_block, up_has_attn)
        if lk is None:
            raise KeyError(k)
        out[lk] = v
    return out


def controlnet_to_ldm(sd: dict, layers_per_block: int) -> dict:
    out = {}
    n_cond_blocks = len({k.split(".")[2] for k in sd if k.startswith("controlnet_cond_embedding.blocks.")})
    for k, v in sd.items():
        m = re.match(r"controlnet_down_blocks\.(\d+)\.(.*)$", k)
        if m:
            out[f"zero_convs.{m[1]}.0.{m[2]}"] = v
            continue
        if k.startswith("controlnet_mid_block."):
            out["middle_block_out.0." + k[len("controlnet_mid_block."):]] = v
            continue
        if k.startswith("controlnet_cond_embedding.conv_in."):
            out["input_hint_block.0." + k.split(".")[-1]] = v
            continue
        if k.startswith("controlnet_cond_embedding.conv_out."):
            out[f"input_hint_block.{2 * (n_cond_blocks + 1)}." + k.split(".")[-1]] = v
            continue
        m = re.match(r"controlnet_cond_embedding\.blocks\.(\d+)\.(.*)$", k)
        if m:
            out[f"input_hint_block.{2 * (int(m[1]) + 1)}.{m[2]}"] = v
            continue
        lk = unet_key_to_ldm(k, layers_per_block, [])
        if lk is None:
            raise KeyError(k)
        out[lk] = v
    return out


VAE_ATTN = [("group_norm.", "norm."), ("to_q.", "q."), ("to_k.", "k."), ("to_v.", "v."), ("to_out.0.", "proj_out.")]


def _vae_resnet(rest: str) -> str:
    return rest.replace("conv_shortcut", "nin_shortcut")


def vae_to_ldm(sd: dict, n_blocks: int) -> dict:
    out = {}
    for k, v in sd.items():
        part, rest = k.split(".", 1)
        if part in ("quant_conv", "post_quant_conv"):
            out[k] = v
            continue
        if rest.startswith("conv_norm_out."):
            out[f"{part}.norm_out." + rest[len("conv_norm_out."):]] = v
            continue
        if rest.startswith("conv_in.") or rest.startswith("conv_out."):
            out[k] = v
            continue
        m = re.match(r"(down|up)_blocks\.(\d+)\.(resnets\.(\d+)|downsamplers\.0|upsamplers\.0)\.(.*)$", rest)
        if m:
            b = int(m[2])
            ldm_b = b if m[1] == "down" else n_blocks - 1 - b
            if m[3].startswith("resnets"):
                out[f"{part}.{m[1]}.{ldm_b}.block.{m[4]}.{_vae_resnet(m[5])}"] = v
            else:
                name = "downsample" if m[1] == "down" else "upsample"
                out[f"{part}.{m[1]}.{ldm_b}.{name}.{m[5]}"] = v
            continue
        m = re.match(r"mid_block\.resnets\.(\d+)\.(.*)$", rest)
        if m:
            out[f"{part}.mid.block_{int(m[1]) + 1}.{_vae_resnet(m[2])}"] = v
            continue
        m = re.match(r"mid_block\.attentions\.0\.(.*)$", rest)
        if m:
            r = m[1]
            for d, l in VAE_ATTN:
                if r.startswith(d):
                    r = l + r[len(d):]
                    break
            else:
                raise KeyError(k)
            t = v
            if r.endswith("weight") and not r.startswith("norm.") and t.ndim == 2:
                t = t[:, :, None, None].contiguous()  # LDM stores these linears as 1x1 convs
            out[f"{part}.mid.attn_1.{r}"] = t
            continue
        raise KeyError(k)
    return out


def text_encoder_to_ldm(sd: dict) -> dict:
    return {"cond_stage_model.transformer." + k: v for k, v in sd.items()}


def assert_same(a: dict, b: dict, what: str) -> None:
    if set(a) != set(b):
        raise AssertionError(f"{what}: key sets differ: {sorted(set(a) ^ set(b))[:10]}")
    for k in a:
        if a[k].shape != b[k].shape or not torch.equal(a[k], b[k]):
            raise AssertionError(f"{what}: tensor {k} differs")
