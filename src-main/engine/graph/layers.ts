// Layer helpers over GraphBuilder: each takes the diffusers/transformers module
// path of its weights. Activations are in the builder's float type; norms and
// softmax run in float32 even in fp16 graphs (their reductions overflow or lose
// too much precision in half).
import type { FloatType, GraphBuilder, WeightTensor } from './builder.ts';
import { DataType } from './onnx-proto.ts';
import type { TensorSource } from './tensor-source.ts';

/** How a layer maps to ONNX ops; chosen per execution provider. */
export interface OpChoices {
  /** 'native': GroupNormalization-21; 'instance': Reshape+InstanceNormalization+Reshape+Mul/Add; 'decomposed': ReduceMean/Sqrt. */
  groupNorm: 'native' | 'instance' | 'decomposed';
  /** 'mha': com.microsoft MultiHeadAttention with separate Q, K, V; 'matmul': MatMul/Softmax/MatMul. */
  attention: 'mha' | 'matmul';
  /**
   * 'matmul' only: per level (downsamplings below the latent; the VAE's attention is level 0), the
   * number of query slices token-to-token attention is split into, so that no scores buffer
   * outgrows a GPU's binding limit (see attention-budget.ts). Absent or 1: one piece.
   */
  attentionChunks?: readonly number[];
}

export interface LayerContext {
  b: GraphBuilder;
  w: TensorSource;
  ops: OpChoices;
}

const MS_DOMAIN = 'com.microsoft';

/** Casts to float32 when the graph is fp16 (no-op otherwise). */
export function toF32(ctx: LayerContext, x: string): string {
  return ctx.b.floatType === 'float16' ? ctx.b.op1('Cast', [x], { to: { i: DataType.FLOAT } }) : x;
}

/** Casts a float32 value to the graph's float type (no-op for fp32 graphs). */
export function fromF32(ctx: LayerContext, x: string): string {
  return ctx.b.floatType === 'float16' ? ctx.b.op1('Cast', [x], { to: { i: DataType.FLOAT16 } }) : x;
}

/** Casts between float types (no-op when they are the same). */
export function castFloat(ctx: LayerContext, x: string, from: FloatType, to: FloatType): string {
  return from === to ? x : ctx.b.op1('Cast', [x], { to: { i: floatDataType(to) } });
}

export function floatDataType(t: FloatType): number {
  return t === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
}

export function weight(ctx: LayerContext, name: string, opts: { keepFloat32?: boolean } = {}): string {
  return ctx.b.weight(name, ctx.w.get(name), opts);
}

function reshapedWeight(ctx: LayerContext, name: string, dims: number[], keepFloat32 = false): string {
  const t = ctx.w.get(name);
  return ctx.b.weight(name, { dims, data: t.data }, { keepFloat32 });
}

export interface ConvOptions {
  stride?: number;
  /** [top, left, bottom, right]; default: same padding for odd kernels. */
  pads?: [number, number, number, number];
}

export function conv2d(ctx: LayerContext, x: string, prefix: string, opts: ConvOptions = {}): string {
  const w = ctx.w.get(`${prefix}.weight`);
  const k = w.dims[2] ?? 1;
  const p = (k - 1) >> 1;
  const inputs = [x, ctx.b.weight(`${prefix}.weight`, w)];
  if (ctx.w.has(`${prefix}.bias`)) inputs.push(weight(ctx, `${prefix}.bias`));
  const stride = opts.stride ?? 1;
  return ctx.b.op1('Conv', inputs, {
    kernel_shape: { ints: [k, w.dims[3] ?? 1] },
    strides: { ints: [stride, stride] },
    pads: { ints: opts.pads ? [opts.pads[0], opts.pads[1], opts.pads[2], opts.pads[3]] : [p, p, p, p] },
  }, { name: prefix });
}

/** nn.Linear on the last axis: MatMul with the transposed weight (+ bias). */
export function linear(ctx: LayerContext, x: string, prefix: string): string {
  const w = ctx.w.get(`${prefix}.weight`);
  const [out, inp] = [w.dims[0]!, w.dims[1]!];
  const y = ctx.b.op1('MatMul', [x, ctx.b.weight(`${prefix}.weight`, transpose2d(w, out, inp))], {}, { name: prefix });
  if (!ctx.w.has(`${prefix}.bias`)) return y;
  return ctx.b.op1('Add', [y, weight(ctx, `${prefix}.bias`)]);
}

function transpose2d(w: WeightTensor, rows: number, cols: number): WeightTensor {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w.data[r * cols + c]!;
  return { dims: [cols, rows], data: out };
}

