// A farm worker: one BullMQ Worker per process (one process per GPU), stateless. It validates each
// job before running anything, fetches inputs from the artifact store (only under its roots, after
// its path mapping), runs the segment, stores the renders and returns their hashes. BullMQ renews
// the job's lock while it runs (the heartbeat the farm relies on): a killed worker's job is moved
// back to the queue by another worker once the lock expires. A job cancelled with `farm cancel`,
// or whose lock was lost, is stopped through its AbortSignal.
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import type { ConnectionOptions, Job } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { chooseBackend } from '../propagate/backend.ts';
import type { BackendSetting } from '../propagate/choices.ts';
import { loadPropagateAddon } from '../propagate/native.ts';
import { FolderArtifactStore } from './artifacts.ts';
import type { ArtifactStore } from './artifacts.ts';
import { HttpArtifactStore, urlUnder } from './http-store.ts';
import { FarmError } from './errors.ts';
import { acceptPath } from './path-map.ts';
import type { PathMapping } from './path-map.ts';
import { cancelKey, connect, lockDurationMs, QUEUE_NAME, workersKey } from './queue.ts';
import type { WorkerInfo } from './queue.ts';
import { removeStaleScratch, runPropagateJob, SCRATCH_PREFIX } from './run-job.ts';
import { runTranslateJob } from './run-translate.ts';
import { indexModels, ModelHashCache } from './model-hash.ts';
import type { IndexedModel } from './model-hash.ts';
import { jobDataSchema, parseOrThrow, translateProgressSchema } from './schemas.ts';
import { childFramesOf, exportJobSchema, runExportJob } from './export-job.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ExportJobData } from './export-job.ts';
import { locateTools } from '../media/index.ts';
import type { MediaTools } from '../media/index.ts';
import type { MadeKeyframe, PropagateJobData, PropagateResult, TranslateJobData } from './schemas.ts';
import type { ProviderSetting } from '../engine/runtime/providers.ts';

export interface WorkerOptions {
  redis: RedisOptions;
  /** Folders this worker may read and write artifacts under. */
  roots: string[];
  /** Served stores (`farm watch --serve-port`) this worker may use, and their token. */
  urls?: string[];
  token?: string;
  maps?: PathMapping[];
  concurrency?: number;
  name?: string;
  backend?: BackendSetting;
  /** Where translation models are found by content hash (and the HED/depth annotators). */
  modelsDir?: string;
  /** The translation engine's execution provider (default auto). */
  provider?: ProviderSetting;
  /** Compiled-graph cache for translation, kept between jobs. */
  cacheDir?: string;
  env?: Record<string, string | undefined>;
  onLog?(message: string): void;
  onError?(message: string): void;
}

export interface RunningWorker {
  name: string;
  device: string;
  /** Stops taking jobs, cancels the running ones (they go back to the queue) and disconnects. */
  close(): Promise<void>;
}

