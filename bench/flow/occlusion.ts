// Forward-backward occlusion check against known occlusions: a textured square moving over a
// textured background (both moving, large motions), so the background the square covers in the
// next frame, and what leaves the frame, are occluded by construction. Scores the native mask
// and variants of its thresholds (computed here in JS) by precision / recall / F1 of "occluded".
//   node bench/flow/occlusion.ts [--size 256] [--methods dis-medium,dis-fine]
import { parseArgs } from 'node:util';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import type { FlowMethod } from '../../src-main/propagate/native.ts';
import { noise } from '../../tests/propagate/helpers.ts';

const { values: args } = parseArgs({ options: { size: { type: 'string', default: '256' }, methods: { type: 'string', default: 'dis-medium,dis-fine' } } });
const S = Number(args.size);
const addon = loadPropagateAddon();

interface Scene { bg: [number, number]; fg: [number, number] }
const SQ = Math.round(S * 0.3);
const inSquare = (x: number, y: number, t: number, s: Scene) => {
  const x0 = S * 0.35 + s.fg[0] * t, y0 = S * 0.35 + s.fg[1] * t;
  return x >= x0 && x < x0 + SQ && y >= y0 && y < y0 + SQ;
};
function frame(t: number, s: Scene): Uint8Array {
  const out = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const fg = inSquare(x, y, t, s);
      const [vx, vy] = fg ? s.fg : s.bg;
      const u = x - vx * t, v = y - vy * t;
      for (let c = 0; c < 3; c++) out[3 * (y * S + x) + c] = Math.round(255 * noise(u + (fg ? 500 : 0), v, fg ? 10 + c : c + 1));
    }
  }
  return out;
}
function truth(s: Scene): Uint8Array {
  const occ = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const fg = inSquare(x, y, 0, s);
      const [vx, vy] = fg ? s.fg : s.bg;
      const qx = x + vx, qy = y + vy;
      const gone = qx < 0 || qy < 0 || qx > S - 1 || qy > S - 1;
      occ[y * S + x] = gone || (!fg && inSquare(qx, qy, 1, s)) ? 1 : 0;
    }
  }
  return occ;
}
function bilinear(f: Float32Array, x: number, y: number): [number, number] {
  x = Math.min(Math.max(x, 0), S - 1); y = Math.min(Math.max(y, 0), S - 1);
  const x0 = Math.floor(x), y0 = Math.floor(y), x1 = Math.min(x0 + 1, S - 1), y1 = Math.min(y0 + 1, S - 1), ax = x - x0, ay = y - y0;
  const g = (xx: number, yy: number, c: number) => f[2 * (yy * S + xx) + c] as number;
  const r = (c: number) => (1 - ay) * ((1 - ax) * g(x0, y0, c) + ax * g(x1, y0, c)) + ay * ((1 - ax) * g(x0, y1, c) + ax * g(x1, y1, c));
  return [r(0), r(1)];
}
/** Sundaram et al. round-trip test with tunable alpha/beta, plus an optional motion-boundary test. */
function mask(f: Float32Array, o: Float32Array, alpha: number, beta: number, boundary: number): Uint8Array {
  const m = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const i = 2 * (y * S + x), fx = f[i] as number, fy = f[i + 1] as number;
      const qx = x + fx, qy = y + fy;
      if (qx < 0 || qy < 0 || qx > S - 1 || qy > S - 1) { m[y * S + x] = 1; continue; }
      const [ox, oy] = bilinear(o, qx, qy);
      const lhs = (fx + ox) ** 2 + (fy + oy) ** 2;
      let occ = lhs > alpha * (fx * fx + fy * fy + ox * ox + oy * oy) + beta;
      if (!occ && boundary > 0 && x > 0 && y > 0 && x < S - 1 && y < S - 1) {
        const gx = (c: number) => ((f[i + 2 + c] as number) - (f[i - 2 + c] as number)) / 2, gy = (c: number) => ((f[i + 2 * S + c] as number) - (f[i - 2 * S + c] as number)) / 2;
        const grad = gx(0) ** 2 + gy(0) ** 2 + gx(1) ** 2 + gy(1) ** 2;
        occ = grad > boundary * (fx * fx + fy * fy) + 0.002;
      }
      m[y * S + x] = occ ? 1 : 0;
    }
  }
  return m;
}
function score(m: Uint8Array, t: Uint8Array): { p: number; r: number; f1: number } {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < t.length; i++) {
    if (m[i] && t[i]) tp++; else if (m[i]) fp++; else if (t[i]) fn++;
  }
  const p = tp / Math.max(1, tp + fp), r = tp / Math.max(1, tp + fn);
  return { p, r, f1: (2 * p * r) / Math.max(1e-9, p + r) };
}

const scenes: [string, Scene][] = [
  ['small 2/4 px', { bg: [1, 0.5], fg: [4, -2] }],
  ['medium 3/12 px', { bg: [-3, 1], fg: [12, 5] }],
  ['large 6/24 px', { bg: [6, -2], fg: [-24, 10] }],
  ['huge 4/40 px', { bg: [4, 2], fg: [40, -16] }],
];
const variants: [string, number, number, number][] = [
  ['native 0.01/0.5', 0.01, 0.5, 0], ['0.01/0.25', 0.01, 0.25, 0], ['0.01/1', 0.01, 1, 0], ['0.01/2', 0.01, 2, 0],
  ['0.005/0.5', 0.005, 0.5, 0], ['0.02/0.5', 0.02, 0.5, 0], ['0.05/0.5', 0.05, 0.5, 0], ['0.01/0.5 +boundary', 0.01, 0.5, 0.01],
];
const rgb = (data: Uint8Array) => ({ data, width: S, height: S, channels: 3 });
for (const method of (args.methods ?? '').split(',') as FlowMethod[]) {
  console.log(`\n${method} at ${S}x${S}: F1 of occluded (precision/recall) per scene`);
  console.log(`${'variant'.padEnd(20)} ${scenes.map(([n]) => n.padEnd(20)).join(' ')}  mean F1`);
  const data = [];
  for (const [, s] of scenes) {
    const f = await addon.computeFlow(rgb(frame(0, s)), rgb(frame(1, s)), method);
    const nativeMask = await addon.occlusionMask(f.forward, f.backward, S, S);
    data.push({ f, t: truth(s), nativeMask });
  }
  for (const [name, alpha, beta, boundary] of variants) {
    let sum = 0;
    const cells = data.map(({ f, t, nativeMask }) => {
      const m = name.startsWith('native') ? nativeMask : mask(f.forward, f.backward, alpha, beta, boundary);
      const r = score(m, t);
      sum += r.f1;
      return `${r.f1.toFixed(3)} (${r.p.toFixed(2)}/${r.r.toFixed(2)})`.padEnd(20);
    });
    console.log(`${name.padEnd(20)} ${cells.join(' ')}  ${(sum / data.length).toFixed(3)}`);
  }
}
