// The pixel/latent-space operations of Rerender's constraints, with the official code's exact
// semantics (PyTorch grid_sample, max_pool2d, torchvision GaussianBlur, bilinear interpolate).
// Planar float maps: a `Plane` is one H×W channel; multi-channel data is C×H×W.

export interface Planes {
  data: Float32Array;
  channels: number;
  width: number;
  height: number;
}

export function planes(data: Float32Array, channels: number, width: number, height: number): Planes {
  if (data.length !== channels * width * height) throw new RangeError(`planes: ${data.length} values for ${channels}×${height}×${width}`);
  return { data, channels, width, height };
}

/** Gaussian kernel of torchvision's GaussianBlur: exp(−x²/2σ²) on linspace(−(k−1)/2, (k−1)/2), normalised. */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  const half = (size - 1) / 2;
  const k = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = -half + i;
    k[i] = Math.exp(-0.5 * (x / sigma) ** 2);
    sum += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i]! /= sum;
  return k;
}

/** Reflect index (no edge repeat), as torch's 'reflect' padding. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  let j = i;
  while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
  return j;
}

/** torchvision GaussianBlur(size, sigma) per channel: separable, reflect padding. */
export function gaussianBlur(p: Planes, size = 9, sigma = 18): Planes {
  const k = gaussianKernel(size, sigma);
  const r = size >> 1;
  const { width: w, height: h } = p;
  const out = new Float32Array(p.data.length);
  const tmp = new Float64Array(w * h);
  for (let c = 0; c < p.channels; c++) {
    const off = c * w * h;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let i = 0; i < size; i++) s += k[i]! * p.data[off + y * w + reflect(x + i - r, w)]!;
        tmp[y * w + x] = s;
      }
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let i = 0; i < size; i++) s += k[i]! * tmp[reflect(y + i - r, h) * w + x]!;
        out[off + y * w + x] = s;
      }
    }
  }
  return { ...p, data: out };
}

/** max_pool2d(kernel k, stride 1, padding k//2): the max over the window clipped to the image. */
export function maxPoolSame(p: Planes, size: number): Planes {
  const r = size >> 1;
  const { width: w, height: h } = p;
  const out = new Float32Array(p.data.length);
  const tmp = new Float32Array(w * h);
  for (let c = 0; c < p.channels; c++) {
    const off = c * w * h;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let m = -Infinity;
        for (let i = Math.max(0, x - r); i <= Math.min(w - 1, x + r); i++) m = Math.max(m, p.data[off + y * w + i]!);
        tmp[y * w + x] = m;
      }
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let m = -Infinity;
        for (let j = Math.max(0, y - r); j <= Math.min(h - 1, y + r); j++) m = Math.max(m, tmp[j * w + x]!);
        out[off + y * w + x] = m;
      }
    }
  }
  return { ...p, data: out };
}

/** max_pool2d(kernel f, stride f): one value per f×f block (sides must divide by f). */
export function maxPoolBlocks(p: Planes, f: number): Planes {
  const w = p.width / f;
  const h = p.height / f;
  if (!Number.isInteger(w) || !Number.isInteger(h)) throw new RangeError(`maxPoolBlocks: ${p.width}×${p.height} does not divide by ${f}`);
  const out = new Float32Array(p.channels * w * h);
  for (let c = 0; c < p.channels; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let m = -Infinity;
        for (let j = 0; j < f; j++) for (let i = 0; i < f; i++) m = Math.max(m, p.data[(c * p.height + y * f + j) * p.width + x * f + i]!);
        out[(c * h + y) * w + x] = m;
      }
    }
  }
  return { data: out, channels: p.channels, width: w, height: h };
}

/**
 * F.interpolate(scale_factor=1/f, mode='bilinear', align_corners=False): output (x, y) samples
 * input (f·x + (f−1)/2, f·y + (f−1)/2), i.e. for even f the mean of the 2×2 centre pixels.
 */
export function bilinearDownsample(p: Planes, f: number): Planes {
  const w = Math.floor(p.width / f);
  const h = Math.floor(p.height / f);
  const out = new Float32Array(p.channels * w * h);
  const sample = (c: number, sx: number, sy: number): number => {
    const x0 = Math.floor(sx);
    const y0 = Math.floor(sy);
    const x1 = Math.min(x0 + 1, p.width - 1);
    const y1 = Math.min(y0 + 1, p.height - 1);
    const fx = sx - x0;
    const fy = sy - y0;
    const at = (x: number, y: number): number => p.data[(c * p.height + y) * p.width + x]!;
    return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x1, y0)) + fy * ((1 - fx) * at(x0, y1) + fx * at(x1, y1));
  };
  for (let c = 0; c < p.channels; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) out[(c * h + y) * w + x] = sample(c, Math.max(0, x * f + (f - 1) / 2), Math.max(0, y * f + (f - 1) / 2));
    }
  }
  return { data: out, channels: p.channels, width: w, height: h };
}