type Cancel = 'cancelled' | 'lock-lost' | 'stopping';

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const env = opts.env ?? process.env;
  if (opts.roots.length === 0 && (opts.urls ?? []).length === 0) throw new FarmError('INVALID_ARGUMENT', 'a worker needs an artifact store: --store DIR (a shared folder) or --store-url URL (a served one)');
  if ((opts.urls ?? []).length > 0 && !opts.token) throw new FarmError('INVALID_ARGUMENT', 'a served artifact store needs its token (--token, or RERENDER_FARM_TOKEN)');
  const name = opts.name ?? `${os.hostname()}-${process.pid}`;
  const concurrency = opts.concurrency ?? 1;
  const lockDuration = lockDurationMs(env);
  const frameDelayMs = Number(env.RERENDER_FARM_FRAME_DELAY_MS ?? 0) || 0;
  // The device is chosen once: one process drives one GPU (or the CPU) for all its jobs.
  const backend = await chooseBackend(opts.backend ?? 'auto', loadPropagateAddon());
  const device = backend.info.kind === 'cpu' ? `CPU (${os.cpus()[0]?.model.trim() ?? 'unknown'}, ${os.cpus().length} threads)` : backend.info.device;
  const log = (m: string) => opts.onLog?.(m);

  const stale = await removeStaleScratch();
  if (stale > 0) opts.onLog?.(`removed ${stale} scratch folder(s) left by killed workers`);
  const redis = connect(opts.redis, `rerender-worker-${name}`);
  redis.on('error', () => undefined); // reconnects on its own; the heartbeat says when it is back
  const current = new Map<string, { project: string; frames: string }>();
  const why = new Map<string, Cancel>();
  const startedAt = Date.now();
  let done = 0;

  const processor = async (job: Job, _token?: string, signal?: AbortSignal): Promise<unknown> => {
    let data;
    try {
      const raw = job.data as { kind?: unknown } | null;
      data = raw?.kind === 'export'
        ? parseOrThrow(exportJobSchema, job.data, `job ${job.id ?? '?'} (${job.name})`)
        : parseOrThrow(jobDataSchema, job.data, `job ${job.id ?? '?'} (${job.name})`);
    } catch (err) {
      // Never retried: the same bytes would fail the same way on every machine.
      throw new UnrecoverableError((err as Error).message);
    }
    if (data.kind === 'shot') return { children: Object.keys(await job.getChildrenValues()).length };
    let store: ArtifactStore;
    try {
      store = storeFor(data.store);
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    const id = job.id!;
    const span = data.kind === 'translate' ? `key frames ${data.keys[0]!.frame}-${data.keys.at(-1)!.frame}`
      : data.kind === 'export' ? `export of frames ${data.shot.first}-${data.shot.last}` : `${data.frames[0]!.frame}-${data.frames.at(-1)!.frame}`;
    current.set(id, { project: data.project.name, frames: span });
    await beat();
    try {
      const result = data.kind === 'translate' ? await translate(job, data, store, signal)
        : data.kind === 'export' ? await exportShot(job, data, store, signal) : await propagate(job, data, store, signal);
      done++;
      log(`${data.project.name}: ${data.kind === 'propagate' ? `frames ${span}` : span} done in ${(result.ms / 1000).toFixed(1)} s`);
      return result;
    } catch (err) {
      const reason = why.get(id);
      if (reason === 'cancelled') throw new UnrecoverableError('cancelled with `rerender farm cancel`; submit again to resume');
      if (reason) throw new Error(`stopped: ${reason === 'lock-lost' ? 'the job\'s lock was lost (another worker may have it)' : 'the worker is stopping'}`, { cause: err });
      if (err instanceof FarmError && (err.code === 'BAD_JOB' || err.code === 'PATH_REFUSED')) throw new UnrecoverableError(err.message);
      throw err;
    } finally {
      current.delete(id);
      why.delete(id);
    }
  };

  /** Progress to the job at most 4 times a second, and always at the end. */
  const reporter = (job: Job, extra: () => object = () => ({})) => {
    let last = 0;
    return (d: number, total: number) => {
      const now = Date.now();
      if (now - last < 250 && d < total) return;
      last = now;
      void job.updateProgress({ done: d, total, worker: name, ...extra() }).catch(() => undefined);
    };
  };

  const propagate = (job: Job, data: PropagateJobData, store: ArtifactStore, signal?: AbortSignal): Promise<PropagateResult> =>
    runPropagateJob(data, { store, worker: name, device, backend, frameDelayMs, ...(signal ? { signal } : {}), onProgress: reporter(job) });

  // ffmpeg is found on the first export job: a worker that never exports needs none.
  let tools: MediaTools | null = null;
  const exportShot = async (job: Job, data: ExportJobData, store: ArtifactStore, signal?: AbortSignal) => {
    // The segments' renders come from the children's results, each checked like the owner checks them.
    const childFrames = childFramesOf(await job.getChildrenValues());
    tools ??= await locateTools({ env });
    // Named like a propagation job's scratch, so a killed worker's is removed at the next start.
    const scratchDir = await mkdtemp(path.join(os.tmpdir(), `${SCRATCH_PREFIX}${process.pid}-`));
    try {
      return await runExportJob(data, { store, worker: name, device, childFrames, tools, scratchDir, ...(signal ? { signal } : {}), onProgress: reporter(job) });
    } finally {
      await rm(scratchDir, { recursive: true, force: true });
    }
  };

  // The models folder is indexed on the first translation job, and again when a job names a model
  // not found (one copied in since).
  let models: Map<string, IndexedModel> | null = null;
  const hashCache = new ModelHashCache();
  const modelsFor = async (data: TranslateJobData): Promise<Map<string, IndexedModel>> => {
    if (!opts.modelsDir) throw new FarmError('MODEL_MISSING', `worker ${name} has no models folder (--models DIR), so it cannot translate key frames`);
    const refs = [data.models.model, data.models.controlnet, ...data.models.extra, ...data.models.loras];
    if (!models || refs.some((r) => !models!.has(r.hash))) models = await indexModels(opts.modelsDir, hashCache);
    return models;
  };

  const translate = async (job: Job, data: TranslateJobData, store: ArtifactStore, signal?: AbortSignal) => {
    // What an earlier attempt made rides in the job's progress: the chain resumes after it.
    const before = translateProgressSchema.safeParse(job.progress);
    let made: readonly MadeKeyframe[] = before.success ? before.data.keyframes : [];
    let last = { done: 0, total: 0 };
    const report = reporter(job, () => ({ keyframes: made }));
    return runTranslateJob(data, {
      store, worker: name, device, models: await modelsFor(data), modelsDir: opts.modelsDir!,
      cacheDir: opts.cacheDir ?? path.join(os.homedir(), '.rerender-studio', 'cache', 'engine'),
      ...(opts.provider ? { provider: opts.provider } : {}),
      resumed: made,
      ...(signal ? { signal } : {}),
      onProgress: (d, total) => {
        last = { done: d, total };
        report(d, total);
      },
      // Recorded on the job before the next key frame starts, so neither the owner nor a retry misses it.
      onKeyframe: async (_m, all) => {
        made = all;
        await job.updateProgress({ done: last.done, total: last.total, worker: name, keyframes: made });
        if (frameDelayMs) await new Promise((r) => setTimeout(r, frameDelayMs));
      },
      // The workers list shows where translation runs too, once the engine has said.
      onDevice: (line) => {
        translationDevice = line;
        void beat();
      },
    });
  };
  let translationDevice: string | null = null;

  // A served store gets the token only when it is one this worker was told about.
  function storeFor(ref: string): ArtifactStore {
    if (/^https?:\/\//i.test(ref)) {
      if (!(opts.urls ?? []).some((b) => urlUnder(ref, b))) {
        throw new FarmError('PATH_REFUSED', `the job's artifact store ${ref} is not one this worker may use (--store-url ${(opts.urls ?? []).join(', ') || 'none'})`);
      }
      return new HttpArtifactStore(ref, opts.token!);
    }
    return new FolderArtifactStore(acceptPath(ref, opts.maps ?? [], opts.roots));
  }

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: opts.redis as ConnectionOptions,
    concurrency,
    lockDuration,
    stalledInterval: Math.min(30_000, lockDuration),
    // A job whose worker died is moved back this many times before it is failed.
    maxStalledCount: 3,
    name,
    autorun: false,
  });
  const stop = (id: string, reason: Cancel) => {
    if (!current.has(id) || why.has(id)) return;
    why.set(id, reason);
    worker.cancelJob(id, reason);
  };
  worker.on('lockRenewalFailed', (ids: string[]) => ids.forEach((id) => stop(id, 'lock-lost')));
  worker.on('failed', (job, err) => {
    if (job) opts.onError?.(`job ${job.id ?? '?'} failed: ${err.message}`);
  });
  worker.on('error', () => undefined); // connection errors: BullMQ and ioredis reconnect

  async function beat(): Promise<void> {
    const info: WorkerInfo = {
      name, host: os.hostname(), pid: process.pid, concurrency, done, startedAt, heartbeat: Date.now(),
      device: (translationDevice ? `${device}; translation: ${translationDevice}` : device).slice(0, 256),
      current: [...current].map(([id, c]) => ({ id, ...c })),
    };
    try {
      await redis.hset(workersKey(), name, JSON.stringify(info));
      if (current.size > 0) {
        const flagged = await redis.smismember(cancelKey(), ...current.keys());
        [...current.keys()].forEach((id, i) => {
          if (flagged[i] === 1) stop(id, 'cancelled');
        });
      }
    } catch {
      // Redis is away: BullMQ's own lock renewal decides what happens to the jobs.
    }
  }
  const heartbeat = setInterval(() => void beat(), Math.max(250, Math.min(2000, lockDuration / 4)));
  await beat();
  void worker.run().catch((err: unknown) => opts.onError?.(`worker stopped: ${(err as Error).message}`));
  log(`worker ${name} on ${device}: taking jobs (concurrency ${concurrency}, lock ${lockDuration} ms)`);

  return {
    name,
    device,
    async close() {
      clearInterval(heartbeat);
      for (const id of current.keys()) stop(id, 'stopping');
      await worker.close().catch(() => undefined);
      await redis.hdel(workersKey(), name).catch(() => undefined);
      redis.disconnect();
      backend.close();
    },
  };
}
