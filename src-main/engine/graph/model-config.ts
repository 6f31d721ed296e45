// Typed views of the diffusers / transformers config.json fields the graph
// builders read, with the library defaults; unsupported variants fail loudly.
import { CodedError } from '../../errors.ts';

export class UnsupportedModelError extends CodedError<'UNSUPPORTED_MODEL'> {
  constructor(message: string) {
    super('UNSUPPORTED_MODEL', message);
  }
}

type Json = Record<string, unknown>;

function num(cfg: Json, key: string, fallback?: number): number {
  const v = cfg[key];
  if (typeof v === 'number') return v;
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
  }
  throw new UnsupportedModelError(`config.json: "${key}" must be a number`);
}

function nums(cfg: Json, key: string, fallback?: number[]): number[] {
  const v = cfg[key];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  if ((v === undefined || v === null) && fallback) return fallback;
  throw new UnsupportedModelError(`config.json: "${key}" must be a list of numbers`);
}

function strs(cfg: Json, key: string, fallback?: string[]): string[] {
  const v = cfg[key];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  if ((v === undefined || v === null) && fallback) return fallback;
  throw new UnsupportedModelError(`config.json: "${key}" must be a list of strings`);
}

function bool(cfg: Json, key: string, fallback: boolean): boolean {
  const v = cfg[key];
  return typeof v === 'boolean' ? v : fallback;
}

function perBlock(cfg: Json, key: string, blocks: number): number[] | null {
  const v = cfg[key];
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Array<number>(blocks).fill(v);
  if (Array.isArray(v) && v.length === blocks && v.every((x) => typeof x === 'number')) return v as number[];
  throw new UnsupportedModelError(`config.json: "${key}" must be a number or one per block`);
}

export interface UNetConfig {
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  downBlockTypes: string[];
  upBlockTypes: string[];
  crossAttentionDim: number;
  /** Attention heads per down block (up blocks use it reversed). */
  heads: number[];
  /** Width of the time embedding (diffusers' time_embedding_dim; default 4 × block_out_channels[0]). */
  timeEmbeddingDim: number;
  normGroups: number;
  normEps: number;
  useLinearProjection: boolean;
  flipSinToCos: boolean;
  freqShift: number;
}

