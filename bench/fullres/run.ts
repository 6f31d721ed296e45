// Full-resolution output: which upsampling of the working-size propagation best matches a
// ground truth made at the source's own size.
//   node bench/fullres/run.ts [--clips megamind,vtest] [--styles paint,ink] [--frames 6]
//        [--sizes 512,256] [--media ../shared/media] [--out test-artifacts/fullres] [--reps 5]
// Protocol, per clip, style and working short side:
//   truth_t  = applyStyle(source_t at FULL size)             (the style has no temporal state)
//   keys     = truth at both ends, brought to the working geometry (crop + bicubic, as the project
//              holds key frames)
//   outputs  = propagateVideo at the working size from those keys
//   each method upsamples every output to the full frame, guided by the full-size source (the
//   aspect-fix crop is extrapolated), and is scored against truth_t: PSNR, SSIM, and sharpness
//   (mean Sobel magnitude of luma, relative to the truth's: 1 = as sharp, < 1 blurrier).
// "ideal" rows upsample the truth itself brought to the working size: the upsampler alone, without
// propagation's errors. A 512 short side on these ~540-line clips is barely an upscale (x1.03);
// 256 is the ratio a 1080p source has at the default 512 (x2.1).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encode } from 'fast-png';
import { clipByName, requireMedia } from '../quality/clips.ts';
import { drawLabel } from '../quality/label.ts';
import { psnr, ssim } from '../quality/metrics.ts';
import { applyStyle, STYLE_NAMES } from '../quality/styles.ts';
import { workingGeometry, type WorkingGeometry } from '../../src-main/media/geometry.ts';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import { propagateVideo } from '../../src-main/propagate/propagate.ts';
import { loadUpsampler, type UpsampleOptions } from '../../src-main/propagate/upsample.ts';

const { values: a } = parseArgs({
  options: {
    clips: { type: 'string', default: 'megamind,vtest' },
    styles: { type: 'string', default: 'paint,ink' },
    frames: { type: 'string', default: '6' },
    sizes: { type: 'string', default: '512,256' },
    media: { type: 'string', default: '../shared/media' },
    out: { type: 'string', default: 'test-artifacts/fullres' },
    reps: { type: 'string', default: '5' },
  },
});
const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
const clips = list(a.clips).map(clipByName);
requireMedia(a.media, clips);
const styles = list(a.styles);
for (const s of styles) if (!(STYLE_NAMES as readonly string[]).includes(s)) throw new RangeError(`unknown style ${s}; one of ${STYLE_NAMES.join(', ')}`);
const N = Number(a.frames);
if (!Number.isInteger(N) || N < 3) throw new RangeError('--frames must be an integer >= 3');

interface Method { name: string; options: UpsampleOptions }
const METHODS: Method[] = [
  { name: 'bicubic', options: { method: 'bicubic' } },
  { name: 'joint-bilateral', options: { method: 'joint-bilateral' } },
  { name: 'guided r2 1e-4', options: { method: 'guided', radius: 2, eps: 1e-4 } },
  { name: 'guided r4 1e-3', options: { method: 'guided', radius: 4, eps: 1e-3 } },
  { name: 'guided-luma r2', options: { method: 'guided-luma', radius: 2, eps: 1e-4 } },
  { name: 'detail r2 1e-4', options: { method: 'detail', radius: 2, eps: 1e-4 } },
  { name: 'detail r4 1e-3', options: { method: 'detail', radius: 4, eps: 1e-3 } },
];

