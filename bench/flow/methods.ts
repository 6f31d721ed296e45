// Flow methods compared on speed and accuracy, without ground-truth flow on disk:
//  - synthetic: a noise texture translated and rotated by a known amount -> end-point error;
//  - real clips: frame t+1 warped back onto t along the forward flow -> photometric error
//    (mean |difference| of 0..255 RGB) over the pixels the forward-backward check keeps, the
//    share it rejects, and the error over every pixel 16+ px from the border.
// Speed: wall and CPU ms per pair, both directions, at S x S (CPU time sums OpenCV's threads and
// is steadier than wall time on a busy machine).
//   node bench/flow/methods.ts [--size 512] [--pairs 4] [--methods dis-medium,dis-fine,...]
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import type { FlowMethod } from '../../src-main/propagate/native.ts';
import { movingFrame } from '../../tests/propagate/helpers.ts';
import { decodeFrames } from './frames.ts';

const { values: args } = parseArgs({ options: {
  size: { type: 'string', default: '512' }, pairs: { type: 'string', default: '4' },
  methods: { type: 'string', default: 'dis-ultrafast,dis-fast,dis-medium,dis-fine,farneback' },
  clips: { type: 'string', default: '../shared/media/Megamind.avi:20:1,../shared/media/vtest.avi:100:1' },
} });
const S = Number(args.size), P = Number(args.pairs);
const methods = (args.methods ?? '').split(',') as FlowMethod[];
const addon = loadPropagateAddon();
const img = (data: Uint8Array, w = S, h = S) => ({ data, width: w, height: h, channels: 3 });

function photometric(a: Uint8Array, warped: Uint8Array, occ: Uint8Array, w: number, h: number): { kept: number; occluded: number; all: number } {
  let se = 0, n = 0, sa = 0, na = 0, o = 0;
  for (let y = 16; y < h - 16; y++) {
    for (let x = 16; x < w - 16; x++) {
      const p = y * w + x;
      let d = 0;
      for (let c = 0; c < 3; c++) d += Math.abs((a[3 * p + c] as number) - (warped[3 * p + c] as number));
      sa += d / 3; na++;
      if (occ[p]) o++; else { se += d / 3; n++; }
    }
  }
  return { kept: se / Math.max(1, n), occluded: o / na, all: sa / na };
}

// Known motion: 2.5 px / 1.25 px shift and 0.03 rad rotation between the two frames (~8 px at the corners).
const syn = [movingFrame(0, 256, 256, 2.5, 1.25, 0.03), movingFrame(1, 256, 256, 2.5, 1.25, 0.03)] as const;
function synthEpe(fwd: Float32Array): number {
  const W = 256, c = W / 2, ang = 0.03;
  let e = 0, n = 0;
  for (let y = 24; y < W - 24; y++) {
    for (let x = 24; x < W - 24; x++) {
      // Content at p in frame 0 sits at R(p - c) + c + v in frame 1.
      const px = x - c, py = y - c;
      const tx = Math.cos(ang) * px - Math.sin(ang) * py + c + 2.5 - x, ty = Math.sin(ang) * px + Math.cos(ang) * py + c + 1.25 - y;
      const i = 2 * (y * W + x);
      e += Math.hypot((fwd[i] as number) - tx, (fwd[i + 1] as number) - ty); n++;
    }
  }
  return e / n;
}

const clips = (args.clips ?? '').split(',').map((s) => { const [file, start, step] = s.split(':'); return { file: file as string, frames: decodeFrames(file as string, Number(start), P + 1, S, S, Number(step ?? 1)) }; });
let rubber: [Uint8Array, Uint8Array] | undefined;
let rubberSize: { w: number; h: number } | undefined;
try {
  const { decode } = await import('fast-png');
  const rw = [1, 2].map((k) => decode(readFileSync(`../shared/media/rubberwhale${k}.png`)));
  const rgb = (p: (typeof rw)[number]) => { const out = new Uint8Array(p.width * p.height * 3); for (let i = 0; i < p.width * p.height; i++) for (let c = 0; c < 3; c++) out[3 * i + c] = Number(p.data[i * p.channels + c]); return out; };
  if (rw[0] && rw[1]) rubber = [rgb(rw[0]), rgb(rw[1])];
  rubberSize = { w: rw[0]?.width ?? 0, h: rw[0]?.height ?? 0 };
} catch { /* optional */ }

console.log(`S=${S}, ${P} pairs per clip; photometric: mean |diff| kept / occluded share / all`);
console.log(`${'method'.padEnd(14)} ${'ms/pair'.padStart(8)} ${'cpu ms'.padStart(8)} ${'synth EPE'.padStart(9)}  ${clips.map((c) => c.file.split('/').pop()?.padEnd(24)).join(' ')} rubberwhale`);
for (const m of methods) {
  let ms = 0, cpu = 0, pairs = 0;
  const row: string[] = [];
  const s = await addon.computeFlow(img(syn[0], 256, 256), img(syn[1], 256, 256), m);
  for (const c of clips) {
    let kept = 0, occ = 0, all = 0;
    for (let i = 0; i < P; i++) {
      const a = c.frames[i] as Uint8Array, b = c.frames[i + 1] as Uint8Array;
      const t = performance.now(), u = process.cpuUsage();
      const f = await addon.computeFlow(img(a), img(b), m);
      ms += performance.now() - t; pairs++;
      const du = process.cpuUsage(u);
      cpu += (du.user + du.system) / 1000;
      const mask = await addon.occlusionMask(f.forward, f.backward, S, S);
      const warped = await addon.warp(img(b), f.forward);
      const r = photometric(a, warped.data, mask, S, S);
      kept += r.kept / P; occ += r.occluded / P; all += r.all / P;
    }
    row.push(`${kept.toFixed(2)} / ${(100 * occ).toFixed(1)}% / ${all.toFixed(2)}`.padEnd(24));
  }
  let rw = '';
  if (rubber && rubberSize) {
    const f = await addon.computeFlow(img(rubber[0], rubberSize.w, rubberSize.h), img(rubber[1], rubberSize.w, rubberSize.h), m);
    const mask = await addon.occlusionMask(f.forward, f.backward, rubberSize.w, rubberSize.h);
    const warped = await addon.warp(img(rubber[1], rubberSize.w, rubberSize.h), f.forward);
    const r = photometric(rubber[0], warped.data, mask, rubberSize.w, rubberSize.h);
    rw = `${r.kept.toFixed(2)} / ${(100 * r.occluded).toFixed(1)}% / ${r.all.toFixed(2)}`;
  }
  console.log(`${m.padEnd(14)} ${(ms / pairs).toFixed(0).padStart(8)} ${(cpu / pairs).toFixed(0).padStart(8)} ${synthEpe(s.forward).toFixed(3).padStart(9)}  ${row.join(' ')} ${rw}`);
}
