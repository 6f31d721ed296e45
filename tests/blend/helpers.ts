// Shared fixtures for the blend tests: the addon, deterministic images and statistics.
import { defaultAddonPath, loadBlendAddon } from '../../src-main/propagate/blend.ts';
import type { BlendAddon } from '../../src-main/propagate/blend.ts';

/** The built addon; RERENDER_NATIVE_ADDON points at another build (e.g. while native/ is rebuilt). */
export function addon(): BlendAddon {
  return loadBlendAddon(process.env.RERENDER_NATIVE_ADDON ?? defaultAddonPath());
}

/** Small deterministic PRNG (mulberry32) so fixtures are the same on every run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RGB image from a per-pixel colour function. */
export function rgbImage(width: number, height: number, colour: (x: number, y: number) => [number, number, number]): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = colour(x, y);
      const i = (y * width + x) * 3;
      out[i] = r;
      out[i + 1] = g;
      out[i + 2] = b;
    }
  }
  return out;
}

/** Smooth random texture in [0, 1]: a few random sinusoids. */
export function texture(seed: number): (x: number, y: number) => number {
  const r = rng(seed);
  const waves = Array.from({ length: 5 }, () => ({ fx: r() * 0.5, fy: r() * 0.5, ph: r() * 6.28 }));
  return (x, y) => 0.5 + waves.reduce((s, w) => s + Math.sin(w.fx * x + w.fy * y + w.ph), 0) / 10;
}

export function filled<T extends Float32Array | Uint8Array>(arr: T, value: number): T {
  arr.fill(value);
  return arr;
}

/** Per-channel mean and (population) standard deviation of an interleaved image. */
export function channelStats(data: ArrayLike<number>, channels: number): { mean: number[]; std: number[] } {
  const n = data.length / channels;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let i = c; i < data.length; i += channels) s += data[i] ?? 0;
    const m = s / n;
    let v = 0;
    for (let i = c; i < data.length; i += channels) v += ((data[i] ?? 0) - m) ** 2;
    mean.push(m);
    std.push(Math.sqrt(v / n));
  }
  return { mean, std };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}
