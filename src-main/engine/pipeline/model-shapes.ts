// The weight names and shapes a config implies (diffusers naming), checked against a
// model's tensors while it is read: a file that does not fit its (inferred or given)
// config fails here with the tensor named, not later as a Reshape error deep in onnxruntime.
import { basename } from 'node:path';
import { CheckpointError } from '../weights/checkpoint.ts';
import type { TensorMap } from '../weights/checkpoint.ts';
import type { ClipTextConfig, ControlNetConfig, UNetConfig, VaeConfig } from '../graph/model-config.ts';

/** Expected shape per canonical name; `optional` tensors are checked only when present (biases, the graphs use them if there). */
export type ExpectedShapes = Map<string, { shape: number[]; optional: boolean }>;

/** Channel counts each GroupNorm divides into `groups` (name → channels). */
type Norms = Map<string, number>;

interface Spec {
  shapes: ExpectedShapes;
  groupNorms: Norms;
  /** Attention layers: name → [channels, heads]. */
  heads: Map<string, [number, number]>;
}

function spec(): Spec {
  return { shapes: new Map(), groupNorms: new Map(), heads: new Map() };
}

function param(s: Spec, prefix: string, shape: number[], bias: 'bias' | 'optional-bias' | 'no-bias' = 'optional-bias'): void {
  s.shapes.set(`${prefix}.weight`, { shape, optional: false });
  if (bias !== 'no-bias') s.shapes.set(`${prefix}.bias`, { shape: [shape[0]!], optional: bias === 'optional-bias' });
}

const conv = (s: Spec, p: string, out: number, inC: number, k = 3): void => param(s, p, [out, inC, k, k]);
const linear = (s: Spec, p: string, out: number, inC: number): void => param(s, p, [out, inC]);
const layerNorm = (s: Spec, p: string, c: number): void => param(s, p, [c], 'bias');

function groupNorm(s: Spec, p: string, c: number): void {
  param(s, p, [c], 'bias');
  s.groupNorms.set(`${p}.weight`, c);
}

function resnet(s: Spec, p: string, inC: number, out: number, temb: number | null): void {
  groupNorm(s, `${p}.norm1`, inC);
  conv(s, `${p}.conv1`, out, inC);
  if (temb !== null) linear(s, `${p}.time_emb_proj`, out, temb);
  groupNorm(s, `${p}.norm2`, out);
  conv(s, `${p}.conv2`, out, out);
  if (inC !== out) conv(s, `${p}.conv_shortcut`, out, inC, 1);
}

function transformer(s: Spec, cfg: UNetConfig, p: string, c: number, heads: number): void {
  groupNorm(s, `${p}.norm`, c);
  const proj = (name: string): void => (cfg.useLinearProjection ? linear(s, name, c, c) : conv(s, name, c, c, 1));
  proj(`${p}.proj_in`);
  const b = `${p}.transformer_blocks.0`;
  for (const n of ['norm1', 'norm2', 'norm3']) layerNorm(s, `${b}.${n}`, c);
  for (const [attn, kv] of [['attn1', c], ['attn2', cfg.crossAttentionDim]] as const) {
    linear(s, `${b}.${attn}.to_q`, c, c);
    linear(s, `${b}.${attn}.to_k`, c, kv);
    linear(s, `${b}.${attn}.to_v`, c, kv);
    linear(s, `${b}.${attn}.to_out.0`, c, c);
    s.heads.set(`${b}.${attn}`, [c, heads]);
  }
  // GEGLU feed-forward, diffusers' fixed 4× inner width
  linear(s, `${b}.ff.net.0.proj`, 8 * c, c);
  linear(s, `${b}.ff.net.2`, c, 4 * c);
  proj(`${p}.proj_out`);
}

/** conv_in, time embedding, down blocks and mid block; returns the skip channels (conv_in first). */
function downAndMid(s: Spec, cfg: UNetConfig): number[] {
  const ch = cfg.blockOutChannels;
  const temb = cfg.timeEmbeddingDim;
  conv(s, 'conv_in', ch[0]!, cfg.inChannels);
  linear(s, 'time_embedding.linear_1', temb, ch[0]!);
  linear(s, 'time_embedding.linear_2', temb, temb);
  const skips = [ch[0]!];
  let prev = ch[0]!;
  ch.forEach((out, i) => {
    for (let l = 0; l < cfg.layersPerBlock; l++) {
      resnet(s, `down_blocks.${i}.resnets.${l}`, l === 0 ? prev : out, out, temb);
      if (cfg.downBlockTypes[i] === 'CrossAttnDownBlock2D') transformer(s, cfg, `down_blocks.${i}.attentions.${l}`, out, cfg.heads[i]!);
      skips.push(out);
    }
    if (i < ch.length - 1) {
      conv(s, `down_blocks.${i}.downsamplers.0.conv`, out, out);
      skips.push(out);
    }
    prev = out;
  });
  const top = ch[ch.length - 1]!;
  resnet(s, 'mid_block.resnets.0', top, top, temb);
  transformer(s, cfg, 'mid_block.attentions.0', top, cfg.heads[ch.length - 1]!);
  resnet(s, 'mid_block.resnets.1', top, top, temb);
  return skips;
}

