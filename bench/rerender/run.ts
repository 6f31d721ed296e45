// Rerender key-frame benchmark: one anchor and one later key frame at 512×512 with every
// cross-frame constraint on, through the real pipeline, on the FULL-SIZE SD 1.5 + ControlNet
// architectures with random weights (the speed and memory do not depend on the weights; nothing
// is downloaded). Prints the seconds for each key frame, the stored-context memory, the peak
// resident memory of the process (the inference worker included) and, with nvidia-smi, the peak
// GPU memory in use.
//   node bench/rerender/run.ts [--size 512] [--steps 20] [--provider auto|cuda|webgpu|cpu] [--dtype fp16|fp32]
//        [--clip ../shared/media/Megamind.avi] [--work DIR] [--keep] [--warmup]
// --warmup translates the anchor once, untimed, first (graph compilation, provider start-up).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StableDiffusionPipeline } from '../../src-main/engine/pipeline/index.ts';
import { controlFromRgb8 } from '../../src-main/engine/pipeline/image.ts';
import { loadCanny } from '../../src-main/engine/control/canny.ts';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import { contextBytesPerFrame, nativeMotion, resolveRerenderConfig, rerenderPipelineOptions } from '../../src-main/rerender/index.ts';
import { buildRandomSd15, syntheticFrames, translatePair } from './keyframe.ts';
import type { ProviderSetting } from '../../src-main/engine/runtime/providers.ts';
import { sampleGpuMemory } from '../gpu-memory.ts';

const { values: flags } = parseArgs({
  options: {
    size: { type: 'string' },
    steps: { type: 'string' },
    provider: { type: 'string' },
    dtype: { type: 'string' },
    clip: { type: 'string' },
    work: { type: 'string' },
    keep: { type: 'boolean' },
    warmup: { type: 'boolean' },
  },
});
const size = Number(flags.size ?? 512);
const steps = Number(flags.steps ?? 20);
const provider = (flags.provider ?? 'auto') as ProviderSetting;
const floatType = flags.dtype === 'fp32' ? 'float32' : 'float16';
const clip = flags.clip ?? '../shared/media/Megamind.avi';
const work = flags.work ?? mkdtempSync(join(tmpdir(), 'bench-rerender-'));
const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** Two real frames 10 apart, centre-cropped to size×size; a moving synthetic pattern without the clip. */
function frames(): Uint8Array[] {
  if (existsSync(clip)) {
    const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', clip, '-vf', `select='eq(n\\,40)+eq(n\\,50)',scale=-2:${size},crop=${size}:${size}`, '-fps_mode', 'passthrough', '-frames:v', '2', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 64 << 20 });
    const n = size * size * 3;
    return [new Uint8Array(raw.subarray(0, n)), new Uint8Array(raw.subarray(n, 2 * n))];
  }
  console.log(`(${clip} not found: using a synthetic pattern)`);
  return syntheticFrames(size);
}

async function main(): Promise<void> {
  console.log(`Rerender key frames: FULL-SIZE SD 1.5 + ControlNet (random weights), ${size}×${size}, ${steps} steps, all constraints, ${floatType}, provider ${provider}`);
  const t0 = performance.now();
  const paths = buildRandomSd15(work);
  const tBuilt = performance.now();
  const config = resolveRerenderConfig({ steps });
  const gpu = sampleGpuMemory();
  const sd = await StableDiffusionPipeline.load({
    model: paths.model,
    controlnet: paths.controlnet,
    cacheDir: join(work, 'cache'),
    provider,
    floatType,
    ...rerenderPipelineOptions(config),
  }).catch(async (err: unknown) => {
    await gpu.stop();
    throw err;
  });
  const tLoaded = performance.now();
  try {
    console.log(`weights written in ${((tBuilt - t0) / 1000).toFixed(1)} s; pipeline compiled and loaded in ${((tLoaded - tBuilt) / 1000).toFixed(1)} s on ${sd.provider} (${sd.floatType})`);
    for (const n of sd.notes) console.log(`  note: ${n.provider}: ${n.message}`);
    const rgb = frames();
    const canny = loadCanny();
    const addon = loadPropagateAddon();
    const frame = async (i: number): Promise<Uint8Array> => rgb[i]!;
    const translate = (): ReturnType<typeof translatePair> => translatePair({
      pipeline: sd,
      size,
      frames: rgb,
      control: async (_i, img) => controlFromRgb8((await canny({ data: img, width: size, height: size, channels: 3 }, { low: 50, high: 100 })).data, size, size),
      motion: nativeMotion(addon, frame, size, size),
    }, config);
    if (flags.warmup) {
      const w0 = performance.now();
      await translate();
      console.log(`warm-up (both key frames, untimed below): ${((performance.now() - w0) / 1000).toFixed(1)} s`);
    }
    const { anchorS, laterS, result: r } = await translate();
    console.log(`anchor key frame: ${anchorS.toFixed(1)} s; later key frame (pass A + pass B): ${laterS.toFixed(1)} s`);
    console.log(`stored contexts: peak ${gib(r.contextBytes)} here, ${gib(r.contextDeviceBytes)} of it in GPU memory; ${gib(contextBytesPerFrame({ width: size, height: size, steps: config.steps, loose: config.crossFrame.loose, bytesPerValue: config.contextPrecision === 'float32' ? 4 : 2 }))} per stored frame by formula`);
    console.log(`peak resident memory of the process: ${gib(process.resourceUsage().maxRSS * 1024)}`);
    const g = await gpu.stop();
    console.log(g ? `peak GPU memory in use (nvidia-smi): ${gib(g.peakMiB * 2 ** 20)}, ${gib((g.peakMiB - g.baselineMiB) * 2 ** 20)} above the ${gib(g.baselineMiB * 2 ** 20)} in use before loading` : 'GPU memory: not measured (no nvidia-smi)');
  } finally {
    await gpu.stop();
    await sd.close();
    if (!flags.keep && flags.work === undefined) rmSync(work, { recursive: true, force: true });
  }
}

await main();