function ffmpegRaw(args: string[], input?: Uint8Array): Uint8Array {
  const r = spawnSync('ffmpeg', ['-v', 'error', ...args, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}
function split(buf: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + size <= buf.length; i += size) out.push(buf.slice(i, i + size));
  return out;
}
function probeSize(file: string): { width: number; height: number } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]);
  const [w, h] = r.stdout.toString().trim().split(',').map(Number);
  return { width: w!, height: h! };
}
/** Raw full-size frames through the working geometry's filter (crop + bicubic), as the project does. */
function toWorking(frames: readonly Uint8Array[], fw: number, fh: number, g: WorkingGeometry): Uint8Array[] {
  const raw = ffmpegRaw(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${fw}x${fh}`, '-i', '-', '-vf', g.filter], Buffer.concat(frames));
  return split(raw, g.width * g.height * 3);
}

function sharpness(rgb: Uint8Array, w: number, h: number): number {
  let s = 0;
  const l = (x: number, y: number) => { const i = (y * w + x) * 3; return 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!; };
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const gx = l(x + 1, y - 1) + 2 * l(x + 1, y) + l(x + 1, y + 1) - l(x - 1, y - 1) - 2 * l(x - 1, y) - l(x - 1, y + 1);
      const gy = l(x - 1, y + 1) + 2 * l(x, y + 1) + l(x + 1, y + 1) - l(x - 1, y - 1) - 2 * l(x, y - 1) - l(x + 1, y - 1);
      s += Math.hypot(gx, gy);
    }
  }
  return s / ((w - 2) * (h - 2));
}

/** PSNR over the pixels outside the rendered rectangle (the aspect-fix margin, extrapolated). */
function marginPsnr(a: Uint8Array, b: Uint8Array, w: number, h: number, r: { x: number; y: number; width: number; height: number }): number {
  let se = 0, n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height) continue;
      for (let c = 0; c < 3; c++) se += (a[(y * w + x) * 3 + c]! - b[(y * w + x) * 3 + c]!) ** 2;
      n += 3;
    }
  }
  return n === 0 ? NaN : 10 * Math.log10((255 * 255 * n) / Math.max(se, 1e-9));
}

const mean = (xs: readonly number[]): number => xs.reduce((p, q) => p + q, 0) / xs.length;
const up = loadUpsampler();
const addon = loadPropagateAddon();
interface Row { clip: string; style: string; size: number; scale: number; input: string; method: string; psnr: number; margin: number; ssim: number; sharp: number; ms: number }
const rows: Row[] = [];
const pictures = new Map<string, Uint8Array>();
const picSize = new Map<string, { width: number; height: number }>();
mkdirSync(a.out, { recursive: true });

for (const clip of clips) {
  const file = path.join(a.media, clip.file);
  const { width: fw, height: fh } = probeSize(file);
  const select = `select=gte(n\\,${clip.start})`;
  const full = split(ffmpegRaw(['-i', file, '-vf', select, '-fps_mode', 'passthrough', '-frames:v', String(N)]), fw * fh * 3);
  if (full.length < N) throw new Error(`${clip.file}: ${full.length} of ${N} frames`);
  for (const style of styles) {
    const truth = full.map((f) => applyStyle(style, f, fw, fh));
    const truthSharp = mean(truth.map((t) => sharpness(t, fw, fh)));
    for (const size of list(a.sizes).map(Number)) {
      const g = workingGeometry({ width: fw, height: fh }, { shortSide: size });
      const rect = { x: g.crop.left, y: g.crop.top, width: fw - g.crop.left - g.crop.right, height: fh - g.crop.top - g.crop.bottom };
      const scale = rect.height / g.height;
      const src = toWorking(full, fw, fh, g);
      const truthLow = toWorking(truth, fw, fh, g);
      const outputs: Uint8Array[] = new Array<Uint8Array>(N);
      const t0 = performance.now();
      await propagateVideo({
        frameCount: N, width: g.width, height: g.height, addon,
        keyframes: [{ frame: 0, image: truthLow[0]! }, { frame: N - 1, image: truthLow[N - 1]! }],
        sourceFrame: async (i) => src[i]!,
        writeFrame: async (i, rgb) => { outputs[i] = rgb; },
      });
      console.error(`${clip.name} ${style} ${g.width}x${g.height} (x${scale.toFixed(2)}): propagated ${N} frames in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      for (const [input, lows] of [['propagated', outputs], ['ideal', truthLow]] as const) {
        for (const m of METHODS) {
          const ps: number[] = [], mg: number[] = [], ss: number[] = [], sh: number[] = [], ms: number[] = [];
          const keep: Uint8Array[] = [];
          for (let i = 0; i < N; i++) {
            const t = performance.now();
            const o = await up({ data: lows[i]!, width: g.width, height: g.height, channels: 3 }, { data: full[i]!, width: fw, height: fh, channels: 3 }, { ...m.options, rect });
            ms.push(performance.now() - t);
            ps.push(psnr(o, truth[i]!));
            mg.push(marginPsnr(o, truth[i]!, fw, fh, rect));
            ss.push(ssim(o, truth[i]!, fw, fh));
            sh.push(sharpness(o, fw, fh) / truthSharp);
            keep.push(o);
          }
          rows.push({ clip: clip.name, style, size, scale, input, method: m.name, psnr: mean(ps), margin: mean(mg), ssim: mean(ss), sharp: mean(sh), ms: mean(ms) });
          const mid = Math.floor(N / 2);
          if (input === 'propagated') pictures.set(`${clip.name}-${style}-${size}-${m.name}`, keep[mid]!);
        }
      }
      pictures.set(`${clip.name}-${style}-${size}-truth`, truth[Math.floor(N / 2)]!);
      picSize.set(clip.name, { width: fw, height: fh });
    }
  }
}

