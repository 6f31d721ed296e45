// Depth Anything (V1/V2 architecture: DINOv2 ViT + DPT head) as transformers'
// DepthAnythingForDepthEstimation, from weights in the transformers hub layout
// (depth-anything/Depth-Anything-V2-Small-hf model.safetensors; the 5.x in-memory
// names q_proj/k_proj/v_proj/o_proj are accepted too). Input: RGB 0..255 (ImageNet
// normalisation inside), sides multiples of the patch size; output: relative depth.
import { attention, conv2d, fromF32, gelu, layerNorm, linear, toF32, weight } from './layers.ts';
import type { LayerContext } from './layers.ts';
import type { Attr } from './builder.ts';
import type { TensorSource } from './tensor-source.ts';
import { MissingWeightError } from './tensor-source.ts';

export interface DepthAnythingConfig {
  layers: number;
  hidden: number;
  heads: number;
  patch: number;
  /** 1-based layer outputs fed to the neck (transformers' backbone out_indices). */
  outIndices: number[];
  reassembleFactors: number[];
  eps: number;
  /** 'relative' ends in ReLU; 'metric' in sigmoid × maxDepth. */
  depthType: 'relative' | 'metric';
  maxDepth: number;
}

const BB = 'backbone';
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** Transformers 5.x renamed DINOv2's attention at load time; the hub files keep the old names. */
const RENAMES: [string, string][] = [
  ['attention.attention.query.', 'attention.q_proj.'],
  ['attention.attention.key.', 'attention.k_proj.'],
  ['attention.attention.value.', 'attention.v_proj.'],
  ['attention.output.dense.', 'attention.o_proj.'],
];

/** The weights under hub names, falling back to the transformers 5.x names. */
export function depthAnythingWeights(source: TensorSource): TensorSource {
  const alt = (name: string): string | null => {
    for (const [hub, v5] of RENAMES) if (name.includes(hub)) return name.replace(hub, v5);
    return null;
  };
  return {
    has: (name) => source.has(name) || (alt(name) !== null && source.has(alt(name)!)),
    get: (name) => {
      if (source.has(name)) return source.get(name);
      const other = alt(name);
      if (other !== null && source.has(other)) return source.get(other);
      throw new MissingWeightError(name, 'the Depth Anything weights');
    },
  };
}

/** DINOv2 heads are 64 wide; the out indices are those of the released V2 models by depth. */
export function depthAnythingConfig(config: Record<string, unknown>, source: TensorSource): DepthAnythingConfig {
  const w = depthAnythingWeights(source);
  const hidden = w.get(`${BB}.embeddings.cls_token`).dims[2]!;
  let layers = 0;
  while (w.has(`${BB}.encoder.layer.${layers}.norm1.weight`)) layers++;
  const defaults: Record<number, number[]> = { 12: [3, 6, 9, 12], 24: [5, 12, 18, 24], 40: [10, 20, 30, 40] };
  const outIndices = (config['out_indices'] as number[] | undefined) ?? defaults[layers];
  if (!outIndices || outIndices.length !== 4 || outIndices.some((i) => !Number.isInteger(i) || i < 1 || i > layers)) {
    throw new MissingWeightError(`out_indices for ${layers} layers`, 'the Depth Anything config');
  }
  return {
    layers,
    hidden,
    heads: (config['num_attention_heads'] as number | undefined) ?? hidden / 64,
    patch: w.get(`${BB}.embeddings.patch_embeddings.projection.weight`).dims[2]!,
    outIndices,
    reassembleFactors: (config['reassemble_factors'] as number[] | undefined) ?? [4, 2, 1, 0.5],
    eps: (config['layer_norm_eps'] as number | undefined) ?? 1e-6,
    depthType: config['depth_estimation_type'] === 'metric' ? 'metric' : 'relative',
    maxDepth: (config['max_depth'] as number | undefined) ?? 1,
  };
}