/**
 * out(p) = img(p + flow(p)) as grid_sample(align_corners=True, padding 'zeros'): bilinear taps
 * outside the image count as 0; nearest rounds half to even and gives 0 outside.
 * `flow` is planar [2, H, W] (dx plane, then dy plane) at the image's size.
 */
export function flowWarp(img: Planes, flow: Planes, mode: 'bilinear' | 'nearest'): Planes {
  const { width: w, height: h } = img;
  if (flow.channels !== 2 || flow.width !== w || flow.height !== h) throw new RangeError('flowWarp: flow must be [2, H, W] at the image size');
  const n = w * h;
  const out = new Float32Array(img.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      // The normalise/unnormalise round trip of grid_sample, kept for identical rounding.
      const gx = (2 * (x + flow.data[p]!)) / (w - 1) - 1;
      const gy = (2 * (y + flow.data[n + p]!)) / (h - 1) - 1;
      const sx = ((gx + 1) / 2) * (w - 1);
      const sy = ((gy + 1) / 2) * (h - 1);
      if (mode === 'nearest') {
        const ix = roundHalfEven(sx);
        const iy = roundHalfEven(sy);
        if (ix < 0 || iy < 0 || ix >= w || iy >= h) continue;
        for (let c = 0; c < img.channels; c++) out[c * n + p] = img.data[c * n + iy * w + ix]!;
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < img.channels; c++) {
        let v = 0;
        for (const [xx, yy, wt] of [[x0, y0, (1 - fx) * (1 - fy)], [x0 + 1, y0, fx * (1 - fy)], [x0, y0 + 1, (1 - fx) * fy], [x0 + 1, y0 + 1, fx * fy]] as const) {
          if (xx >= 0 && yy >= 0 && xx < w && yy < h) v += wt * img.data[c * n + yy * w + xx]!;
        }
        out[c * n + p] = v;
      }
    }
  }
  return { ...img, data: out };
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** clamp(blur(maxpool9(occ)) + occ, 0, 1): the official soft occlusion mask. */
export function dilateBlur(occ: Planes): Planes {
  const b = gaussianBlur(maxPoolSame(occ, 9));
  const out = new Float32Array(occ.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, b.data[i]! + occ.data[i]!));
  return { ...occ, data: out };
}

/** 1 where the 3×3 Prewitt gradients of `mask` (replicate padding) are both exactly zero. */
export function findFlatRegion(mask: Planes): Planes {
  const { width: w, height: h } = mask;
  const out = new Float32Array(mask.data.length);
  const at = (c: number, x: number, y: number): number => mask.data[(c * h + Math.min(h - 1, Math.max(0, y))) * w + Math.min(w - 1, Math.max(0, x))]!;
  for (let c = 0; c < mask.channels; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let gx = 0;
        let gy = 0;
        for (let d = -1; d <= 1; d++) {
          gx += at(c, x + 1, y + d) - at(c, x - 1, y + d);
          gy += at(c, x + d, y + 1) - at(c, x + d, y - 1);
        }
        out[(c * h + y) * w + x] = Math.abs(gx) + Math.abs(gy) === 0 ? 1 : 0;
      }
    }
  }
  return { ...mask, data: out };
}

/** Per-channel mean and std of the official calc_mean_std: unbiased variance + 1e-5. */
export function channelMeanStd(x: Planes): { mean: Float64Array; std: Float64Array } {
  const n = x.width * x.height;
  const mean = new Float64Array(x.channels);
  const std = new Float64Array(x.channels);
  for (let c = 0; c < x.channels; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x.data[c * n + i]!;
    const m = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x.data[c * n + i]! - m) ** 2;
    mean[c] = m;
    std[c] = Math.sqrt(v / (n - 1) + 1e-5);
  }
  return { mean, std };
}

/** instance_norm(x) (biased variance, eps 1e-5) · std + mean, per channel. */
export function adain(x: Planes, target: { mean: Float64Array; std: Float64Array }): Float32Array {
  const n = x.width * x.height;
  const out = new Float32Array(x.data.length);
  for (let c = 0; c < x.channels; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x.data[c * n + i]!;
    const m = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x.data[c * n + i]! - m) ** 2;
    const inv = 1 / Math.sqrt(v / n + 1e-5);
    for (let i = 0; i < n; i++) out[c * n + i] = (x.data[c * n + i]! - m) * inv * target.std[c]! + target.mean[c]!;
  }
  return out;
}
