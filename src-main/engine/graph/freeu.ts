// FreeU (Si et al. 2023) in the UNet decoder, as diffusers applies it (`enable_freeu`):
// in up blocks 0 and 1, before each skip concatenation, the first half of the backbone
// channels is scaled by b1/b2 and the skip goes through fourier_filter(threshold 1, s1/s2).
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

/** FreeU factors: b1/b2 scale backbone features, s1/s2 the skips' lowest frequencies. */
export interface FreeUFactors {
  b1: number;
  b2: number;
  s1: number;
  s2: number;
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
  const out = { b1: f.b1, b2: f.b2, s1: f.s1, s2: f.s2 };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FreeUOptionError(`freeu.${k} must be a finite number, got ${String(v)}`);
  }
  return out.b1 === 1 && out.b2 === 1 && out.s1 === 1 && out.s2 === 1 ? null : out;
}

/** The (b, s) pair of up block `index` (diffusers' resolution_idx), or null where FreeU does not act. */
export function freeuStage(f: FreeUFactors | null, index: number): { b: number; s: number } | null {
  if (!f) return null;
  if (index === 0) return { b: f.b1, s: f.s1 };
  if (index === 1) return { b: f.b2, s: f.s2 };
  return null;
}

/** hidden[:, :⌊C/2⌋] *= b, as a Mul by a per-channel [C, 1, 1] constant. */
export function scaleBackbone(ctx: LayerContext, h: string, channels: number, b: number): string {
  if (b === 1) return h;
  const scale = new Float32Array(channels).fill(1);
  scale.fill(b, 0, Math.floor(channels / 2));
  return ctx.b.op1('Mul', [h, ctx.b.constFloat(scale, [channels, 1, 1])], {}, { name: 'freeu_backbone' });
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
