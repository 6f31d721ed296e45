// `farm watch`: the owner's loop. It polls its submissions' jobs (polling, not events, so a Redis
// restart or a watch started late misses nothing), ingests each finished segment into its project
// as it arrives, reports progress, and ends when every segment is in, failed or cancelled.
import path from 'node:path';
import { Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { MediaTools } from '../media/index.ts';
import { Project } from '../project/index.ts';
import { propagationInputs } from '../studio/propagate.ts';
import { FolderArtifactStore } from './artifacts.ts';
import { FarmError } from './errors.ts';
import { serveArtifacts } from './http-store.ts';
import type { ServedStore } from './http-store.ts';
import { ingestResult } from './ingest.ts';
import type { IngestTarget } from './ingest.ts';
import { projectKeyOf } from './project-key.ts';
import { connect, queueOf, readSubmission } from './queue.ts';

export interface WatchProgress {
  framesDone: number;
  framesTotal: number;
  segmentsDone: number;
  segmentsTotal: number;
  etaSeconds: number | null;
}

export interface WatchDeps {
  redis: RedisOptions;
  /** The store folder the submit used, as this machine sees it. */
  store: string;
  tools: MediaTools;
  signal?: AbortSignal;
  pollMs?: number;
  /** Serve the store over HTTP for the watch's duration (workers with no shared disk). */
  serve?: { port: number; host?: string; token: string };
  onProgress?(p: WatchProgress): void;
  onInfo?(message: string): void;
}

export interface WatchReport {
  framesWritten: number;
  segments: number;
  failed: { project: string; job: string; reason: string }[];
  stale: number;
  /** Time spent fetching, checking and storing results: the owner's share of each segment. */
  ingestMs: number;
}

interface Tracked {
  project: Project;
  target: IngestTarget;
  name: string;
  id: string;
  frames: number;
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

export async function watchProjects(projectPaths: readonly string[], deps: WatchDeps): Promise<WatchReport> {
  const store = new FolderArtifactStore(path.resolve(deps.store));
  const redis = connect(deps.redis, 'rerender-farm-watch');
  redis.on('error', () => undefined);
  const queue: Queue = queueOf(deps.redis);
  queue.on('error', () => undefined);
  const projects: Project[] = [];
  let served: ServedStore | null = null;
  const report: WatchReport = { framesWritten: 0, segments: 0, failed: [], stale: 0, ingestMs: 0 };
  try {
    if (deps.serve) {
      served = await serveArtifacts(store, deps.serve);
      deps.onInfo?.(`serving the artifact store at ${served.url}`);
    }
    const pending: Tracked[] = [];
    for (const p of projectPaths) {
      const file = path.resolve(p);
      const project = Project.open(file);
      projects.push(project);
      const sub = await readSubmission(redis, projectKeyOf(file));
      if (!sub) throw new FarmError('NOT_SUBMITTED', `${p} has not been submitted to this farm: run \`rerender farm submit ${p} …\` first`);
      const { hashes, width, height } = await propagationInputs(project, { tools: deps.tools, ...(deps.signal ? { signal: deps.signal } : {}) });
      for (const shot of sub.shots) for (const j of shot.jobs) pending.push({ project, target: { hashes, width, height }, name: project.name, id: j.id, frames: j.frames });
    }
    const total = { frames: pending.reduce((n, t) => n + t.frames, 0), segments: pending.length };
    let framesDone = 0;
    let segmentsDone = 0;
    const started = Date.now();
    while (pending.length > 0) {
      if (deps.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      let partial = 0;
      for (const t of [...pending]) {
        let job, state;
        try {
          // The state first: a job read before it is marked completed would lack its return value.
          state = await queue.getJobState(t.id);
          job = await queue.getJob(t.id);
          if (!job) state = 'missing';
        } catch {
          break; // Redis is away: try again at the next round
        }
        if (state === 'completed' && job) {
          const t0 = performance.now();
          try {
            const r = await ingestResult(t.project, t.target, store, t.id, job.returnvalue);
            report.framesWritten += r.written;
            report.stale += r.stale;
            if (r.stale > 0) deps.onInfo?.(`${t.name}: ${r.stale} frame(s) from job ${t.id} were not stored: their key frames or settings changed since the submit`);
          } catch (err) {
            // A result that cannot be trusted is not stored; the others still are.
            if (!(err instanceof FarmError)) throw err;
            // Off the queue, so the next submit renders the segment again instead of trusting it.
            await job.remove({ removeChildren: false }).catch(() => undefined);
            report.failed.push({ project: t.name, job: t.id, reason: err.message });
            deps.onInfo?.(`${t.name}: the result of segment ${t.id} was refused: ${err.message}`);
          }
          report.ingestMs += performance.now() - t0;
        } else if (state === 'failed' || state === 'missing') {
          const reason = state === 'missing' ? 'removed from the queue (cancelled)' : (job?.failedReason ?? 'failed');
          report.failed.push({ project: t.name, job: t.id, reason });
          deps.onInfo?.(`${t.name}: segment ${t.id} ${state === 'missing' ? 'was ' : 'failed: '}${reason}`);
        } else {
          const p = job?.progress as { done?: unknown; total?: unknown } | undefined;
          if (p && typeof p.done === 'number' && typeof p.total === 'number' && p.total > 0) partial += Math.min(1, p.done / p.total) * t.frames;
          continue;
        }
        pending.splice(pending.indexOf(t), 1);
        report.segments++;
        segmentsDone++;
        framesDone += t.frames;
      }
      const doneNow = framesDone + partial;
      const elapsed = (Date.now() - started) / 1000;
      deps.onProgress?.({
        framesDone: Math.floor(doneNow), framesTotal: total.frames, segmentsDone, segmentsTotal: total.segments,
        etaSeconds: doneNow > 0 && doneNow < total.frames ? (elapsed / doneNow) * (total.frames - doneNow) : null,
      });
      if (pending.length > 0) await sleep(deps.pollMs ?? 300, deps.signal);
    }
    return report;
  } finally {
    for (const p of projects) p.close();
    await served?.close();
    await queue.close().catch(() => undefined);
    redis.disconnect();
  }
}
