// Building blocks shared by the UNet and the ControlNet (diffusers module
// layout): ResnetBlock2D, Transformer2DModel with BasicTransformerBlock, and
// the down path that produces the skip connections.
import { attention, conv2d, gelu, groupNorm, layerNorm, linear, silu, toTokens, fromTokens, timestepEmbedding } from './layers.ts';
import type { LayerContext } from './layers.ts';
import { UnsupportedModelError, type UNetConfig } from './model-config.ts';
import type { Dim } from './builder.ts';

/** Cross-frame attention hook of one self-attention (attn1) layer. */
export interface SelfAttentionHook {
  /** Module path, e.g. "up_blocks.2.attentions.0.transformer_blocks.0.attn1". */
  path: string;
  /** Called with the layer's key/value source ([B, T, C]); returns the source to use instead. */
  keyValueSource(context: string, channels: number): string;
}

export interface UNetBuildState {
  ctx: LayerContext;
  cfg: UNetConfig;
  /** Activated time embedding silu(temb), fed to every resnet's time_emb_proj. */
  tembAct: string;
  encoderHiddenStates: string;
  /** Returns the hook for an attn1 path, or null to attend to itself. */
  hookFor(path: string, block: BlockPosition): SelfAttentionHook | null;
}

export interface BlockPosition {
  part: 'down' | 'mid' | 'up';
  /** Block index within its part (0 for mid). */
  index: number;
  channels: number;
}

export function resnet(s: { ctx: LayerContext; tembAct: string | null }, x: string, prefix: string, groups: number, eps: number): string {
  const ctx = s.ctx;
  const b = ctx.b;
  let h = silu(ctx, groupNorm(ctx, x, `${prefix}.norm1`, groups, eps));
  h = conv2d(ctx, h, `${prefix}.conv1`);
  if (s.tembAct && ctx.w.has(`${prefix}.time_emb_proj.weight`)) {
    const t = linear(ctx, s.tembAct, `${prefix}.time_emb_proj`);
    h = b.op1('Add', [h, b.op1('Unsqueeze', [t, b.constInt64([2, 3])])]);
  }
  h = silu(ctx, groupNorm(ctx, h, `${prefix}.norm2`, groups, eps));
  h = conv2d(ctx, h, `${prefix}.conv2`);
  const shortcut = ctx.w.has(`${prefix}.conv_shortcut.weight`) ? conv2d(ctx, x, `${prefix}.conv_shortcut`) : x;
  return b.op1('Add', [shortcut, h], {}, { name: `${prefix}.out` });
}

/** `level`: set where keys are image tokens at that level (attn1, plain or cross-frame), not the text (attn2). */
function crossAttention(ctx: LayerContext, x: string, kvSource: string, prefix: string, heads: number, dim: number, level?: number): string {
  const q = linear(ctx, x, `${prefix}.to_q`);
  const k = linear(ctx, kvSource, `${prefix}.to_k`);
  const v = linear(ctx, kvSource, `${prefix}.to_v`);
  return linear(ctx, attention(ctx, q, k, v, { heads, dim }, undefined, level !== undefined ? { level } : {}), `${prefix}.to_out.0`);
}

/** Downsamplings below the latent where a block's attention runs (up blocks climb from the deepest). */
function blockLevel(cfg: UNetConfig, pos: BlockPosition): number {
  const deepest = cfg.blockOutChannels.length - 1;
  return pos.part === 'down' ? pos.index : pos.part === 'mid' ? deepest : deepest - pos.index;
}

function feedForwardGeglu(ctx: LayerContext, x: string, prefix: string): string {
  const b = ctx.b;
  const proj = ctx.w.get(`${prefix}.net.0.proj.weight`);
  const inner = proj.dims[0]! / 2;
  const both = linear(ctx, x, `${prefix}.net.0.proj`);
  const [hidden, gate] = b.op('Split', [both, b.constInt64([inner, inner])], { axis: { i: -1 } }, { outputs: 2 });
  return linear(ctx, b.op1('Mul', [hidden!, gelu(ctx, gate!)]), `${prefix}.net.2`);
}