export function silu(ctx: LayerContext, x: string): string {
  return ctx.b.op1('Mul', [x, ctx.b.op1('Sigmoid', [x])]);
}

/** Exact (erf) GELU, as torch's default. */
export function gelu(ctx: LayerContext, x: string): string {
  const b = ctx.b;
  const scaled = b.op1('Mul', [x, b.constFloat([Math.SQRT1_2], [])]);
  const erf1 = b.op1('Add', [b.op1('Erf', [scaled]), b.constFloat([1], [])]);
  return b.op1('Mul', [b.op1('Mul', [x, erf1]), b.constFloat([0.5], [])]);
}

/** CLIP's quick_gelu: x * sigmoid(1.702 x). */
export function quickGelu(ctx: LayerContext, x: string): string {
  const b = ctx.b;
  return b.op1('Mul', [x, b.op1('Sigmoid', [b.op1('Mul', [x, b.constFloat([1.702], [])])])]);
}

export function layerNorm(ctx: LayerContext, x: string, prefix: string, eps: number): string {
  const y = ctx.b.op1('LayerNormalization', [toF32(ctx, x), weight(ctx, `${prefix}.weight`, { keepFloat32: true }), weight(ctx, `${prefix}.bias`, { keepFloat32: true })], {
    axis: { i: -1 },
    epsilon: { f: eps },
  }, { name: prefix });
  return fromF32(ctx, y);
}

/** torch.nn.GroupNorm on NCHW, in the form the target's EP supports. */
export function groupNorm(ctx: LayerContext, x: string, prefix: string, groups: number, eps: number): string {
  const b = ctx.b;
  const gamma = ctx.w.get(`${prefix}.weight`);
  const channels = gamma.dims[0]!;
  const xf = toF32(ctx, x);
  if (ctx.ops.groupNorm === 'native') {
    const y = b.op1('GroupNormalization', [xf, weight(ctx, `${prefix}.weight`, { keepFloat32: true }), weight(ctx, `${prefix}.bias`, { keepFloat32: true })], {
      num_groups: { i: groups },
      epsilon: { f: eps },
    }, { name: prefix });
    return fromF32(ctx, y);
  }
  const grouped = b.op1('Reshape', [xf, b.constInt64([0, groups, -1])]);
  let normed: string;
  if (ctx.ops.groupNorm === 'instance') {
    normed = b.op1('InstanceNormalization', [grouped, b.constFloat(new Float32Array(groups).fill(1), [groups], { float32: true }), b.constFloat(new Float32Array(groups), [groups], { float32: true })], {
      epsilon: { f: eps },
    }, { name: prefix });
  } else {
    // Opset 17 ReduceMean takes axes as an attribute (an input from 18 on).
    const reduce = { axes: { ints: [2] }, keepdims: { i: 1 } };
    const mean = b.op1('ReduceMean', [grouped], reduce);
    const centered = b.op1('Sub', [grouped, mean]);
    const variance = b.op1('ReduceMean', [b.op1('Mul', [centered, centered])], reduce);
    const std = b.op1('Sqrt', [b.op1('Add', [variance, b.constFloat([eps], [], { float32: true })])]);
    normed = b.op1('Div', [centered, std], {}, { name: prefix });
  }
  const restored = b.op1('Reshape', [normed, b.op1('Shape', [xf])]);
  const scaled = b.op1('Mul', [restored, reshapedWeight(ctx, `${prefix}.weight`, [channels, 1, 1], true)]);
  return fromF32(ctx, b.op1('Add', [scaled, reshapedWeight(ctx, `${prefix}.bias`, [channels, 1, 1], true)]));
}

/** Nearest ×2 upsampling (torch F.interpolate(scale_factor=2, mode='nearest')). */
export function upsampleNearest2x(ctx: LayerContext, x: string): string {
  const b = ctx.b;
  return b.op1('Resize', [x, '', b.constFloat([1, 1, 2, 2], [4], { float32: true })], {
    mode: { s: 'nearest' },
    coordinate_transformation_mode: { s: 'asymmetric' },
    nearest_mode: { s: 'floor' },
  });
}

/** [B, C, H, W] → [B, H·W, C]. */
export function toTokens(ctx: LayerContext, x: string, channels: number): string {
  const b = ctx.b;
  return b.op1('Transpose', [b.op1('Reshape', [x, b.constInt64([0, channels, -1])])], { perm: { ints: [0, 2, 1] } });
}

/** [B, H·W, C] → the shape of `like` ([B, C, H, W]). */
export function fromTokens(ctx: LayerContext, tokens: string, like: string): string {
  const b = ctx.b;
  return b.op1('Reshape', [b.op1('Transpose', [tokens], { perm: { ints: [0, 2, 1] } }), b.op1('Shape', [like])]);
}

