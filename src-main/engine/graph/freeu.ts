// FreeU (Si et al. 2023) in the UNet decoder, before each up resnet's skip concatenation.
// 'diffusers' (`enable_freeu`): in up blocks 0 and 1 the first half of the backbone channels is
// scaled by b1/b2 and the skip goes through fourier_filter(threshold 1, s1/s2); ControlNet
// residuals are added to the skip before the filter. 'official' (Rerender's src/freeu.py): the
// stage follows the backbone's channel count (largest → b1/s1, second largest → b2/s2), the
// backbone factor is structure-aware, (b − 1)·m + 1 with m its per-sample min-max-normalised
// channel mean, and residuals are added after the filter.
//
// The filter is built from MatMuls rather than ONNX DFT (which WebGPU and CUDA lack): after
// fftshift, threshold 1 selects the frequencies {0, -1} of each side (only {0} for a side of 1),
// so the filtered skip is exactly y = x + (s - 1)·Re(P_H x P_Wᵀ), P_N = F⁻¹·diag(mask)·F. Split
// into real parts: Re(P_H x P_Wᵀ) = R_H x R_W + I_H x I_W with R[n,j] = (1 + c·cos θ)/N,
// I[n,j] = c·sin θ/N, θ = 2π(n − j)/N, c = 1 if N > 1 else 0. The N×N matrices are computed
// in-graph from the runtime shape, so one graph serves every resolution.
import type { LayerContext } from './layers.ts';
import { fromF32, toF32 } from './layers.ts';
import { DataType } from './onnx-proto.ts';
import { CodedError } from '../../errors.ts';

export type FreeUVariant = 'diffusers' | 'official';

/** FreeU factors: b1/b2 scale backbone features, s1/s2 the skips' lowest frequencies. */
export interface FreeUFactors {
  b1: number;
  b2: number;
  s1: number;
  s2: number;
  /** Absent: 'diffusers'. */
  variant?: FreeUVariant;
}