function unetSpec(cfg: UNetConfig): Spec {
  const s = spec();
  const skips = downAndMid(s, cfg);
  const rev = [...cfg.blockOutChannels].reverse();
  const revHeads = [...cfg.heads].reverse();
  // Up blocks consume the skips last-first, as the graph does.
  let h = rev[0]!;
  rev.forEach((out, i) => {
    for (let l = 0; l <= cfg.layersPerBlock; l++) {
      const skip = skips.pop() ?? 0;
      resnet(s, `up_blocks.${i}.resnets.${l}`, h + skip, out, cfg.timeEmbeddingDim);
      h = out;
      if (cfg.upBlockTypes[i] === 'CrossAttnUpBlock2D') transformer(s, cfg, `up_blocks.${i}.attentions.${l}`, out, revHeads[i]!);
    }
    if (i < rev.length - 1) conv(s, `up_blocks.${i}.upsamplers.0.conv`, out, out);
  });
  groupNorm(s, 'conv_norm_out', cfg.blockOutChannels[0]!);
  conv(s, 'conv_out', cfg.outChannels, cfg.blockOutChannels[0]!);
  return s;
}

function controlNetSpec(cfg: ControlNetConfig): Spec {
  const s = spec();
  const skips = downAndMid(s, cfg);
  const e = cfg.conditioningEmbeddingChannels;
  conv(s, 'controlnet_cond_embedding.conv_in', e[0]!, cfg.conditioningChannels);
  for (let i = 0; i < e.length - 1; i++) {
    conv(s, `controlnet_cond_embedding.blocks.${2 * i}`, e[i]!, e[i]!);
    conv(s, `controlnet_cond_embedding.blocks.${2 * i + 1}`, e[i + 1]!, e[i]!);
  }
  conv(s, 'controlnet_cond_embedding.conv_out', cfg.blockOutChannels[0]!, e[e.length - 1]!);
  skips.forEach((c, i) => conv(s, `controlnet_down_blocks.${i}`, c, c, 1));
  const top = cfg.blockOutChannels[cfg.blockOutChannels.length - 1]!;
  conv(s, 'controlnet_mid_block', top, top, 1);
  return s;
}

function vaeSpec(cfg: VaeConfig): Spec {
  const s = spec();
  const ch = cfg.blockOutChannels;
  const top = ch[ch.length - 1]!;
  const lat = cfg.latentChannels;
  const mid = (p: string): void => {
    resnet(s, `${p}.mid_block.resnets.0`, top, top, null);
    if (cfg.midAttention) {
      groupNorm(s, `${p}.mid_block.attentions.0.group_norm`, top);
      for (const n of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(s, `${p}.mid_block.attentions.0.${n}`, top, top);
    }
    resnet(s, `${p}.mid_block.resnets.1`, top, top, null);
  };
  conv(s, 'encoder.conv_in', ch[0]!, cfg.inChannels);
  let prev = ch[0]!;
  ch.forEach((out, i) => {
    for (let l = 0; l < cfg.layersPerBlock; l++) resnet(s, `encoder.down_blocks.${i}.resnets.${l}`, l === 0 ? prev : out, out, null);
    if (i < ch.length - 1) conv(s, `encoder.down_blocks.${i}.downsamplers.0.conv`, out, out);
    prev = out;
  });
  mid('encoder');
  groupNorm(s, 'encoder.conv_norm_out', top);
  conv(s, 'encoder.conv_out', 2 * lat, top);
  // quant convs are optional in the graphs (diffusers' use_quant_conv)
  conv(s, 'quant_conv', 2 * lat, 2 * lat, 1);
  conv(s, 'post_quant_conv', lat, lat, 1);
  s.shapes.get('quant_conv.weight')!.optional = true;
  s.shapes.get('post_quant_conv.weight')!.optional = true;
  conv(s, 'decoder.conv_in', top, lat);
  mid('decoder');
  const rev = [...ch].reverse();
  prev = top;
  rev.forEach((out, i) => {
    for (let l = 0; l <= cfg.layersPerBlock; l++) resnet(s, `decoder.up_blocks.${i}.resnets.${l}`, l === 0 ? prev : out, out, null);
    if (i < rev.length - 1) conv(s, `decoder.up_blocks.${i}.upsamplers.0.conv`, out, out);
    prev = out;
  });
  groupNorm(s, 'decoder.conv_norm_out', ch[0]!);
  conv(s, 'decoder.conv_out', cfg.outChannels, ch[0]!);
  return s;
}

function clipTextSpec(cfg: ClipTextConfig): Spec {
  const s = spec();
  const h = cfg.hiddenSize;
  param(s, 'text_model.embeddings.token_embedding', [cfg.vocabSize, h], 'no-bias');
  param(s, 'text_model.embeddings.position_embedding', [cfg.maxPositions, h], 'no-bias');
  for (let i = 0; i < cfg.layers; i++) {
    const p = `text_model.encoder.layers.${i}`;
    layerNorm(s, `${p}.layer_norm1`, h);
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) linear(s, `${p}.self_attn.${n}`, h, h);
    s.heads.set(`${p}.self_attn`, [h, cfg.heads]);
    layerNorm(s, `${p}.layer_norm2`, h);
    linear(s, `${p}.mlp.fc1`, cfg.intermediateSize, h);
    linear(s, `${p}.mlp.fc2`, h, cfg.intermediateSize);
  }
  layerNorm(s, 'text_model.final_layer_norm', h);
  return s;
}