export interface AttentionShape {
  heads: number;
  /** Channels of q/k/v (heads × head dim). */
  dim: number;
}

/**
 * Scaled dot-product attention on [B, T, C] queries and [B, S, C] keys/values.
 * `bias` (float32, broadcastable to [B, heads, T, S]) is added to the scores,
 * e.g. CLIP's causal mask. `level` marks token-to-token attention (its scores grow with the square
 * of the resolution) at that level, whose queries `ops.attentionChunks` may split.
 */
export function attention(ctx: LayerContext, q: string, k: string, v: string, shape: AttentionShape, bias?: string, opts: { level?: number } = {}): string {
  const b = ctx.b;
  const headDim = shape.dim / shape.heads;
  const scale = 1 / Math.sqrt(headDim);
  if (ctx.ops.attention === 'mha' && !bias) {
    return b.op1('MultiHeadAttention', [q, k, v], { num_heads: { i: shape.heads }, scale: { f: scale } }, { domain: MS_DOMAIN });
  }
  const split = b.constInt64([0, 0, shape.heads, headDim]);
  const qh = b.op1('Transpose', [b.op1('Reshape', [q, split])], { perm: { ints: [0, 2, 1, 3] } });
  const kh = b.op1('Transpose', [b.op1('Reshape', [k, split])], { perm: { ints: [0, 2, 3, 1] } });
  const vh = b.op1('Transpose', [b.op1('Reshape', [v, split])], { perm: { ints: [0, 2, 1, 3] } });
  const attend = (queries: string): string => {
    let scores = toF32(ctx, b.op1('MatMul', [queries, kh]));
    scores = b.op1('Mul', [scores, b.constFloat([scale], [], { float32: true })]);
    if (bias) scores = b.op1('Add', [scores, bias]);
    const probs = fromF32(ctx, b.op1('Softmax', [scores], { axis: { i: -1 } }));
    return b.op1('MatMul', [probs, vh]);
  };
  const chunks = opts.level !== undefined && !bias ? ctx.ops.attentionChunks?.[opts.level] ?? 1 : 1;
  const heads = chunks > 1 ? querySlices(ctx, qh, chunks).map(attend) : [attend(qh)];
  const joined = heads.length > 1 ? b.op1('Concat', heads, { axis: { i: 2 } }) : heads[0]!;
  const out = b.op1('Transpose', [joined], { perm: { ints: [0, 2, 1, 3] } });
  return b.op1('Reshape', [out, b.constInt64([0, 0, shape.dim])]);
}

/**
 * `n` slices of [B, heads, T, d] along T, bounded by ⌊i·T/n⌋: none is empty while T ≥ n (the
 * budget never asks for more slices than its level has tokens). T is read at run time, so the
 * graph keeps any resolution.
 */
function querySlices(ctx: LayerContext, qh: string, n: number): string[] {
  const b = ctx.b;
  const tokens = b.op1('Slice', [b.op1('Shape', [qh]), b.constInt64([2]), b.constInt64([3])]);
  const bound = (i: number): string => b.op1('Div', [b.op1('Mul', [tokens, b.constInt64([i])]), b.constInt64([n])]);
  const axis = b.constInt64([2]);
  const slices: string[] = [];
  for (let i = 0; i < n; i++) slices.push(b.op1('Slice', [qh, bound(i), bound(i + 1), axis]));
  return slices;
}

/** Sinusoidal timestep embedding as diffusers' get_timestep_embedding, computed in-graph from a float32 [N] input. */
export function timestepEmbedding(ctx: LayerContext, timestep: string, dim: number, flipSinToCos: boolean, freqShift: number): string {
  const b = ctx.b;
  const half = dim >> 1;
  // Exponents rounded to float32 step by step as torch computes them, so sin/cos of t≈1000 match closely.
  const logMax = Math.fround(-Math.log(10000));
  const exponents = new Float32Array(half);
  for (let i = 0; i < half; i++) exponents[i] = Math.fround(Math.fround(logMax * i) / (half - freqShift));
  const freqs = b.op1('Exp', [b.constFloat(exponents, [1, half], { float32: true })]);
  const t = b.op1('Unsqueeze', [b.op1('Cast', [timestep], { to: { i: DataType.FLOAT } }), b.constInt64([1])]);
  const args = b.op1('Mul', [t, freqs]);
  const sin = b.op1('Sin', [args]);
  const cos = b.op1('Cos', [args]);
  const emb = b.op1('Concat', flipSinToCos ? [cos, sin] : [sin, cos], { axis: { i: 1 } });
  return fromF32(ctx, emb);
}