function resize(ctx: LayerContext, x: string, sizes: string, mode: 'linear' | 'cubic', transform: 'align_corners' | 'half_pixel'): string {
  // torch's bicubic is Keys' kernel with a = −0.75 (ONNX's default too, stated for clarity).
  const attrs: Record<string, Attr> = { mode: { s: mode }, coordinate_transformation_mode: { s: transform } };
  if (mode === 'cubic') attrs['cubic_coeff_a'] = { f: -0.75 };
  return ctx.b.op1('Resize', [x, '', '', sizes], attrs);
}

/** [N, C, h, w] sizes of `like` with channels kept from `x`, times `mul` on h and w. */
function spatialOf(ctx: LayerContext, x: string, like: string, mul = 1): string {
  const b = ctx.b;
  let hw = b.op1('Slice', [b.op1('Shape', [like]), b.constInt64([2]), b.constInt64([4])]);
  if (mul !== 1) hw = b.op1('Mul', [hw, b.constInt64([mul])]);
  return b.op1('Concat', [b.op1('Slice', [b.op1('Shape', [x]), b.constInt64([0]), b.constInt64([2])]), hw], { axis: { i: 0 } });
}

function vitLayer(ctx: LayerContext, cfg: DepthAnythingConfig, x: string, i: number): string {
  const b = ctx.b;
  const p = `${BB}.encoder.layer.${i}`;
  const n1 = layerNorm(ctx, x, `${p}.norm1`, cfg.eps);
  const q = linear(ctx, n1, `${p}.attention.attention.query`);
  const k = linear(ctx, n1, `${p}.attention.attention.key`);
  const v = linear(ctx, n1, `${p}.attention.attention.value`);
  const att = linear(ctx, attention(ctx, q, k, v, { heads: cfg.heads, dim: cfg.hidden }), `${p}.attention.output.dense`);
  const h = b.op1('Add', [x, b.op1('Mul', [att, weight(ctx, `${p}.layer_scale1.lambda1`)])]);
  const mlp = linear(ctx, gelu(ctx, linear(ctx, layerNorm(ctx, h, `${p}.norm2`, cfg.eps), `${p}.mlp.fc1`)), `${p}.mlp.fc2`);
  return b.op1('Add', [h, b.op1('Mul', [mlp, weight(ctx, `${p}.layer_scale2.lambda1`)])]);
}

function residualUnit(ctx: LayerContext, x: string, prefix: string): string {
  const b = ctx.b;
  const h = conv2d(ctx, b.op1('Relu', [conv2d(ctx, b.op1('Relu', [x]), `${prefix}.convolution1`)]), `${prefix}.convolution2`);
  return b.op1('Add', [h, x]);
}

/**
 * Input `image` [1, 3, H, W] RGB 0..255, H and W multiples of the patch (14); output `depth`
 * [1, 1, H, W] (transformers' predicted_depth with the channel axis kept).
 */
