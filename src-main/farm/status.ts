// `farm status`: per project and shot, segments and frames done of those submitted; per worker,
// its device, what it runs and when it last beat; an ETA from the segments' measured durations.
import type { RedisOptions } from 'ioredis';
import { connect, queueOf, readSubmissions, workerInfoSchema, workersKey } from './queue.ts';
import type { WorkerInfo } from './queue.ts';
import { translateProgressSchema } from './schemas.ts';

export interface ShotStatus {
  index: number;
  first: number;
  last: number;
  segments: number;
  done: number;
  active: number;
  failed: number;
  framesDone: number;
  frames: number;
}

/** A single job's stage (translation, export) in a few words. */
export interface StageStatus {
  id: string;
  state: string;
  /** Key frames made so far (translation). */
  done?: number;
  total?: number;
  worker?: string;
}

export interface ProjectStatus {
  key: string;
  name: string;
  path: string;
  submittedAt: number;
  translate: StageStatus | null;
  shots: ShotStatus[];
  /** Stages queued once the translation is in. */
  next: string[];
}

export interface FarmStatus {
  projects: ProjectStatus[];
  workers: (WorkerInfo & { secondsSinceHeartbeat: number; alive: boolean })[];
  /** Remaining segments × mean measured segment time ÷ live workers' slots; null before a first result. */
  etaSeconds: number | null;
}

/** A worker not heard from for this long is listed as gone (it may be busy on a stalled Redis). */
const ALIVE_MS = 60_000;

export async function farmStatus(options: RedisOptions, now = Date.now()): Promise<FarmStatus> {
  const redis = connect(options, 'rerender-farm-status');
  const queue = queueOf(options);
  try {
    const subs = await readSubmissions(redis);
    const durations: number[] = [];
    let remaining = 0;
    const projects: ProjectStatus[] = [];
    for (const s of subs) {
      const shots: ShotStatus[] = [];
      for (const shot of s.shots) {
        const st: ShotStatus = { index: shot.index, first: shot.first, last: shot.last, segments: shot.jobs.length, done: 0, active: 0, failed: 0, framesDone: 0, frames: 0 };
        for (const j of shot.jobs) {
          st.frames += j.frames;
          const state = await queue.getJobState(j.id);
          const job = state === 'completed' ? await queue.getJob(j.id) : null;
          if (state === 'completed') {
            st.done++;
            st.framesDone += j.frames;
            if (job?.finishedOn && job.processedOn) durations.push(job.finishedOn - job.processedOn);
          } else if (state === 'failed' || state === 'unknown') st.failed++;
          else {
            if (state === 'active') st.active++;
            remaining++;
          }
        }
        shots.push(st);
      }
      let translate: StageStatus | null = null;
      if (s.translate) {
        const state = await queue.getJobState(s.translate.id);
        const job = await queue.getJob(s.translate.id);
        const pr = translateProgressSchema.safeParse(job?.progress);
        translate = { id: s.translate.id, state, done: state === 'completed' ? s.translate.keys : pr.success ? Math.min(s.translate.keys, pr.data.keyframes.length) : 0, total: s.translate.keys, ...(pr.success ? { worker: pr.data.worker } : {}) };
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') remaining++;
      }
      projects.push({ key: s.key, name: s.name, path: s.path, submittedAt: s.submittedAt, translate, shots, next: s.next ?? [] });
    }
    const raw = await redis.hgetall(workersKey());
    const workers = Object.values(raw).flatMap((text) => {
      const r = workerInfoSchema.safeParse(JSON.parse(text));
      return r.success ? [{ ...r.data, secondsSinceHeartbeat: Math.max(0, (now - r.data.heartbeat) / 1000), alive: now - r.data.heartbeat < ALIVE_MS }] : [];
    }).sort((a, b) => a.name.localeCompare(b.name));
    const slots = workers.filter((w) => w.alive).reduce((n, w) => n + w.concurrency, 0);
    const mean = durations.length > 0 ? durations.reduce((a, b) => a + b, 0) / durations.length / 1000 : null;
    const etaSeconds = remaining === 0 ? 0 : mean !== null && slots > 0 ? (Math.ceil(remaining / slots) * mean) : null;
    return { projects, workers, etaSeconds };
  } finally {
    await queue.close().catch(() => undefined);
    redis.disconnect();
  }
}
