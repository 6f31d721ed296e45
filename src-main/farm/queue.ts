// The farm's names in Redis and the options every side shares. One BullMQ queue carries all jobs;
// a submission record per project (small JSON) lets `status`, `watch` and `cancel` find its jobs
// without the project file.
import { Queue } from 'bullmq';
import type { ConnectionOptions, JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import { FarmError } from './errors.ts';
import { parseOrThrow } from './schemas.ts';
import { FARM_STAGES } from './stages.ts';

export const QUEUE_NAME = 'rerender-farm';
/** Our own keys sit beside BullMQ's, under the same prefix. */
const KEY_PREFIX = 'rerender-farm';

export function submissionsKey(): string {
  return `${KEY_PREFIX}:submissions`;
}
export function workersKey(): string {
  return `${KEY_PREFIX}:workers`;
}
export function cancelKey(): string {
  return `${KEY_PREFIX}:cancelled`;
}

/** A job's lock: a worker that stops renewing it (killed, unplugged) loses the job after this. */
export function lockDurationMs(env: Record<string, string | undefined> = process.env): number {
  const v = env.RERENDER_FARM_LOCK_MS;
  if (v === undefined || v === '') return 30_000;
  if (!/^\d+$/.test(v) || Number(v) < 500) throw new FarmError('INVALID_ARGUMENT', `RERENDER_FARM_LOCK_MS must be a whole number of milliseconds ≥ 500, got '${v}'`);
  return Number(v);
}

/** Retries of a propagation job: a lost lock (a dead worker) or a failure on one machine. */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  // Results stay until ingested; the owner removes nothing, `farm cancel` does.
  removeOnComplete: false,
  removeOnFail: false,
};

export const shotRecordSchema = z.strictObject({
  index: z.int().min(0),
  first: z.int().min(0),
  last: z.int().min(0),
  id: z.string().max(128).nullable(),
  jobs: z.array(z.strictObject({ id: z.string().max(128), frames: z.int().min(0) })),
});

export const submissionSchema = z.strictObject({
  v: z.literal(1),
  key: z.string().regex(/^[0-9a-f]{16}$/),
  name: z.string().max(256),
  path: z.string().max(4096),
  store: z.string().max(4096),
  submittedAt: z.number(),
  frameCount: z.int().min(1),
  shots: z.array(shotRecordSchema),
  /** The key-frame translation job, while the chain is on the farm. */
  translate: z.strictObject({ id: z.string().max(128), keys: z.int().min(0) }).nullable().optional(),
  /** The project's export job (the parent of its propagation jobs). */
  export: z.strictObject({ id: z.string().max(128), out: z.string().max(4096) }).nullable().optional(),
  /** Stages the owner queues once the translation is in (its key frames change what propagation renders). */
  next: z.array(z.enum(FARM_STAGES)).optional(),
  /** Where the export goes, kept for a later stage. */
  exportTo: z.strictObject({
    outPath: z.string().min(1).max(4096),
    size: z.enum(['source', 'working']).optional(),
    crf: z.int().min(0).max(51).optional(),
    audio: z.boolean().optional(),
  }).optional(),
});
export type Submission = z.infer<typeof submissionSchema>;
export type ExportTarget = NonNullable<Submission['exportTo']>;

/** Every job of a submission, parents first (a parent whose children are removed would move on to run): for `farm cancel`. */
export function submissionJobsToCancel(s: Submission): string[] {
  return [...(s.export ? [s.export.id] : []), ...s.shots.flatMap((sh) => (sh.id ? [sh.id] : [])), ...(s.translate ? [s.translate.id] : []), ...s.shots.flatMap((sh) => sh.jobs.map((j) => j.id))];
}

/** Every job id a submission tracks: translation, propagation segments, export. */
export function submissionJobIds(s: Submission): string[] {
  return [...(s.translate ? [s.translate.id] : []), ...s.shots.flatMap((sh) => sh.jobs.map((j) => j.id)), ...(s.export ? [s.export.id] : [])];
}

export function connect(options: RedisOptions, name: string): Redis {
  return new Redis({ ...options, connectionName: name, lazyConnect: false });
}

export function queueOf(options: RedisOptions): Queue {
  return new Queue(QUEUE_NAME, { connection: options as ConnectionOptions });
}

export async function readSubmission(redis: Redis, key: string): Promise<Submission | null> {
  const raw = await redis.hget(submissionsKey(), key);
  if (raw === null) return null;
  return parseOrThrow(submissionSchema, JSON.parse(raw), `the farm's submission record for ${key}`);
}

export async function readSubmissions(redis: Redis): Promise<Submission[]> {
  const all = await redis.hgetall(submissionsKey());
  return Object.values(all).map((raw) => parseOrThrow(submissionSchema, JSON.parse(raw), 'a farm submission record'));
}

export async function writeSubmission(redis: Redis, s: Submission): Promise<void> {
  await redis.hset(submissionsKey(), s.key, JSON.stringify(s));
}

/** A worker's entry in the workers list, refreshed at each heartbeat. */
export const workerInfoSchema = z.strictObject({
  name: z.string().max(256),
  host: z.string().max(256),
  pid: z.int(),
  device: z.string().max(256),
  concurrency: z.int().min(1),
  current: z.array(z.strictObject({ id: z.string().max(128), project: z.string().max(256), frames: z.string().max(64) })),
  heartbeat: z.number(),
  startedAt: z.number(),
  done: z.int().min(0),
});
export type WorkerInfo = z.infer<typeof workerInfoSchema>;
