// Figures of the quality benchmark: SSIM against the truth, and the temporal warping error
// (mean absolute difference) measured along the source's flow with occlusions left out.
import type { PropagateAddon } from '../../src-main/propagate/native.ts';

function luma(rgb: Uint8Array, n: number): Float64Array {
  const l = new Float64Array(n);
  for (let p = 0; p < n; p++) l[p] = 0.299 * (rgb[p * 3] ?? 0) + 0.587 * (rgb[p * 3 + 1] ?? 0) + 0.114 * (rgb[p * 3 + 2] ?? 0);
  return l;
}

const WINDOW = 11;
const SIGMA = 1.5;
const KERNEL: Float64Array = (() => {
  const k = new Float64Array(WINDOW);
  const r = (WINDOW - 1) / 2;
  let s = 0;
  for (let i = 0; i < WINDOW; i++) s += k[i] = Math.exp(-((i - r) ** 2) / (2 * SIGMA * SIGMA));
  return k.map((v) => v / s);
})();

/** Gaussian-weighted local means over the 'valid' region: (w-10) x (h-10) outputs. */
function filterValid(src: Float64Array, width: number, height: number): Float64Array {
  const ow = width - WINDOW + 1;
  const oh = height - WINDOW + 1;
  const tmp = new Float64Array(ow * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < WINDOW; i++) s += (KERNEL[i] ?? 0) * (src[y * width + x + i] ?? 0);
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < WINDOW; i++) s += (KERNEL[i] ?? 0) * (tmp[(y + i) * ow + x] ?? 0);
      out[y * ow + x] = s;
    }
  }
  return out;
}

/**
 * SSIM (Wang et al. 2004) on BT.601 luma of two RGB images: 11x11 Gaussian window, sigma 1.5,
 * K1 0.01, K2 0.03, L 255, averaged over the windows that fit inside the image (no padding).
 */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < WINDOW || height < WINDOW) {
    throw new RangeError(`ssim needs images of at least ${WINDOW}x${WINDOW}, got ${String(width)}x${String(height)}`);
  }
  const n = width * height;
  if (a.length !== n * 3 || b.length !== n * 3) throw new RangeError(`ssim needs two ${n * 3}-byte RGB images, got ${a.length} and ${b.length}`);
  const x = luma(a, n);
  const y = luma(b, n);
  const xx = x.map((v) => v * v);
  const yy = y.map((v) => v * v);
  const xy = x.map((v, i) => v * (y[i] ?? 0));
  const [mx, my, sxx, syy, sxy] = [x, y, xx, yy, xy].map((p) => filterValid(p, width, height)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let sum = 0;
  for (let i = 0; i < mx.length; i++) {
    const ux = mx[i] ?? 0, uy = my[i] ?? 0;
    const vx = (sxx[i] ?? 0) - ux * ux, vy = (syy[i] ?? 0) - uy * uy, cov = (sxy[i] ?? 0) - ux * uy;
    sum += ((2 * ux * uy + c1) * (2 * cov + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  }
  return sum / mx.length;
}

// PSNR is the propagator's own (src-main/propagate/quality.ts), re-exported with the bench's metrics.
export { psnr } from '../../src-main/propagate/quality.ts';

/** Flows between frames i and i+1 of the source: forward (i towards i+1), backward (i+1 towards i). */
export interface FlowPair {
  forward: Float32Array;
  backward: Float32Array;
}

/**
 * Per consecutive pair t-1 -> t: mean absolute difference (0..255 per channel value) of out_t
 * against out_{t-1} warped by the source's flow, pixels failing the forward-backward check left
 * out (0 when every pixel fails it).
 */
export async function warpErrors(addon: PropagateAddon, outputs: readonly Uint8Array[], flows: readonly FlowPair[], width: number, height: number): Promise<number[]> {
  if (flows.length < outputs.length - 1) throw new RangeError(`warp errors need ${outputs.length - 1} flow pairs, got ${flows.length}`);
  const errors: number[] = [];
  for (let t = 1; t < outputs.length; t++) {
    const f = flows[t - 1] as FlowPair;
    const [warped, occ] = await Promise.all([
      addon.warp({ data: outputs[t - 1] as Uint8Array, width, height, channels: 3 }, f.backward),
      addon.occlusionMask(f.backward, f.forward, width, height),
    ]);
    const out = outputs[t] as Uint8Array;
    let ae = 0;
    let n = 0;
    for (let p = 0; p < width * height; p++) {
      if (occ[p]) continue;
      for (let c = 0; c < 3; c++) ae += Math.abs((out[p * 3 + c] ?? 0) - (warped.data[p * 3 + c] ?? 0));
      n++;
    }
    errors.push(n > 0 ? ae / (n * 3) : 0);
  }
  return errors;
}

/** Mean of warpErrors over all consecutive pairs (each pair weighs the same). */
export async function warpMae(addon: PropagateAddon, outputs: readonly Uint8Array[], flows: readonly FlowPair[], width: number, height: number): Promise<number> {
  const e = await warpErrors(addon, outputs, flows, width, height);
  return e.length ? e.reduce((a, b) => a + b, 0) / e.length : 0;
}
