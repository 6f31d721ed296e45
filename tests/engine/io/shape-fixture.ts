// Random-weight single-file (LDM / A1111 layout) checkpoints of any SD-family shape, written at
// test time: the UNet under model.diffusion_model.* in LDM names, the VAE and the CLIP text
// encoder under their usual prefixes. Shapes come from the configs; values are small and seeded.
import { unetConfig, vaeConfig, clipTextConfig } from '../../../src-main/engine/graph/model-config.ts';
import { expectedShapes } from '../../../src-main/engine/pipeline/model-shapes.ts';
import { writeSafetensors, type TensorToWrite } from '../../../src-main/engine/weights/safetensors.ts';

type Json = Record<string, unknown>;

export interface SingleFileSpec {
  unet: Json;
  vae: Json;
  text: Json;
  /** Changes one LDM key's shape (a damaged or mismatched file). */
  reshape?: { key: string; shape: number[] };
}

const RESNET: Record<string, string> = {
  norm1: 'in_layers.0', conv1: 'in_layers.2', time_emb_proj: 'emb_layers.1', norm2: 'out_layers.0', conv2: 'out_layers.3', conv_shortcut: 'skip_connection',
};

function resnetKey(rest: string): string {
  const dot = rest.indexOf('.');
  return `${RESNET[rest.slice(0, dot)]!}${rest.slice(dot)}`;
}

/** diffusers UNet name → LDM name (the inverse of src-main/engine/weights/ldm-keys.ts). */
export function unetKeyToLdm(key: string, layersPerBlock: number, upHasAttn: readonly boolean[]): string {
  const per = layersPerBlock + 1;
  const fixed: [string, string][] = [
    ['time_embedding.linear_1.', 'time_embed.0.'], ['time_embedding.linear_2.', 'time_embed.2.'],
    ['conv_in.', 'input_blocks.0.0.'], ['conv_norm_out.', 'out.0.'], ['conv_out.', 'out.2.'],
  ];
  for (const [d, l] of fixed) if (key.startsWith(d)) return l + key.slice(d.length);
  let m = /^down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const idx = 1 + Number(m[1]) * per + Number(m[3]);
    return m[2] === 'resnets' ? `input_blocks.${idx}.0.${resnetKey(m[4]!)}` : `input_blocks.${idx}.1.${m[4]!}`;
  }
  m = /^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/.exec(key);
  if (m) return `input_blocks.${(Number(m[1]) + 1) * per}.0.op.${m[2]!}`;
  m = /^mid_block\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(key);
  if (m) return m[1] === 'resnets' ? `middle_block.${2 * Number(m[2])}.${resnetKey(m[3]!)}` : `middle_block.1.${m[3]!}`;
  m = /^up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const idx = Number(m[1]) * per + Number(m[3]);
    return m[2] === 'resnets' ? `output_blocks.${idx}.0.${resnetKey(m[4]!)}` : `output_blocks.${idx}.1.${m[4]!}`;
  }
  m = /^up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/.exec(key);
  if (m) {
    const b = Number(m[1]);
    return `output_blocks.${b * per + layersPerBlock}.${upHasAttn[b] ? 2 : 1}.conv.${m[2]!}`;
  }
  throw new Error(`no LDM name for ${key}`);
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function values(name: string, shape: readonly number[], rnd: () => number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const isNorm = /norm[^.]*\.weight$|norm\.weight$/.test(name) && shape.length === 1;
  if (isNorm) return out.fill(1);
  // ~ 1/sqrt(fan_in) keeps activations bounded through many layers
  const fanIn = shape.length > 1 ? n / shape[0]! : 16;
  const scale = 2 / Math.sqrt(fanIn);
  for (let i = 0; i < n; i++) out[i] = rnd() * scale;
  return out;
}

/** Writes the checkpoint; returns the LDM UNet key of every canonical UNet name (for assertions). */
export function writeSingleFile(path: string, spec: SingleFileSpec, seed = 1): Map<string, string> {
  const rnd = random(seed);
  const tensors = new Map<string, TensorToWrite>();
  const ucfg = unetConfig(spec.unet);
  const upHasAttn = ucfg.upBlockTypes.map((t) => t === 'CrossAttnUpBlock2D');
  const ldmOf = new Map<string, string>();
  const put = (key: string, canonical: string, shape: number[]): void => {
    const s = spec.reshape?.key === key ? spec.reshape.shape : shape;
    tensors.set(key, { dtype: 'F32', shape: s, data: values(canonical, s, rnd) });
  };
  for (const [name, { shape }] of expectedShapes({ kind: 'unet', cfg: ucfg })) {
    const key = `model.diffusion_model.${unetKeyToLdm(name, ucfg.layersPerBlock, upHasAttn)}`;
    ldmOf.set(name, key);
    put(key, name, shape);
  }
  for (const [name, { shape }] of expectedShapes({ kind: 'vae', cfg: vaeConfig(spec.vae) })) put(`first_stage_model.${name}`, name, shape);
  for (const [name, { shape }] of expectedShapes({ kind: 'text', cfg: clipTextConfig(spec.text) })) put(`cond_stage_model.transformer.${name}`, name, shape);
  if (spec.reshape && !tensors.has(spec.reshape.key)) throw new Error(`no tensor ${spec.reshape.key} to reshape`);
  writeSafetensors(path, tensors);
  return ldmOf;
}

/** A small non-SD1.5 model: two UNet blocks of 32/64 channels, one resnet each, linear projections. */
export const ODD_MODEL: SingleFileSpec = {
  unet: {
    block_out_channels: [32, 64],
    layers_per_block: 1,
    down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'],
    up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D'],
    cross_attention_dim: 32,
    use_linear_projection: true,
  },
  vae: { block_out_channels: [32, 32, 32, 32], layers_per_block: 1, latent_channels: 4 },
  // the shipped CLIP tokenizer's vocabulary, so no tokenizer needs to come with it
  text: { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 1, intermediate_size: 64, vocab_size: 49408 },
};
