// Propagation benchmark on a real clip: seconds per frame for each stage, peak memory, and the
// quality figures, with and without the temporally initialised search.
//   node bench/propagate/run.ts [--clip ../shared/media/Megamind.avi] [--start 20] [--frames 20] [--size 512]
//        [--threads 0] [--init both|on|off] [--flow dis-medium] [--out dir]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encode } from 'fast-png';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import type { FlowMethod } from '../../src-main/propagate/native.ts';
import { propagateVideo } from '../../src-main/propagate/propagate.ts';
import type { FlowCache, FlowDirection } from '../../src-main/propagate/flows.ts';
import { keyFramePsnr, styleFidelity, temporalConsistency } from '../../src-main/propagate/quality.ts';

const { values: args } = parseArgs({
  options: {
    clip: { type: 'string', default: '../shared/media/Megamind.avi' },
    // Megamind.avi fades in from black over its first frames; 20..39 is one shot.
    start: { type: 'string', default: '20' },
    frames: { type: 'string', default: '20' },
    size: { type: 'string', default: '512' },
    threads: { type: 'string', default: '0' },
    init: { type: 'string', default: 'both' },
    flow: { type: 'string', default: 'dis-medium' },
    out: { type: 'string' },
  },
});
const N = Number(args.frames);
const S = Number(args.size);
if (!existsSync(args.clip)) {
  console.error(`clip not found: ${args.clip} (pass --clip)`);
  process.exit(2);
}

/** Decodes N frames from --start, scaled to S on the short side and centre-cropped to S x S. */
function decode(clip: string): Uint8Array[] {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', clip, '-vf', `select=gte(n\\,${Number(args.start)}),scale=${S}:${S}:force_original_aspect_ratio=increase,crop=${S}:${S}`, '-fps_mode', 'passthrough', '-frames:v', String(N), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
  const size = S * S * 3;
  const out: Uint8Array[] = [];
  for (let i = 0; i + size <= r.stdout.length; i += size) out.push(new Uint8Array(r.stdout.subarray(i, i + size)));
  return out;
}

/** Deterministic stand-in for a diffused key frame: posterised luma through a warm colour map. */
function stylise(rgb: Uint8Array): Uint8Array {
  const ramp = [[30, 20, 60], [120, 40, 90], [220, 90, 60], [250, 190, 90], [255, 250, 210]];
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const l = (0.299 * (rgb[i] ?? 0) + 0.587 * (rgb[i + 1] ?? 0) + 0.114 * (rgb[i + 2] ?? 0)) / 255;
    const f = (Math.round(l * 8) / 8) * (ramp.length - 1);
    const k = Math.min(ramp.length - 2, Math.floor(f));
    for (let c = 0; c < 3; c++) {
      const lo = ramp[k]?.[c] ?? 0, hi = ramp[k + 1]?.[c] ?? 0;
      out[i + c] = Math.round(lo + (f - k) * (hi - lo));
    }
  }
  return out;
}

const frames = decode(args.clip);
if (frames.length < 3) throw new Error(`only ${frames.length} frames decoded`);
const n = frames.length;
const addon = loadPropagateAddon();
const keys = [0, n - 1].map((k) => ({ frame: k, image: stylise(frames[k] as Uint8Array) }));
const flows = new Map<string, Float32Array>();
const flowCache: FlowCache = {
  get: (i: number, d: FlowDirection) => flows.get(`${i}:${d}`),
  put: (i: number, d: FlowDirection, data: Float32Array) => { flows.set(`${i}:${d}`, data); },
};

console.log(`clip ${path.basename(args.clip)}: ${n} frames from ${args.start} at ${S}x${S}, keys ${keys.map((k) => k.frame).join(', ')}, threads ${args.threads === '0' ? 'auto' : args.threads}, flow ${args.flow}`);
const modes = args.init === 'both' ? [false, true] : [args.init === 'on'];
for (const temporalInit of modes) {
  const outputs: Uint8Array[] = [];
  const report = await propagateVideo({
    frameCount: n, width: S, height: S, addon, keyframes: keys, flowCache,
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async (i, rgb) => { outputs[i] = rgb; },
  }, { threads: Number(args.threads), temporalInit, flowMethod: args.flow as FlowMethod });
  const interior = n - 2;
  const per = (ms: number, count: number) => (ms / 1000 / Math.max(1, count)).toFixed(2);
  const tc = await temporalConsistency(addon, {
    width: S, height: S, outputs, sources: frames,
    flows: Array.from({ length: n - 1 }, (_, i) => ({ forward: flows.get(`${i}:forward`) as Float32Array, backward: flows.get(`${i}:backward`) as Float32Array })),
  });
  const mid = Math.floor(n / 2);
  const styleMid = await styleFidelity(addon, outputs[mid] as Uint8Array, keys[0]?.image as Uint8Array, S, S);
  console.log(`\n== temporalInit ${temporalInit ? 'on' : 'off'} ==`);
  console.log(`synthesis: ${report.synthesisCount} runs, ${per(report.ms.synthesis, report.synthesisCount)} s per run; ${per(report.ms.synthesis, interior)} s per output frame (two directions)`);
  console.log(`flow: ${per(report.ms.flow, n - 1)} s per frame pair (both directions; cached after the first mode)`);
  console.log(`guides: ${per(report.ms.guides, report.synthesisCount)} s per run; blend: ${per(report.ms.blend, interior)} s per frame`);
  console.log(`total: ${(report.ms.total / 1000).toFixed(1)} s, ${per(report.ms.total, interior)} s per interior frame; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  console.log(`temporal consistency (warping PSNR, higher is steadier): output ${tc.psnr.toFixed(2)} dB, source clip ${(await temporalConsistency(addon, { width: S, height: S, outputs: frames, sources: frames, flows: Array.from({ length: n - 1 }, (_, i) => ({ forward: flows.get(`${i}:forward`) as Float32Array, backward: flows.get(`${i}:backward`) as Float32Array })) })).psnr.toFixed(2)} dB`);
  console.log(`key-frame fidelity: ${keys.map((k) => `${k.frame}: ${keyFramePsnr(outputs[k.frame] as Uint8Array, k.image).toFixed(1)} dB`).join(', ')}`);
  console.log(`style fidelity (mean best-patch error vs key style, lower is closer): frame ${mid} ${styleMid.toFixed(1)}; stylised key ${n - 1} (reference) ${(await styleFidelity(addon, keys[1]?.image as Uint8Array, keys[0]?.image as Uint8Array, S, S)).toFixed(1)}; raw source frame ${mid} ${(await styleFidelity(addon, frames[mid] as Uint8Array, keys[0]?.image as Uint8Array, S, S)).toFixed(1)}`);
  if (args.out) {
    const dir = path.join(args.out, temporalInit ? 'init-on' : 'init-off');
    mkdirSync(dir, { recursive: true });
    const png = (name: string, data: Uint8Array) => writeFileSync(path.join(dir, name), encode({ width: S, height: S, data, channels: 3, depth: 8 }));
    png('key-0.png', outputs[0] as Uint8Array);
    png(`blended-mid-${mid}.png`, outputs[mid] as Uint8Array);
    png(`blended-${n - 2}.png`, outputs[n - 2] as Uint8Array);
    png(`source-mid-${mid}.png`, frames[mid] as Uint8Array);
    console.log(`PNGs in ${dir}`);
  }
}
