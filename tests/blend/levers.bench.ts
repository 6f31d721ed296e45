// Benchmark (not a test): the blend levers against a ground truth. One propagateVideo run per
// segment records what the blending stage receives (A, B, errors, flow per frame); every variant
// then replays only the blend, so many option sets cost seconds. Needs ../shared/media.
//   node tests/blend/levers.bench.ts [--clip megamind] [--style paint] [--length 10] [--size 320x256]
//     [--variant name='{"selection":"nearest"}' ...] [--out DIR (mid frame of each variant beside the truth)]
// Without --variant it runs the built-in table. "ebsynth" (nearest key, picked, no fusion) is what
// EbSynth's two-key workflow gives; "before" is the old default.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encode } from 'fast-png';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { blendSequence, loadBlendAddon } from '../../src-main/propagate/blend.ts';
import type { BlendAddon, BlendFrameInput, BlendOptions, SequenceFrame } from '../../src-main/propagate/blend.ts';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import { propagateVideo } from '../../src-main/propagate/propagate.ts';
import { clipByName, decodeFrames, requireMedia } from '../../bench/quality/clips.ts';
import { psnr, ssim, warpMae } from '../../bench/quality/metrics.ts';
import type { FlowPair } from '../../bench/quality/metrics.ts';
import { applyStyle } from '../../bench/quality/styles.ts';

// One lever at a time from the defaults (hysteresis selection, pick, fusion, de-flicker 0.7).
const VARIANTS: Record<string, BlendOptions> = {
  ebsynth: { selection: 'nearest', mix: 'pick', poisson: false, deflicker: 0 },
  before: { selection: 'carry', histogram: true, gradClip: 100, deflicker: 0 },
  crossfade: { selection: 'crossfade', deflicker: 0 },
  defaults: {},
  // 1. selection (de-flicker off to see the rule alone)
  'sel carry': { selection: 'carry', deflicker: 0 },
  'sel hysteresis': { deflicker: 0 },
  'sel hysteresis 0.1': { hysteresis: 0.1, deflicker: 0 },
  'sel hysteresis r2': { selectionRadius: 2, deflicker: 0 },
  'sel nearest+fuse': { selection: 'nearest', deflicker: 0 },
  // 2. mixing and fusion
  'mix histogram': { mix: 'histogram', deflicker: 0 },
  'mix alpha': { mix: 'alpha', deflicker: 0 },
  'mix pick': { deflicker: 0 },
  'mix pick, no fusion': { poisson: false, deflicker: 0 },
  'mix pick, screening 1': { screening: 1, deflicker: 0 },
  'mix pick, band 0.7': { mixBand: 0.7, deflicker: 0 },
  // 3. de-flicker
  'deflicker 0.5': { deflicker: 0.5 },
  'deflicker 0.85': { deflicker: 0.85 },
  'deflicker 0.7 tol 6': { deflickerTolerance: 6 },
  'deflicker 0.7 tol 24': { deflickerTolerance: 24 },
};

const { values } = parseArgs({
  options: {
    clip: { type: 'string', default: 'megamind' },
    style: { type: 'string', default: 'paint' },
    length: { type: 'string', default: '10' },
    size: { type: 'string', default: '320x256' },
    media: { type: 'string' },
    variant: { type: 'string', multiple: true },
    out: { type: 'string' },
  },
});
const [width, height] = (values.size ?? '').split('x').map(Number) as [number, number];
const n = Number(values.length);
const here = path.dirname(fileURLToPath(import.meta.url));
const mediaDir = values.media ?? path.resolve(here, '..', '..', '..', 'shared', 'media');
const clip = clipByName(values.clip ?? 'megamind');
requireMedia(mediaDir, [clip]);

const variants: Record<string, BlendOptions> = values.variant?.length
  ? Object.fromEntries(values.variant.map((v) => {
    const eq = v.indexOf('=');
    return [v.slice(0, eq), JSON.parse(v.slice(eq + 1)) as BlendOptions];
  }))
  : VARIANTS;

/** Mean absolute luma gradient (forward differences): a blur or a ghost lowers it, noise raises it. */
function sharpness(rgb: Uint8Array): number {
  const luma = (i: number) => 0.299 * rgb[3 * i]! + 0.587 * rgb[3 * i + 1]! + 0.114 * rgb[3 * i + 2]!;
  let sum = 0;
  for (let y = 0; y + 1 < height; y++) {
    for (let x = 0; x + 1 < width; x++) {
      const i = y * width + x;
      sum += Math.abs(luma(i + 1) - luma(i)) + Math.abs(luma(i + width) - luma(i));
    }
  }
  return sum / ((width - 1) * (height - 1));
}

