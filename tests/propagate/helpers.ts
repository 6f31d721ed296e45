// Fixtures for the propagation tests: a moving texture, a deterministic "stylisation", PSNR.
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import type { PropagateAddon } from '../../src-main/propagate/native.ts';

export function addon(): PropagateAddon {
  return loadPropagateAddon();
}

function hash(x: number, y: number, seed: number): number {
  let h = Math.imul(x, 374761393) + Math.imul(y, 668265263) + Math.imul(seed, 2147483647);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smoothly interpolated lattice noise, a few octaves: varied, non-repeating texture in 0..1. */
export function noise(x: number, y: number, seed: number): number {
  let v = 0;
  let amp = 0.5;
  for (let o = 0; o < 4; o++) {
    const s = 12 / 2 ** o;
    const gx = x / s, gy = y / s;
    const x0 = Math.floor(gx), y0 = Math.floor(gy);
    const fx = gx - x0, fy = gy - y0;
    const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
    const a = hash(x0, y0, seed + o), b = hash(x0 + 1, y0, seed + o);
    const c = hash(x0, y0 + 1, seed + o), d = hash(x0 + 1, y0 + 1, seed + o);
    v += amp * ((a * (1 - sx) + b * sx) * (1 - sy) + (c * (1 - sx) + d * sx) * sy);
    amp /= 2;
  }
  return v / 0.9375;
}

/** Frame t of a texture moving by (vx, vy) px and rotating by `spin` rad per frame. */
export function movingFrame(t: number, w: number, h: number, vx: number, vy: number, spin = 0): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  const cx = w / 2, cy = h / 2;
  const ang = -spin * t, ca = Math.cos(ang), sa = Math.sin(ang);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse motion: where this pixel's content was at t = 0.
      const px = x - vx * t - cx, py = y - vy * t - cy;
      const u = ca * px - sa * py + cx, v = sa * px + ca * py + cy;
      const i = (y * w + x) * 3;
      out[i] = Math.round(255 * noise(u, v, 1));
      out[i + 1] = Math.round(255 * noise(u, v, 2));
      out[i + 2] = Math.round(255 * noise(u, v, 3));
    }
  }
  return out;
}

/**
 * Deterministic stand-in for a diffusion-stylised key frame: luma posterised to 16 levels, then
 * mapped through a colour ramp. Few enough levels to look stylised, enough that a sub-pixel shift
 * of an edge costs little (a hard 5-level posterise caps any patch method near 22 dB).
 */
export function stylise(rgb: Uint8Array): Uint8Array {
  const palette = [[20, 30, 90], [60, 120, 200], [240, 200, 80], [200, 60, 40], [250, 245, 230]];
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const l = (0.299 * (rgb[i] ?? 0) + 0.587 * (rgb[i + 1] ?? 0) + 0.114 * (rgb[i + 2] ?? 0)) / 255;
    const q = Math.round(l * 16) / 16;
    const f = q * (palette.length - 1);
    const k = Math.min(palette.length - 2, Math.floor(f));
    const lo = palette[k] ?? [0, 0, 0], hi = palette[k + 1] ?? [0, 0, 0];
    for (let c = 0; c < 3; c++) out[i + c] = Math.round((lo[c] ?? 0) + (f - k) * ((hi[c] ?? 0) - (lo[c] ?? 0)));
  }
  return out;
}

/** PSNR (dB) of two RGB images over the pixels at least `margin` from every border. */
export function psnr(a: Uint8Array, b: Uint8Array, w: number, h: number, margin = 0): number {
  let se = 0, n = 0;
  for (let y = margin; y < h - margin; y++) {
    for (let x = margin; x < w - margin; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * w + x) * 3 + c;
        se += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
        n++;
      }
    }
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / se);
}

/** PSNR over the pixels of a rectangle [x0, x1) x [y0, y1). */
export function psnrRect(a: Uint8Array, b: Uint8Array, w: number, x0: number, y0: number, x1: number, y1: number): number {
  let se = 0, n = 0;
  for (let y = Math.ceil(y0); y < y1; y++) {
    for (let x = Math.ceil(x0); x < x1; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * w + x) * 3 + c;
        se += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
        n++;
      }
    }
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / se);
}
