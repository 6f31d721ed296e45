// Original LDM / A1111 weight names -> diffusers names (the canonical naming of the engine).
// The inverse of tools/reference/ldm_keys.py; the fixtures check both directions.

export interface UnetLayout {
  /** Resnets per down block (SD 1.x: 2). Up blocks have one more. */
  readonly layersPerBlock: number;
}

const UNET_RESNET: readonly (readonly [string, string])[] = [
  ['in_layers.0', 'norm1'],
  ['in_layers.2', 'conv1'],
  ['emb_layers.1', 'time_emb_proj'],
  ['out_layers.0', 'norm2'],
  ['out_layers.3', 'conv2'],
  ['skip_connection', 'conv_shortcut'],
];

function unetResnet(rest: string): string | null {
  for (const [l, d] of UNET_RESNET) {
    if (rest === l || rest.startsWith(l + '.')) return d + rest.slice(l.length);
  }
  return null;
}

/** Finds layers_per_block from the first downsampler index (input_blocks.{L+1}.0.op). */
export function inferUnetLayout(ldmKeys: Iterable<string>): UnetLayout {
  let first = Infinity;
  for (const k of ldmKeys) {
    const m = /(?:^|\.)input_blocks\.(\d+)\.0\.op\./.exec(k);
    if (m) first = Math.min(first, Number(m[1]));
  }
  return { layersPerBlock: Number.isFinite(first) ? first - 1 : 2 };
}

/**
 * Maps one key of the LDM UNet (or ControlNet trunk) without its prefix, e.g.
 * `input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight`. Returns null when unknown.
 */
export function ldmUnetKeyToDiffusers(key: string, layout: UnetLayout): string | null {
  const per = layout.layersPerBlock + 1;
  const fixed: readonly (readonly [string, string])[] = [
    ['time_embed.0.', 'time_embedding.linear_1.'],
    ['time_embed.2.', 'time_embedding.linear_2.'],
    ['input_blocks.0.0.', 'conv_in.'],
    ['out.0.', 'conv_norm_out.'],
    ['out.2.', 'conv_out.'],
  ];
  for (const [l, d] of fixed) if (key.startsWith(l)) return d + key.slice(l.length);
  let m = /^input_blocks\.(\d+)\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const i = Number(m[1]);
    const slot = Number(m[2]);
    const rest = m[3]!;
    const b = Math.floor((i - 1) / per);
    const l = (i - 1) % per;
    if (l === per - 1) return rest.startsWith('op.') ? `down_blocks.${b}.downsamplers.0.conv.${rest.slice(3)}` : null;
    if (slot === 0) {
      const r = unetResnet(rest);
      return r === null ? null : `down_blocks.${b}.resnets.${l}.${r}`;
    }
    return slot === 1 ? `down_blocks.${b}.attentions.${l}.${rest}` : null;
  }
  m = /^middle_block\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const i = Number(m[1]);
    if (i === 1) return `mid_block.attentions.0.${m[2]!}`;
    const r = unetResnet(m[2]!);
    return r === null ? null : `mid_block.resnets.${i / 2}.${r}`;
  }
  m = /^output_blocks\.(\d+)\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const i = Number(m[1]);
    const slot = Number(m[2]);
    const rest = m[3]!;
    const b = Math.floor(i / per);
    const l = i % per;
    if (slot === 0) {
      const r = unetResnet(rest);
      return r === null ? null : `up_blocks.${b}.resnets.${l}.${r}`;
    }
    if (rest.startsWith('conv.')) return `up_blocks.${b}.upsamplers.0.conv.${rest.slice(5)}`;
    return slot === 1 ? `up_blocks.${b}.attentions.${l}.${rest}` : null;
  }
  return null;
}

