// One propagation job on a worker: fetch its inputs from the artifact store, run the segment with
// the very code a local `propagate` runs (propagateVideo, a fresh flow cache like a fresh project's),
// store each render as an artifact and return only hashes. Stateless: nothing is kept afterwards.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodePng, encodePngAsync, toRgb } from '../media/index.ts';
import { propagateVideo } from '../propagate/propagate.ts';
import { resolveSettings } from '../propagate/settings.ts';
import type { ChosenBackend } from '../propagate/backend.ts';
import type { KeyFrame } from '../propagate/sequence.ts';
import { FolderFlowCache } from '../studio/flow-cache.ts';
import { loadFlowCodec } from '../propagate/flow-codec.ts';
import type { ArtifactStore } from './artifacts.ts';
import { unpackFrame } from './frame-codec.ts';
import { FarmError } from './errors.ts';
import type { PropagateJobData, PropagateResult } from './schemas.ts';

export const SCRATCH_PREFIX = 'rerender-farm-job-';

/** Removes scratch folders left by workers that were killed (their process is gone). */
export async function removeStaleScratch(): Promise<number> {
  let n = 0;
  for (const name of await readdir(os.tmpdir()).catch(() => [] as string[])) {
    const m = new RegExp(`^${SCRATCH_PREFIX}(\\d+)-`).exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    try {
      process.kill(pid, 0);
      continue; // alive: its folder is in use
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    await rm(path.join(os.tmpdir(), name), { recursive: true, force: true });
    n++;
  }
  return n;
}

export interface RunJobDeps {
  store: ArtifactStore;
  worker: string;
  device: string;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
  /** The backend the worker chose at start (its device, also for the blend); absent: chosen per job. */
  backend?: ChosenBackend;
  /** Test and benchmark aid: a pause after each stored frame, to widen the window for a kill. */
  frameDelayMs?: number;
}

export async function runPropagateJob(job: PropagateJobData, deps: RunJobDeps): Promise<PropagateResult> {
  const started = performance.now();
  const { width, height } = job;
  // Ranges are checked before anything is fetched: settings no machine can run fail the job once.
  try {
    resolveSettings(job.settings);
  } catch (err) {
    throw new FarmError('BAD_JOB', `the job's propagation settings are refused: ${(err as Error).message}`);
  }
  const sources = new Map(job.sources.map((s) => [s.frame, s.rgb]));
  const wanted = new Map(job.frames.map((f) => [f.frame, f.paramsHash]));
  const io = { fetchMs: 0, storeMs: 0 };
  const fetch = async (hash: string) => {
    const t0 = performance.now();
    try {
      return await deps.store.get(hash);
    } finally {
      io.fetchMs += performance.now() - t0;
    }
  };
  const keyframes: KeyFrame[] = [];
  for (const k of job.keys) {
    const image = toRgb(decodePng(await fetch(k.image), { width, height }));
    const mask = k.mask ? decodePng(await fetch(k.mask), { width, height }) : null;
    if (mask && mask.channels !== 1) throw new FarmError('BAD_JOB', `the mask of key frame ${k.frame} is not a grey image`);
    keyframes.push({ frame: k.frame, image, ...(mask ? { mask: mask.data } : {}) });
  }
  const out: PropagateResult['frames'] = [];
  // A flow cache of its own, as a fresh local project has: the flows it stores and reads back are
  // what make a local run's bytes, so the worker's match them.
  const scratch = await mkdtemp(path.join(os.tmpdir(), `${SCRATCH_PREFIX}${process.pid}-`));
  try {
    await propagateVideo(
      {
        frameCount: job.frameCount,
        width,
        height,
        sourceFrame: async (i) => {
          const h = sources.get(i);
          if (!h) throw new FarmError('BAD_JOB', `the job needs source frame ${i}, which it does not list`);
          return unpackFrame(await fetch(h), width * height * 3, `source frame ${i}`);
        },
        keyframes,
        cuts: job.cuts,
        flowCache: new FolderFlowCache(path.join(scratch, 'job'), 'flow', width, height, loadFlowCodec()),
        spillDir: scratch,
        isDone: (i) => !wanted.has(i),
        writeFrame: async (i, rgb) => {
          const bytes = await encodePngAsync(rgb, width, height, 3);
          const t0 = performance.now();
          const png = await deps.store.put(bytes);
          io.storeMs += performance.now() - t0;
          out.push({ frame: i, paramsHash: wanted.get(i)!, png });
          if (deps.frameDelayMs) await new Promise((r) => setTimeout(r, deps.frameDelayMs));
        },
        onProgress: (p) => deps.onProgress?.(p.done, p.total),
        ...(deps.signal ? { signal: deps.signal } : {}),
        ...(deps.backend ? { backend: deps.backend } : {}),
      },
      { ...job.settings },
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const missing = job.frames.filter((f) => !out.some((o) => o.frame === f.frame));
  if (missing.length > 0) throw new FarmError('JOB_FAILED', `the segment produced no render for frame(s) ${missing.map((m) => m.frame).join(', ')}`);
  out.sort((a, b) => a.frame - b.frame);
  return { frames: out, worker: deps.worker, device: deps.device, ms: performance.now() - started, ...io };
}