/** Transformer2DModel (one BasicTransformerBlock) on NCHW input. */
export function transformer2d(s: UNetBuildState, x: string, prefix: string, channels: number, heads: number, pos: BlockPosition): string {
  const ctx = s.ctx;
  const b = ctx.b;
  const normed = groupNorm(ctx, x, `${prefix}.norm`, s.cfg.normGroups, 1e-6);
  let h: string;
  if (s.cfg.useLinearProjection) {
    h = linear(ctx, toTokens(ctx, normed, channels), `${prefix}.proj_in`);
  } else {
    h = toTokens(ctx, conv2d(ctx, normed, `${prefix}.proj_in`), channels);
  }
  const blk = `${prefix}.transformer_blocks.0`;
  const n1 = layerNorm(ctx, h, `${blk}.norm1`, 1e-5);
  const hook = s.hookFor(`${blk}.attn1`, pos);
  const kv1 = hook ? hook.keyValueSource(n1, channels) : n1;
  h = b.op1('Add', [crossAttention(ctx, n1, kv1, `${blk}.attn1`, heads, channels, blockLevel(s.cfg, pos)), h]);
  const n2 = layerNorm(ctx, h, `${blk}.norm2`, 1e-5);
  h = b.op1('Add', [crossAttention(ctx, n2, s.encoderHiddenStates, `${blk}.attn2`, heads, channels), h]);
  const n3 = layerNorm(ctx, h, `${blk}.norm3`, 1e-5);
  h = b.op1('Add', [feedForwardGeglu(ctx, n3, `${blk}.ff`), h]);
  let out: string;
  if (s.cfg.useLinearProjection) {
    out = fromTokens(ctx, linear(ctx, h, `${prefix}.proj_out`), x);
  } else {
    out = conv2d(ctx, fromTokens(ctx, h, x), `${prefix}.proj_out`);
  }
  return b.op1('Add', [out, x], {}, { name: `${prefix}.out` });
}

/** conv_in → time embedding: returns silu(temb) for the resnets. */
export function timeEmbedding(ctx: LayerContext, cfg: UNetConfig, timestep: string): string {
  const c0 = cfg.blockOutChannels[0]!;
  const proj = timestepEmbedding(ctx, timestep, c0, cfg.flipSinToCos, cfg.freqShift);
  const h = linear(ctx, silu(ctx, linear(ctx, proj, 'time_embedding.linear_1')), 'time_embedding.linear_2');
  return silu(ctx, h);
}

/** Runs the down blocks from `sample` (conv_in output); returns the last hidden state and every skip (conv_in first). */
export function downPath(s: UNetBuildState, sample: string): { hidden: string; skips: { value: string; channels: number }[] } {
  const { ctx, cfg } = s;
  const skips = [{ value: sample, channels: cfg.blockOutChannels[0]! }];
  let h = sample;
  cfg.downBlockTypes.forEach((type, i) => {
    const channels = cfg.blockOutChannels[i]!;
    const hasAttn = type === 'CrossAttnDownBlock2D';
    if (!hasAttn && type !== 'DownBlock2D') throw new UnsupportedModelError(`unsupported down block type ${type} (SD 1.x UNets use CrossAttnDownBlock2D and DownBlock2D)`);
    for (let l = 0; l < cfg.layersPerBlock; l++) {
      h = resnet(s, h, `down_blocks.${i}.resnets.${l}`, cfg.normGroups, cfg.normEps);
      if (hasAttn) h = transformer2d(s, h, `down_blocks.${i}.attentions.${l}`, channels, cfg.heads[i]!, { part: 'down', index: i, channels });
      skips.push({ value: h, channels });
    }
    if (ctx.w.has(`down_blocks.${i}.downsamplers.0.conv.weight`)) {
      h = conv2d(ctx, h, `down_blocks.${i}.downsamplers.0.conv`, { stride: 2 });
      skips.push({ value: h, channels });
    }
  });
  return { hidden: h, skips };
}

export function midBlock(s: UNetBuildState, h: string): string {
  const { cfg } = s;
  const last = cfg.blockOutChannels.length - 1;
  const channels = cfg.blockOutChannels[last]!;
  let x = resnet(s, h, 'mid_block.resnets.0', cfg.normGroups, cfg.normEps);
  x = transformer2d(s, x, 'mid_block.attentions.0', channels, cfg.heads[last]!, { part: 'mid', index: 0, channels });
  return resnet(s, x, 'mid_block.resnets.1', cfg.normGroups, cfg.normEps);
}

/** Symbolic NCHW dims of a skip at `level` downsamplings of the latent. */
export function skipDims(channels: number, level: number): Dim[] {
  return ['batch', channels, `h/${2 ** level}`, `w/${2 ** level}`];
}