/** ControlNet-only LDM parts; `hintLast` is the index of the last input_hint_block conv (14 for SD 1.x). */
export function ldmControlNetKeyToDiffusers(key: string, layout: UnetLayout, hintLast: number): string | null {
  let m = /^zero_convs\.(\d+)\.0\.(.+)$/.exec(key);
  if (m) return `controlnet_down_blocks.${m[1]!}.${m[2]!}`;
  m = /^middle_block_out\.0\.(.+)$/.exec(key);
  if (m) return `controlnet_mid_block.${m[1]!}`;
  m = /^input_hint_block\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const i = Number(m[1]);
    if (i === 0) return `controlnet_cond_embedding.conv_in.${m[2]!}`;
    if (i === hintLast) return `controlnet_cond_embedding.conv_out.${m[2]!}`;
    return i % 2 === 0 ? `controlnet_cond_embedding.blocks.${i / 2 - 1}.${m[2]!}` : null;
  }
  return ldmUnetKeyToDiffusers(key, layout);
}

export function hintLastIndex(ldmKeys: Iterable<string>): number {
  let last = -1;
  for (const k of ldmKeys) {
    const m = /(?:^|\.)input_hint_block\.(\d+)\./.exec(k);
    if (m) last = Math.max(last, Number(m[1]));
  }
  return last;
}

export interface VaeLayout {
  readonly numUpBlocks: number;
}

export function inferVaeLayout(ldmKeys: Iterable<string>): VaeLayout {
  let n = 0;
  for (const k of ldmKeys) {
    const m = /(?:^|\.)decoder\.up\.(\d+)\./.exec(k);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return { numUpBlocks: n };
}

const VAE_ATTN: readonly (readonly [string, string])[] = [
  ['norm.', 'group_norm.'],
  ['q.', 'to_q.'],
  ['k.', 'to_k.'],
  ['v.', 'to_v.'],
  ['proj_out.', 'to_out.0.'],
  // older diffusers names found in some converted files
  ['query.', 'to_q.'],
  ['key.', 'to_k.'],
  ['value.', 'to_v.'],
  ['proj_attn.', 'to_out.0.'],
];

/** LDM VAE key without prefix (`encoder.down.0.block.0.norm1.weight`) -> diffusers. */
export function ldmVaeKeyToDiffusers(key: string, layout: VaeLayout): string | null {
  if (/^(post_)?quant_conv\./.test(key)) return key;
  const dot = key.indexOf('.');
  const part = key.slice(0, dot);
  const rest = key.slice(dot + 1);
  if (part !== 'encoder' && part !== 'decoder') return null;
  if (rest.startsWith('conv_in.') || rest.startsWith('conv_out.')) return key;
  if (rest.startsWith('norm_out.')) return `${part}.conv_norm_out.${rest.slice(9)}`;
  let m = /^(down|up)\.(\d+)\.(block\.(\d+)|downsample|upsample)\.(.+)$/.exec(rest);
  if (m) {
    const ldmB = Number(m[2]);
    const b = m[1] === 'down' ? ldmB : layout.numUpBlocks - 1 - ldmB;
    if (m[4] !== undefined) return `${part}.${m[1]!}_blocks.${b}.resnets.${m[4]}.${m[5]!.replace('nin_shortcut', 'conv_shortcut')}`;
    return `${part}.${m[1]!}_blocks.${b}.${m[1] === 'down' ? 'downsamplers' : 'upsamplers'}.0.${m[5]!}`;
  }
  m = /^mid\.block_(\d+)\.(.+)$/.exec(rest);
  if (m) return `${part}.mid_block.resnets.${Number(m[1]) - 1}.${m[2]!.replace('nin_shortcut', 'conv_shortcut')}`;
  m = /^mid\.attn_1\.(.+)$/.exec(rest);
  if (m) {
    for (const [l, d] of VAE_ATTN) if (m[1]!.startsWith(l)) return `${part}.mid_block.attentions.0.${d}${m[1]!.slice(l.length)}`;
  }
  return null;
}

/** True for VAE attention projections that LDM stores as 1x1 convs and diffusers as linears. */
export function isVaeAttentionProjection(diffusersKey: string): boolean {
  return /mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(diffusersKey);
}

/** Text encoder: canonical names start with `text_model.` (transformers' CLIPTextModel). */
export function textEncoderKeyToCanonical(key: string): string | null {
  if (key.endsWith('position_ids')) return null;
  if (key.startsWith('text_model.')) return key;
  if (/^(embeddings|encoder|final_layer_norm)\./.test(key)) return 'text_model.' + key;
  return null;
}