// ---- report
const fmt = (r: Row): string => `| ${r.clip} | ${r.style} | ${r.size} (x${r.scale.toFixed(2)}) | ${r.input} | ${r.method} | ${r.psnr.toFixed(2)} | ${r.margin.toFixed(2)} | ${r.ssim.toFixed(4)} | ${r.sharp.toFixed(3)} | ${r.ms.toFixed(1)} |`;
console.log('| clip | style | short side (scale) | input | method | PSNR dB | margin PSNR dB | SSIM | sharpness vs truth | ms/frame |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(fmt(r));
console.log('\nMeans over clips and styles:');
console.log('| short side | input | method | PSNR dB | margin PSNR dB | SSIM | sharpness | ms/frame |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const size of list(a.sizes).map(Number)) {
  for (const input of ['propagated', 'ideal']) {
    for (const m of METHODS) {
      const rs = rows.filter((r) => r.size === size && r.input === input && r.method === m.name);
      console.log(`| ${size} | ${input} | ${m.name} | ${mean(rs.map((r) => r.psnr)).toFixed(2)} | ${mean(rs.map((r) => r.margin)).toFixed(2)} | ${mean(rs.map((r) => r.ssim)).toFixed(4)} | ${mean(rs.map((r) => r.sharp)).toFixed(3)} | ${mean(rs.map((r) => r.ms)).toFixed(1)} |`);
    }
  }
}

// ---- one frame beside its bicubic upscale and the truth, then 1:1 crops magnified x2
function composite(key: string, names: readonly string[], w: number, h: number): void {
  const imgs = names.map((n) => pictures.get(`${key}-${n}`)!);
  const strip = 14, W = w * imgs.length;
  const cw = Math.floor(w / 3), ch = Math.floor(h / 3), cx = Math.floor(w / 3), cy = Math.floor(h / 3);
  const H = strip + h + strip + 2 * ch;
  const data = new Uint8Array(W * H * 3).fill(255);
  imgs.forEach((im, k) => {
    for (let y = 0; y < h; y++) data.set(im.subarray(y * w * 3, (y + 1) * w * 3), ((y + strip) * W + k * w) * 3);
    drawLabel(data, W, H, k * w + 3, 2, names[k]!);
    for (let y = 0; y < 2 * ch; y++) {
      for (let x = 0; x < 2 * cw; x++) {
        const s = ((cy + (y >> 1)) * w + cx + (x >> 1)) * 3;
        data.set(im.subarray(s, s + 3), ((strip * 2 + h + y) * W + k * w + x) * 3);
      }
    }
    drawLabel(data, W, H, k * w + 3, strip + h + 2, `${names[k]} crop x2`);
  });
  const file = path.join(a.out, `${key}.png`);
  writeFileSync(file, encode({ width: W, height: H, data, channels: 3, depth: 8 }));
  console.log(`wrote ${file}`);
}
for (const clip of clips) {
  const s = picSize.get(clip.name)!;
  for (const size of list(a.sizes).map(Number)) composite(`${clip.name}-${styles[0]}-${size}`, ['truth', 'bicubic', 'detail r2 1e-4', 'guided r2 1e-4'], s.width, s.height);
}

// ---- cost at 1080p: a 1920x1080 source whose working size is 896x512 (crop 1890x1080)
{
  const g = workingGeometry({ width: 1920, height: 1080 }, { shortSide: 512 });
  const file = path.join(a.media, clips[0]!.file);
  const guide = ffmpegRaw(['-i', file, '-vf', `select=gte(n\\,${clips[0]!.start}),scale=1920:1080:flags=bicubic`, '-frames:v', '1']);
  const low = toWorking([guide], 1920, 1080, g)[0]!;
  const rect = { x: g.crop.left, y: g.crop.top, width: 1920 - g.crop.left - g.crop.right, height: 1080 - g.crop.top - g.crop.bottom };
  console.log(`\nCost per 1080p frame (working ${g.width}x${g.height} -> 1920x1080, median of ${a.reps}):`);
  for (const m of METHODS) {
    const t: number[] = [];
    for (let r = 0; r < Number(a.reps); r++) {
      const s = performance.now();
      await up({ data: low, width: g.width, height: g.height, channels: 3 }, { data: guide, width: 1920, height: 1080, channels: 3 }, { ...m.options, rect });
      t.push(performance.now() - s);
    }
    t.sort((p, q) => p - q);
    console.log(`  ${m.name.padEnd(16)} ${t[Math.floor(t.length / 2)]!.toFixed(1)} ms`);
  }
}