export function unetConfig(cfg: Json): UNetConfig {
  const blockOutChannels = nums(cfg, 'block_out_channels', [320, 640, 1280, 1280]);
  const n = blockOutChannels.length;
  const heads = perBlock(cfg, 'num_attention_heads', n) ?? perBlock(cfg, 'attention_head_dim', n) ?? Array<number>(n).fill(8);
  const layers = cfg['layers_per_block'];
  if (Array.isArray(layers)) throw new UnsupportedModelError('config.json: per-block "layers_per_block" is not supported');
  const tlpb = cfg['transformer_layers_per_block'];
  if (tlpb !== undefined && tlpb !== null && tlpb !== 1 && !(Array.isArray(tlpb) && tlpb.every((d) => d === 1))) {
    throw new UnsupportedModelError(`config.json: transformer_layers_per_block ${JSON.stringify(tlpb)} is not supported (one transformer block per attention, as SD 1.x/2.x)`);
  }
  for (const key of ['addition_embed_type', 'class_embed_type', 'encoder_hid_dim']) {
    if (cfg[key] !== undefined && cfg[key] !== null) throw new UnsupportedModelError(`config.json: "${key}" is not supported (SD 1.x/2.x UNets only)`);
  }
  if (bool(cfg, 'only_cross_attention', false)) throw new UnsupportedModelError('config.json: only_cross_attention is not supported');
  const midType = cfg['mid_block_type'];
  if (midType !== undefined && midType !== null && midType !== 'UNetMidBlock2DCrossAttn') throw new UnsupportedModelError(`config.json: mid block ${String(midType)} is not supported`);
  const act = cfg['act_fn'];
  if (act !== undefined && act !== 'silu') throw new UnsupportedModelError(`config.json: act_fn ${String(act)} is not supported`);
  return {
    inChannels: num(cfg, 'in_channels', 4),
    outChannels: num(cfg, 'out_channels', 4),
    blockOutChannels,
    layersPerBlock: num(cfg, 'layers_per_block', 2),
    downBlockTypes: strs(cfg, 'down_block_types', ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D']),
    upBlockTypes: strs(cfg, 'up_block_types', ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D']),
    crossAttentionDim: num(cfg, 'cross_attention_dim', 768),
    heads,
    timeEmbeddingDim: num(cfg, 'time_embedding_dim', 4 * blockOutChannels[0]!),
    normGroups: num(cfg, 'norm_num_groups', 32),
    normEps: num(cfg, 'norm_eps', 1e-5),
    useLinearProjection: bool(cfg, 'use_linear_projection', false),
    flipSinToCos: bool(cfg, 'flip_sin_to_cos', true),
    freqShift: num(cfg, 'freq_shift', 0),
  };
}

export interface ControlNetConfig extends UNetConfig {
  conditioningChannels: number;
  conditioningEmbeddingChannels: number[];
}

export function controlNetConfig(cfg: Json): ControlNetConfig {
  const order = cfg['controlnet_conditioning_channel_order'];
  if (order !== undefined && order !== 'rgb') throw new UnsupportedModelError('config.json: only rgb ControlNet conditioning is supported');
  if (bool(cfg, 'global_pool_conditions', false)) throw new UnsupportedModelError('config.json: global_pool_conditions is not supported');
  const base = unetConfig({ ...cfg, up_block_types: [], out_channels: 4 });
  return {
    ...base,
    conditioningChannels: num(cfg, 'conditioning_channels', 3),
    conditioningEmbeddingChannels: nums(cfg, 'conditioning_embedding_out_channels', [16, 32, 96, 256]),
  };
}

export interface VaeConfig {
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  normGroups: number;
  scalingFactor: number;
  midAttention: boolean;
}

export function vaeConfig(cfg: Json): VaeConfig {
  const down = strs(cfg, 'down_block_types', ['DownEncoderBlock2D']);
  if (down.some((t) => t !== 'DownEncoderBlock2D')) throw new UnsupportedModelError('config.json: only DownEncoderBlock2D VAE blocks are supported');
  return {
    inChannels: num(cfg, 'in_channels', 3),
    outChannels: num(cfg, 'out_channels', 3),
    latentChannels: num(cfg, 'latent_channels', 4),
    blockOutChannels: nums(cfg, 'block_out_channels', [64]),
    layersPerBlock: num(cfg, 'layers_per_block', 1),
    normGroups: num(cfg, 'norm_num_groups', 32),
    scalingFactor: num(cfg, 'scaling_factor', 0.18215),
    midAttention: bool(cfg, 'mid_block_add_attention', true),
  };
}

export interface ClipTextConfig {
  hiddenSize: number;
  intermediateSize: number;
  vocabSize: number;
  layers: number;
  heads: number;
  maxPositions: number;
  eps: number;
  activation: 'quick_gelu' | 'gelu';
}

export function clipTextConfig(cfg: Json): ClipTextConfig {
  const act = cfg['hidden_act'] ?? 'quick_gelu';
  if (act !== 'quick_gelu' && act !== 'gelu') throw new UnsupportedModelError(`config.json: hidden_act ${String(act)} is not supported`);
  const hiddenSize = num(cfg, 'hidden_size', 512);
  return {
    hiddenSize,
    intermediateSize: num(cfg, 'intermediate_size', 4 * hiddenSize),
    vocabSize: num(cfg, 'vocab_size', 49408),
    layers: num(cfg, 'num_hidden_layers', 12),
    heads: num(cfg, 'num_attention_heads', 8),
    maxPositions: num(cfg, 'max_position_embeddings', 77),
    eps: num(cfg, 'layer_norm_eps', 1e-5),
    activation: act,
  };
}