export type Component =
  | { kind: 'unet'; cfg: UNetConfig }
  | { kind: 'controlnet'; cfg: ControlNetConfig }
  | { kind: 'vae'; cfg: VaeConfig }
  | { kind: 'text'; cfg: ClipTextConfig };

export function expectedShapes(c: Component): ExpectedShapes {
  return specOf(c).shapes;
}

function specOf(c: Component): Spec {
  switch (c.kind) {
    case 'unet': return unetSpec(c.cfg);
    case 'controlnet': return controlNetSpec(c.cfg);
    case 'vae': return vaeSpec(c.cfg);
    case 'text': return clipTextSpec(c.cfg);
  }
}

const NAMES = { unet: 'UNet', controlnet: 'ControlNet', vae: 'VAE', text: 'text encoder' } as const;
const GROUPS_KEY = { unet: 'norm_num_groups', controlnet: 'norm_num_groups', vae: 'norm_num_groups', text: '' } as const;

export interface CheckOptions {
  /** The model file or folder, for messages. */
  where: string;
  /** The config the user gave (--config / a diffusers folder), null when all is inferred from the tensors. */
  given: Record<string, unknown> | null;
}

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** The file's own key for a canonical tensor (single files rename them), e.g. `model.diffusion_model.out.2.weight`. */
function fileKey(map: TensorMap, name: string): string {
  const src = map.get(name)?.source;
  const key = src?.slice(src.lastIndexOf('#') + 1);
  return key !== undefined && key !== name ? `${key} (${name})` : name;
}

const CONFIG_HINT = 'The file does not say this; pass the model\'s diffusers config with --config (its config.json, or the model folder holding unet/config.json).';

/**
 * Every tensor the config implies must be there with its shape, heads must divide the attention
 * widths and norm groups the GroupNorm widths. Throws CheckpointError (BAD_MODEL) naming the first
 * problem; reads headers only, no tensor data.
 */
export function checkComponentShapes(c: Component, map: TensorMap, opts: CheckOptions): void {
  const s = specOf(c);
  const what = NAMES[c.kind];
  const file = basename(opts.where);
  const givenHas = (...keys: string[]): boolean => opts.given !== null && keys.some((k) => opts.given![k] !== undefined && opts.given![k] !== null);
  const cause = opts.given !== null
    ? 'The given config does not describe this file; check that it belongs to this model.'
    : 'The file\'s other tensors imply that shape: the file is damaged or mixes parts of different models (if its architecture differs in a way the tensors cannot show, pass its diffusers config with --config).';
  for (const [name, want] of s.shapes) {
    const t = map.get(name);
    if (!t) {
      if (want.optional) continue;
      throw new CheckpointError(`${file}: the ${what} has no tensor ${name} (expected shape ${fmt(want.shape)}). ${cause}`);
    }
    if (t.shape.length !== want.shape.length || t.shape.some((d, i) => d !== want.shape[i])) {
      throw new CheckpointError(`${file}: ${what} tensor ${fileKey(map, name)} has shape ${fmt(t.shape)}, expected ${fmt(want.shape)}. ${cause}`);
    }
  }
  const groups = c.kind === 'text' ? 0 : c.cfg.normGroups;
  for (const [name, channels] of s.groupNorms) {
    if (channels % groups !== 0) {
      throw new CheckpointError(
        `${file}: ${what} GroupNorm ${fileKey(map, name)} has ${channels} channels, which ${groups} groups (${GROUPS_KEY[c.kind]}) do not divide. ` +
          (givenHas('norm_num_groups') ? 'The given config\'s norm_num_groups does not fit this model.' : `${groups} is SD's default. ${CONFIG_HINT}`),
      );
    }
  }
  for (const [name, [channels, heads]] of s.heads) {
    if (!(heads >= 1) || channels % heads !== 0) {
      const keys = c.kind === 'text' ? ['num_attention_heads'] : ['attention_head_dim', 'num_attention_heads'];
      const key = keys.join(' / ');
      throw new CheckpointError(
        `${file}: ${what} attention ${name} is ${channels} wide, which ${heads} heads (${key}) do not divide. ` +
          (givenHas(...keys) ? 'The given config\'s head count does not fit this model.' : CONFIG_HINT),
      );
    }
  }
}