export class FreeUOptionError extends CodedError<'INVALID_ARGUMENT'> {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/**
 * Validated factors, or null when FreeU changes nothing (absent, or every factor 1). A factor
 * of 0 is applied as given (diffusers would silently switch FreeU off for it).
 */
export function normalizeFreeU(f: FreeUFactors | null | undefined): FreeUFactors | null {
  if (!f) return null;
  const factors = { b1: f.b1, b2: f.b2, s1: f.s1, s2: f.s2 };
  for (const [k, v] of Object.entries(factors)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FreeUOptionError(`freeu.${k} must be a finite number, got ${String(v)}`);
  }
  const variant: unknown = f.variant ?? 'diffusers';
  if (variant !== 'diffusers' && variant !== 'official') throw new FreeUOptionError(`freeu.variant must be diffusers or official, got ${String(variant)}`);
  if (factors.b1 === 1 && factors.b2 === 1 && factors.s1 === 1 && factors.s2 === 1) return null;
  // The diffusers variant stays without the field, so its cache keys are those from before variants.
  return variant === 'official' ? { ...factors, variant } : factors;
}

/**
 * The (b, s) pair for the up resnet of up block `upBlock` whose backbone input has `channels`
 * channels, or null where FreeU does not act. diffusers picks by block (its resolution_idx 0
 * and 1); the official code by channel count, which in SD 1.5 also reaches the first resnets
 * of up blocks 2 and 3 (whose input still has the previous block's width).
 */
export function freeuStage(f: FreeUFactors | null, upBlock: number, channels: number, blockOutChannels: readonly number[]): { b: number; s: number } | null {
  if (!f) return null;
  const stage = f.variant === 'official' ? [...new Set(blockOutChannels)].sort((x, y) => y - x).indexOf(channels) : upBlock;
  if (stage === 0) return { b: f.b1, s: f.s1 };
  if (stage === 1) return { b: f.b2, s: f.s2 };
  return null;
}

/** hidden[:, :⌊C/2⌋] *= b, as a Mul by a per-channel [C, 1, 1] constant (diffusers). */
export function scaleBackbone(ctx: LayerContext, h: string, channels: number, b: number): string {
  if (b === 1) return h;
  const scale = new Float32Array(channels).fill(1);
  scale.fill(b, 0, Math.floor(channels / 2));
  return ctx.b.op1('Mul', [h, ctx.b.constFloat(scale, [channels, 1, 1])], {}, { name: 'freeu_backbone' });
}

/**
 * Official (structure-aware) backbone scaling: hidden[:, :⌊C/2⌋] *= (b − 1)·m + 1, with m the
 * channel mean of hidden ([B, 1, H, W]) min-max normalised per sample over H, W. Computed in
 * float32 as h · (1 + m·v), v = [C, 1, 1] holding b − 1 in the first half and 0 after it. The
 * reductions are a 1×1 Conv and GlobalMaxPool, whose forms do not change between opsets 17 and 21.
 */
export function scaleBackboneStructured(ctx: LayerContext, h: string, channels: number, b: number): string {
  if (b === 1) return h;
  const g = ctx.b;
  const f32 = (values: number[] | Float32Array, dims: number[]): string => g.constFloat(values, dims, { float32: true });
  const hf = toF32(ctx, h);
  const mean = g.op1('Conv', [hf, f32(new Float32Array(channels).fill(1 / channels), [1, channels, 1, 1])]);
  const max = g.op1('GlobalMaxPool', [mean]);
  const min = g.op1('Neg', [g.op1('GlobalMaxPool', [g.op1('Neg', [mean])])]);
  const m = g.op1('Div', [g.op1('Sub', [mean, min]), g.op1('Sub', [max, min])]);
  const v = new Float32Array(channels);
  v.fill(b - 1, 0, Math.floor(channels / 2));
  const scale = g.op1('Add', [g.op1('Mul', [m, f32(v, [channels, 1, 1])]), f32([1], [])]);
  return fromF32(ctx, g.op1('Mul', [hf, scale], {}, { name: 'freeu_backbone' }));
}

interface SideMatrices {
  re: string;
  im: string;
}

/** R and I (see the header) for the side of `x` on `axis`, float32 [N, N]. */
function sideMatrices(ctx: LayerContext, x: string, axis: number): SideMatrices {
  const b = ctx.b;
  const n = b.op1('Squeeze', [b.op1('Shape', [x], { start: { i: axis }, end: { i: axis + 1 } }), b.constInt64([0])]);
  const idx = b.op1('Cast', [b.op1('Range', [b.constInt64([0], []), n, b.constInt64([1], [])])], { to: { i: DataType.FLOAT } });
  const diff = b.op1('Sub', [b.op1('Unsqueeze', [idx, b.constInt64([1])]), b.op1('Unsqueeze', [idx, b.constInt64([0])])]);
  const nf = b.op1('Cast', [n], { to: { i: DataType.FLOAT } });
  const theta = b.op1('Mul', [diff, b.op1('Div', [b.constFloat([2 * Math.PI], [], { float32: true }), nf])]);
  const one = b.constFloat([1], [], { float32: true });
  // c = min(N − 1, 1): a side of one sample keeps only frequency 0.
  const c = b.op1('Min', [b.op1('Sub', [nf, one]), one]);
  const re = b.op1('Div', [b.op1('Add', [one, b.op1('Mul', [c, b.op1('Cos', [theta])])]), nf]);
  const im = b.op1('Div', [b.op1('Mul', [c, b.op1('Sin', [theta])]), nf]);
  return { re, im };
}

/** Low-pass matrices for the spatial sides of `like` ([B, C, H, W]); shared by same-sized skips. */
export function lowPassMatrices(ctx: LayerContext, like: string): { h: SideMatrices; w: SideMatrices } {
  return { h: sideMatrices(ctx, like, 2), w: sideMatrices(ctx, like, 3) };
}

/** diffusers' fourier_filter(x, threshold=1, scale=s), computed in float32. */
export function fourierFilter(ctx: LayerContext, x: string, s: number, m: { h: SideMatrices; w: SideMatrices }): string {
  if (s === 1) return x;
  const b = ctx.b;
  const xf = toF32(ctx, x);
  const real = b.op1('MatMul', [b.op1('MatMul', [m.h.re, xf]), m.w.re]);
  const imag = b.op1('MatMul', [b.op1('MatMul', [m.h.im, xf]), m.w.im]);
  const low = b.op1('Add', [real, imag]);
  const y = b.op1('Add', [xf, b.op1('Mul', [low, b.constFloat([s - 1], [], { float32: true })])], {}, { name: 'freeu_skip' });
  return fromF32(ctx, y);
}
