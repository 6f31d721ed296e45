// Our engine's stages, run in a child process of bench/gpu/run.ts: a crash or hang in a GPU
// driver then loses only the stage it happened in, and the parent still prints and writes what
// was measured. Each figure goes to the parent as soon as it exists (IPC messages).
//   (forked by run.ts with one argument: the OursJob as JSON)
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StableDiffusionPipeline } from '../../src-main/engine/pipeline/index.ts';
import { controlFromRgb8 } from '../../src-main/engine/pipeline/image.ts';
import { ProviderUnavailableError } from '../../src-main/engine/runtime/providers.ts';
import type { ProviderSetting } from '../../src-main/engine/runtime/providers.ts';
import { contextBytesPerFrame, resolveRerenderConfig, rerenderPipelineOptions } from '../../src-main/rerender/index.ts';
import type { RerenderConfig } from '../../src-main/rerender/index.ts';
import { buildRandomSd15, syntheticFrames, syntheticMotion, translatePair } from '../rerender/keyframe.ts';
import type { ModelPaths } from '../rerender/keyframe.ts';
import type { Figure, RowKey } from './report.ts';

export interface OursJob {
  tiny: boolean;
  provider: ProviderSetting;
  size: number;
  steps: number;
  /** Scratch folder (weights, graph cache); removed at the end. */
  work: string;
  /** Epoch milliseconds by which every stage must be over. */
  deadline: number;
}

export type OursMessage =
  | { type: 'figure'; key: RowKey; value: Figure }
  | { type: 'note'; text: string }
  | { type: 'label'; text: string }
  | { type: 'fatal'; message: string }
  | { type: 'done' };

const TINY = fileURLToPath(new URL('../../tests/fixtures/engine/', import.meta.url));
const SKIPPED = 'skipped (time)';
const GIB = 2 ** 30;

const send = (m: OursMessage): void => {
  process.send?.(m);
};
const figure = (key: RowKey, value: Figure): void => send({ type: 'figure', key, value });
const note = (text: string): void => send({ type: 'note', text });
const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const remainingS = (job: OursJob): number => (job.deadline - Date.now()) / 1000;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError' || (err as { code?: unknown }).code === 'CANCELLED');
}

/** One line for a stage that failed: the reason, never a stack. */
function reason(err: unknown): string {
  return `failed: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 160)}`;
}

/** An abort signal for the earlier of `seconds` from now and the job's deadline. */
function stageSignal(job: OursJob, limitS: number): AbortSignal {
  return AbortSignal.timeout(Math.max(1, Math.round(Math.min(limitS * 1000, job.deadline - Date.now()))));
}

function models(job: OursJob): ModelPaths {
  if (job.tiny) {
    figure('weightsS', 'n/a (fixtures)');
    return { model: join(TINY, 'tiny-sd'), controlnet: join(TINY, 'tiny-controlnet') };
  }
  const t0 = performance.now();
  const paths = buildRandomSd15(join(job.work, 'models'), () => undefined);
  figure('weightsS', seconds(t0));
  return paths;
}

/** Plain UNet + ControlNet steps at batch 2 (CFG) through the pipeline: the time from each step's start to its guided prediction. */
async function stepStage(sd: StableDiffusionPipeline, job: OursJob, control: Uint8Array): Promise<number | null> {
  const text = await sd.encodePrompt({ prompt: '' });
  const times: number[] = [];
  let start = 0;
  try {
    await sd.denoise({
      text, latents: sd.noise(0, job.size, job.size), width: job.size, height: job.size, steps: job.steps, timesteps: sd.timesteps(job.steps),
      control: { image: controlFromRgb8(control, job.size, job.size) },
      // returning nothing keeps plain attention; the hook only marks the step's start
      attention: () => { start = performance.now(); },
      onStep: () => { times.push(seconds(start)); },
      // at most a quarter of what is left: the key frame needs the rest
      signal: stageSignal(job, remainingS(job) / 4),
    });
  } catch (err) {
    if (!isAbort(err) || times.length === 0) throw err;
  }
  // The first step also creates the GPU pipelines (shaders): the median leaves it out when it can.
  const steady = times.length > 2 ? times.slice(1) : times;
  note(`ours: ${times.length} step(s) timed, first ${times[0]!.toFixed(3)} s`);
  return median(steady);
}

