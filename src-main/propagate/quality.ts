// Quality figures for propagated video, shared by tests, benchmarks and the app:
// temporal consistency (flow warping error), key-frame fidelity (PSNR), style fidelity
// (mean best-patch error against the key frame's style).
import type { FlowMethod, PropagateAddon } from './native.ts';

/** PSNR in dB of two equally long byte arrays (Infinity when identical). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`psnr needs two non-empty arrays of equal length, got ${a.length} and ${b.length}`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

export interface WarpError {
  /** Mean squared difference per channel value (0..255 scale) over non-occluded pixels. */
  mse: number;
  /** Fraction of pixels that passed the occlusion check. */
  valid: number;
}

/**
 * Warping error between consecutive outputs: out_t against out_{t-1} carried along the source's
 * flow (toPrev: flow of frame t towards t-1; fromPrev: t-1 towards t), occluded pixels excluded.
 */
export async function warpingError(addon: PropagateAddon, prevOut: Uint8Array, out: Uint8Array, toPrev: Float32Array, fromPrev: Float32Array, width: number, height: number): Promise<WarpError> {
  const [warped, occ] = await Promise.all([
    addon.warp({ data: prevOut, width, height, channels: 3 }, toPrev),
    addon.occlusionMask(toPrev, fromPrev, width, height),
  ]);
  let se = 0;
  let n = 0;
  for (let p = 0; p < width * height; p++) {
    if (occ[p]) continue;
    for (let c = 0; c < 3; c++) se += ((out[p * 3 + c] ?? 0) - (warped.data[p * 3 + c] ?? 0)) ** 2;
    n++;
  }
  return { mse: n > 0 ? se / (n * 3) : 0, valid: n / (width * height) };
}

export interface TemporalConsistency {
  /** Mean over consecutive pairs of the warping MSE. */
  meanMse: number;
  /** The same as a PSNR (dB): higher is steadier. */
  psnr: number;
  pairs: number;
}

/** Temporal consistency of `outputs` (RGB), flows measured on `sources` (the input frames). */
export async function temporalConsistency(addon: PropagateAddon, p: { width: number; height: number; outputs: readonly Uint8Array[]; sources: readonly Uint8Array[]; method?: FlowMethod; flows?: readonly { forward: Float32Array; backward: Float32Array }[] }): Promise<TemporalConsistency> {
  const { width, height, outputs, sources } = p;
  if (outputs.length !== sources.length) throw new RangeError('outputs and sources must have the same length');
  let sum = 0;
  let pairs = 0;
  for (let t = 1; t < outputs.length; t++) {
    const flows = p.flows?.[t - 1] ?? await addon.computeFlow({ data: sources[t - 1] as Uint8Array, width, height, channels: 3 }, { data: sources[t] as Uint8Array, width, height, channels: 3 }, p.method ?? 'dis-medium');
    const e = await warpingError(addon, outputs[t - 1] as Uint8Array, outputs[t] as Uint8Array, flows.backward, flows.forward, width, height);
    sum += e.mse;
    pairs++;
  }
  const meanMse = pairs ? sum / pairs : 0;
  return { meanMse, psnr: meanMse > 0 ? 10 * Math.log10((255 * 255) / meanMse) : Infinity, pairs };
}

/** Key-frame fidelity: PSNR of the output at a key frame against the key image. */
export function keyFramePsnr(output: Uint8Array, key: Uint8Array): number {
  return psnr(output, key);
}

/**
 * Style fidelity: mean (per pixel and channel, 0..255 scale) squared error of each output patch
 * against its best match in the key frame's style. Lower is closer to the style.
 */
export function styleFidelity(addon: PropagateAddon, output: Uint8Array, style: Uint8Array, width: number, height: number, opts: { patchSize?: number; iterations?: number; threads?: number } = {}): Promise<number> {
  return addon.meanBestPatchError({ data: output, width, height, channels: 3 }, { data: style, width, height, channels: 3 }, opts);
}