export function buildDepthAnything(ctx0: LayerContext, cfg: DepthAnythingConfig): void {
  const ctx: LayerContext = { ...ctx0, w: depthAnythingWeights(ctx0.w) };
  const b = ctx.b;
  const image = b.input('image', ['batch', 3, 'height', 'width']);
  const scale = MEAN.map((_, c) => 1 / (255 * STD[c]!));
  const shift = MEAN.map((m, c) => -m / STD[c]!);
  const pixels = b.op1('Add', [b.op1('Mul', [image, b.constFloat(scale, [1, 3, 1, 1], { float32: true })]), b.constFloat(shift, [1, 3, 1, 1], { float32: true })]);

  // Patches: [B, C, gh, gw] → tokens [B, gh·gw, C]; the position grid is resized (bicubic) to gh × gw.
  const grid = conv2d(ctx, fromF32(ctx, pixels), `${BB}.embeddings.patch_embeddings.projection`, { stride: cfg.patch, pads: [0, 0, 0, 0] });
  const tokensOf = (x: string): string => b.op1('Transpose', [b.op1('Reshape', [x, b.constInt64([0, cfg.hidden, -1])])], { perm: { ints: [0, 2, 1] } });
  const pos = ctx.w.get(`${BB}.embeddings.position_embeddings`);
  const positions = pos.dims[1]! - 1;
  const side = Math.round(Math.sqrt(positions));
  const posGrid = new Float32Array(positions * cfg.hidden);
  for (let t = 0; t < positions; t++) for (let c = 0; c < cfg.hidden; c++) posGrid[c * positions + t] = pos.data[(t + 1) * cfg.hidden + c]!;
  const posConst = b.constFloat(posGrid, [1, cfg.hidden, side, side], { float32: true });
  const posResized = resize(ctx, posConst, spatialOf(ctx, posConst, grid), 'cubic', 'half_pixel');
  const clsPos = b.constFloat(pos.data.subarray(0, cfg.hidden), [1, 1, cfg.hidden], { float32: true });
  const posTokens = fromF32(ctx, b.op1('Concat', [clsPos, tokensOf(posResized)], { axis: { i: 1 } }));
  const cls = b.op1('Expand', [weight(ctx, `${BB}.embeddings.cls_token`), b.op1('Concat', [b.op1('Slice', [b.op1('Shape', [grid]), b.constInt64([0]), b.constInt64([1])]), b.constInt64([1, cfg.hidden])], { axis: { i: 0 } })]);
  let h = b.op1('Add', [b.op1('Concat', [cls, tokensOf(grid)], { axis: { i: 1 } }), posTokens]);

  const features: string[] = [];
  for (let i = 0; i < cfg.layers; i++) {
    h = vitLayer(ctx, cfg, h, i);
    if (cfg.outIndices.includes(i + 1)) features.push(layerNorm(ctx, h, `${BB}.layernorm`, cfg.eps));
    if (features.length === cfg.outIndices.length) break;
  }

  // Reassemble: drop the class token, back to the patch grid, project and rescale.
  const maps = features.map((f, i) => {
    const patches = b.op1('Slice', [f, b.constInt64([1]), b.constInt64([2 ** 62]), b.constInt64([1])]);
    const spatial = b.op1('Reshape', [b.op1('Transpose', [patches], { perm: { ints: [0, 2, 1] } }), b.op1('Shape', [grid])]);
    const p = `neck.reassemble_stage.layers.${i}`;
    let m = conv2d(ctx, spatial, `${p}.projection`);
    const factor = cfg.reassembleFactors[i]!;
    if (factor > 1) {
      m = b.op1('ConvTranspose', [m, weight(ctx, `${p}.resize.weight`), weight(ctx, `${p}.resize.bias`)], {
        kernel_shape: { ints: [factor, factor] },
        strides: { ints: [factor, factor] },
      });
    } else if (factor < 1) {
      m = conv2d(ctx, m, `${p}.resize`, { stride: Math.round(1 / factor) });
    }
    return conv2d(ctx, m, `neck.convs.${i}`);
  });

  // Fusion, deepest first; each output is resized (bilinear, align_corners) to the next map's size.
  let fused: string | null = null;
  for (let j = 0; j < maps.length; j++) {
    const x = maps[maps.length - 1 - j]!;
    const p = `neck.fusion_stage.layers.${j}`;
    let f: string = fused === null ? x : b.op1('Add', [fused, residualUnit(ctx, x, `${p}.residual_layer1`)]);
    f = residualUnit(ctx, f, `${p}.residual_layer2`);
    const next = maps[maps.length - 2 - j];
    f = resize(ctx, f, next ? spatialOf(ctx, f, next) : spatialOf(ctx, f, f, 2), 'linear', 'align_corners');
    fused = conv2d(ctx, f, `${p}.projection`);
  }

  let d = conv2d(ctx, fused!, 'head.conv1');
  d = resize(ctx, d, spatialOf(ctx, d, grid, cfg.patch), 'linear', 'align_corners');
  d = b.op1('Relu', [conv2d(ctx, d, 'head.conv2')]);
  d = toF32(ctx, conv2d(ctx, d, 'head.conv3'));
  d = b.op1(cfg.depthType === 'metric' ? 'Sigmoid' : 'Relu', [d]);
  if (cfg.maxDepth !== 1) d = b.op1('Mul', [d, b.constFloat([cfg.maxDepth], [], { float32: true })]);
  b.output(d, 'depth', ['batch', 1, 'height', 'width']);
}