async function keyframeStages(sd: StableDiffusionPipeline, job: OursJob, config: RerenderConfig, stepS: number | null): Promise<void> {
  const frames = syntheticFrames(job.size);
  const motion = syntheticMotion(job.size);
  // The frames stand in for the control maps, as in diffusers_keyframe.py: the ControlNet's cost does not depend on them.
  const inputs = { pipeline: sd, size: job.size, frames, control: async (_i: number, rgb: Uint8Array) => controlFromRgb8(rgb, job.size, job.size), motion: async () => motion };
  // Anchor (steps) + pass A and pass B (steps each), with decoding and fusion: about 3·steps evaluations.
  const estimate = (steps: number): number => (stepS === null ? 0 : 3 * steps * stepS * 1.5 + 5);

  // The first run of each UNet variant and of the VAE builds its GPU pipelines: a 2-step pair does
  // that once, so the timed key frame below is warm, as diffusers' is (it warms up its anchor).
  if (estimate(2) < remainingS(job) / 4) {
    try {
      const t0 = performance.now();
      await translatePair({ ...inputs, signal: stageSignal(job, remainingS(job) / 3) }, { ...config, steps: 2 });
      figure('warmupS', seconds(t0));
    } catch (err) {
      figure('warmupS', isAbort(err) ? SKIPPED : reason(err));
    }
  } else {
    figure('warmupS', SKIPPED);
  }

  if (estimate(job.steps) > remainingS(job)) {
    figure('anchorS', SKIPPED);
    figure('keyframeS', SKIPPED);
    return;
  }
  try {
    const r = await translatePair({ ...inputs, signal: stageSignal(job, remainingS(job)) }, config);
    figure('anchorS', r.anchorS);
    figure('keyframeS', r.laterS);
    figure('contextGiB', r.result.contextBytes / GIB);
    note(`ours: stored contexts ${(r.result.contextDeviceBytes / GIB).toFixed(2)} GiB of them in GPU memory; ${(contextBytesPerFrame({ width: job.size, height: job.size, steps: config.steps, loose: config.crossFrame.loose, bytesPerValue: config.contextPrecision === 'float32' ? 4 : 2 }) / GIB).toFixed(2)} GiB per stored frame by formula`);
  } catch (err) {
    const why = isAbort(err) ? SKIPPED : reason(err);
    figure('anchorS', why);
    figure('keyframeS', why);
  }
}

function cacheEntries(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

async function main(job: OursJob): Promise<void> {
  const paths = models(job);
  const config = resolveRerenderConfig({ steps: job.steps });
  const cacheDir = mkdtempSync(join(job.work, 'graphs-'));
  let sd: StableDiffusionPipeline;
  try {
    sd = await StableDiffusionPipeline.load({ model: paths.model, controlnet: paths.controlnet, cacheDir, provider: job.provider, precision: 'fp16', ...rerenderPipelineOptions(config) });
  } catch (err) {
    if (err instanceof ProviderUnavailableError) {
      const gpu = job.provider === 'webgpu' ? 'no GPU / WebGPU adapter found' : `provider ${job.provider} unavailable`;
      send({ type: 'fatal', message: `${gpu}: ${err.notes.map((n) => n.message).join('; ')}` });
      return;
    }
    throw err;
  }
  try {
    send({ type: 'label', text: `ours ${sd.provider} ${sd.floatType === 'float16' ? 'fp16' : 'fp32'}` });
    for (const n of sd.notes) note(`ours: ${n.message}`);
    note(`ours: ${sd.deviceLine}`);
    const rest: RowKey[] = ['compileS', 'loadS', 'stepS', 'warmupS', 'anchorS', 'keyframeS'];
    const skipRest = (from: RowKey, why: string): void => { for (const k of rest.slice(rest.indexOf(from))) figure(k, why); };

    // Every graph a key frame runs (plain UNet, recording, anchor ‖ previous), compiled then loaded
    // one by one before the first step; the pipeline times the two apart.
    try {
      const t = await sd.prepare({ width: job.size, height: job.size, crossFrameSources: [0, 2] });
      figure('compileS', t.compileMs / 1000);
      figure('loadS', t.loadMs / 1000);
    } catch (err) {
      skipRest('compileS', reason(err));
      return;
    }
    const compiled = cacheEntries(cacheDir);

    let stepS: number | null = null;
    try {
      stepS = await stepStage(sd, job, syntheticFrames(job.size)[0]!);
      if (stepS !== null) figure('stepS', stepS);
    } catch (err) {
      figure('stepS', isAbort(err) ? SKIPPED : reason(err));
    }
    await keyframeStages(sd, job, config, stepS);

    // A graph the compile stage missed would have been compiled inside a timed stage: say so.
    const extra = cacheEntries(cacheDir) - compiled;
    if (extra > 0) note(`ours: ${extra} graph(s) were compiled after the compile stage; their compile time is inside the later stages`);
  } finally {
    await sd.close();
  }
}

const job = JSON.parse(process.argv[2] ?? '{}') as OursJob;
try {
  await main(job);
} catch (err) {
  send({ type: 'fatal', message: reason(err) });
} finally {
  rmSync(job.work, { recursive: true, force: true });
  // 'done' goes last, after every queued figure; the parent then lets this process go.
  await new Promise<void>((resolve) => (process.send ? process.send({ type: 'done' } satisfies OursMessage, () => resolve()) : resolve()));
  process.disconnect?.();
}