const addon = loadPropagateAddon();
const blend = loadBlendAddon();
const frames = decodeFrames(path.join(mediaDir, clip.file), clip.start, n, clip.stride, width, height);
const truth = frames.map((f) => applyStyle(values.style ?? 'paint', f, width, height));
const pairs: FlowPair[] = [];
const flows = new Map<string, Float32Array>();
for (let i = 0; i + 1 < n; i++) {
  const f = await addon.computeFlow({ data: frames[i]!, width, height, channels: 3 }, { data: frames[i + 1]!, width, height, channels: 3 }, 'dis-medium');
  pairs.push(f);
  flows.set(`${i}:forward`, f.forward);
  flows.set(`${i}:backward`, f.backward);
}

// One real run, recording each frame's blend inputs.
const recorded = new Map<number, SequenceFrame>();
const recorder: BlendAddon = {
  ...blend,
  blendFrame: async (input: BlendFrameInput) => {
    const t = Math.round(input.w * (n - 1));
    recorded.set(t, { a: input.a.slice(), b: input.b.slice(), errA: input.errA.slice(), errB: input.errB.slice(), flow: input.flow ? input.flow.slice() : null });
    return blend.blendFrame(input);
  },
};
const t0 = performance.now();
await propagateVideo({
  frameCount: n, width, height, addon, blendAddon: recorder,
  flowCache: { get: (i, d) => flows.get(`${i}:${d}`), put: (i, d, data) => { flows.set(`${i}:${d}`, data); } },
  keyframes: [{ frame: 0, image: truth[0]! }, { frame: n - 1, image: truth[n - 1]! }],
  sourceFrame: async (i) => frames[i]!,
  writeFrame: async () => {},
}, {});
console.error(`propagation ${((performance.now() - t0) / 1000).toFixed(1)} s`);
// The first frame arrives without flow (no previous mask); the replay needs it for t > 0 only.
for (let t = 1; t < n; t++) {
  const f = recorded.get(t);
  if (f && !f.flow) f.flow = pairs[t - 1]!.backward;
}

const truthWarp = await warpMae(addon, truth, pairs, width, height);
console.log(`${clip.name} ${values.style} length ${n} ${width}x${height}; truth warp ${truthWarp.toFixed(3)}`);
let truthSharp = 0;
for (let t = 1; t < n - 1; t++) truthSharp += sharpness(truth[t]!);
console.log('| variant | PSNR | SSIM | warp | sharpness/truth | blend ms/frame |');
console.log('|---|---|---|---|---|---|');
for (const [name, options] of Object.entries(variants)) {
  const out: Uint8Array[] = new Array<Uint8Array>(n);
  const t1 = performance.now();
  await blendSequence(blend, {
    first: 0, last: n - 1, width, height, options,
    loadFrame: async (t) => recorded.get(t)!,
    saveFrame: async (t, r) => { out[t] = r.out; },
  });
  const ms = (performance.now() - t1) / n;
  out[0] = truth[0]!;
  out[n - 1] = truth[n - 1]!;
  let p = 0;
  let s = 0;
  let sharp = 0;
  for (let t = 1; t < n - 1; t++) {
    sharp += sharpness(out[t]!);
    p += psnr(out[t]!, truth[t]!);
    s += ssim(out[t]!, truth[t]!, width, height);
  }
  const warp = await warpMae(addon, out, pairs, width, height);
  if (values.out) {
    // The mid frame of each variant, the truth's beside it.
    mkdirSync(values.out, { recursive: true });
    const mid = Math.floor((n - 1) / 2);
    const pair = new Uint8Array(width * 2 * height * 3);
    for (let y = 0; y < height; y++) {
      pair.set(truth[mid]!.subarray(y * width * 3, (y + 1) * width * 3), y * width * 6);
      pair.set(out[mid]!.subarray(y * width * 3, (y + 1) * width * 3), y * width * 6 + width * 3);
    }
    writeFileSync(path.join(values.out, `${name.replace(/[^\w.+-]+/g, '_')}.png`), encode({ width: width * 2, height, data: pair, channels: 3, depth: 8 }));
  }
  console.log(`| ${name} | ${(p / (n - 2)).toFixed(3)} | ${(s / (n - 2)).toFixed(4)} | ${warp.toFixed(3)} | ${(sharp / truthSharp).toFixed(3)} | ${ms.toFixed(1)} |`);
}
