// `farm watch`: the owner's loop. It polls its submissions' jobs (polling, not events, so a Redis
// restart or a watch started late misses nothing), stores each translated key frame and each
// finished segment in its project as it arrives, queues the stages that wait on a translation
// once it is in, reports progress, and ends when every job is in, failed or cancelled.
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
import { ingestKeyframes, ingestResult } from './ingest.ts';
import type { IngestTarget } from './ingest.ts';
import { projectKeyOf } from './project-key.ts';
import { connect, queueOf, readSubmission } from './queue.ts';
import type { Submission } from './queue.ts';
import { parseOrThrow, translateProgressSchema, translateResultSchema } from './schemas.ts';
import type { MadeKeyframe } from './schemas.ts';
import { submitProject } from './submit.ts';
import { exportJobSchema, ingestExport } from './export-job.ts';
import { projectFiles } from '../studio/export.ts';
import type { FarmStage } from './stages.ts';

export interface WatchProgress {
  /** The earliest stage with work left. */
  stage: FarmStage;
  keyframesDone: number;
  keyframesTotal: number;
  /** Frames to render; grows when the stages after a translation are queued. */
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
  /** Projects this process has open already (the editor's), by absolute path: used, not closed. */
  projects?: ReadonlyMap<string, Project>;
  /** Serve the store over HTTP for the watch's duration (workers with no shared disk). */
  serve?: { port: number; host?: string; token: string };
  onProgress?(p: WatchProgress): void;
  onInfo?(message: string): void;
}

export interface WatchReport {
  keyframesWritten: number;
  framesWritten: number;
  segments: number;
  failed: { project: string; job: string; reason: string }[];
  stale: number;
  /** Time spent fetching, checking and storing results: the owner's share of each segment. */
  ingestMs: number;
  /** Videos the export stage wrote. */
  exported: { project: string; out: string; frames: number; width: number; height: number }[];
}

interface Tracked {
  kind: 'translate' | 'propagate' | 'export';
  project: Project;
  file: string;
  sub: Submission;
  /** Filled when the project's propagation inputs are first needed. */
  target: IngestTarget | null;
  name: string;
  id: string;
  /** Frames (propagation) or key frames (translation) the job makes. */
  frames: number;
  /** Key frames of a running translation already stored. */
  seen: Set<string>;
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
  const owned: Project[] = [];
  let served: ServedStore | null = null;
  const report: WatchReport = { keyframesWritten: 0, framesWritten: 0, segments: 0, failed: [], stale: 0, ingestMs: 0, exported: [] };
  const opts = { tools: deps.tools, ...(deps.signal ? { signal: deps.signal } : {}) };
  try {
    if (deps.serve) {
      served = await serveArtifacts(store, deps.serve);
      deps.onInfo?.(`serving the artifact store at ${served.url}`);
    }
    const pending: Tracked[] = [];
    const total = { frames: 0, keyframes: 0, segments: 0 };
    const done = { frames: 0, keyframes: 0, segments: 0 };
    const track = (t: Omit<Tracked, 'seen' | 'target'>) => {
      pending.push({ ...t, target: null, seen: new Set() });
      if (t.kind === 'translate') total.keyframes += t.frames;
      else total.frames += t.frames;
      total.segments++;
    };
    const trackSubmission = (project: Project, file: string, sub: Submission) => {
      if (sub.translate) track({ kind: 'translate', project, file, sub, name: project.name, id: sub.translate.id, frames: sub.translate.keys });
      for (const shot of sub.shots) for (const j of shot.jobs) track({ kind: 'propagate', project, file, sub, name: project.name, id: j.id, frames: j.frames });
      // The export waits on the segments (its children); its video is written once it is done.
      if (sub.export && !sub.translate) track({ kind: 'export', project, file, sub, name: project.name, id: sub.export.id, frames: 0 });
    };
    for (const p of projectPaths) {
      const file = path.resolve(p);
      const project = deps.projects?.get(file) ?? Project.open(file);
      if (!deps.projects?.has(file)) owned.push(project);
      const sub = await readSubmission(redis, projectKeyOf(file));
      if (!sub) throw new FarmError('NOT_SUBMITTED', `${p} has not been submitted to this farm: run \`rerender farm submit ${p} …\` first`);
      trackSubmission(project, file, sub);
    }
    const targetOf = async (t: Tracked): Promise<IngestTarget> => {
      if (!t.target) {
        const { hashes, width, height } = await propagationInputs(t.project, opts);
        t.target = { hashes, width, height };
        // One project's segments share it.
        for (const o of pending) if (o.project === t.project && o.kind === 'propagate') o.target = t.target;
      }
      return t.target;
    };
    const storeKeyframes = async (t: Tracked, made: readonly MadeKeyframe[]) => {
      const fresh = made.filter((m) => !t.seen.has(`${m.frame}:${m.png}`));
      if (fresh.length === 0) return;
      const size = t.project.source().working;
      const r = await ingestKeyframes(t.project, store, t.id, fresh, size);
      for (const m of fresh) t.seen.add(`${m.frame}:${m.png}`);
      report.keyframesWritten += r.written;
      report.stale += r.stale;
    };
    /** After a translation: the stages that waited on it, queued now that its key frames are in. */
    const queueNext = async (t: Tracked) => {
      // As the record says now: `farm cancel` calls off the stages still to come.
      const now = await readSubmission(redis, projectKeyOf(t.file));
      const next = now?.translate?.id === t.id ? (now.next ?? []) : [];
      if (next.length === 0) return;
      const storeUrl = /^https?:\/\//i.test(t.sub.store) ? t.sub.store : undefined;
      const s = await submitProject(t.file, {
        redis: deps.redis, store, ...(storeUrl ? { storeUrl } : {}), tools: deps.tools, stages: next, project: t.project,
        ...(t.sub.exportTo ? { exportTo: t.sub.exportTo } : {}), ...(deps.signal ? { signal: deps.signal } : {}),
      });
      deps.onInfo?.(`${t.name}: key frames in; ${s.queued} segment(s) queued (${s.framesQueued} frames)`);
      const sub = await readSubmission(redis, projectKeyOf(t.file));
      if (sub) trackSubmission(t.project, t.file, { ...sub, translate: null });
    };
    // Each stage's rate from its own start: a translation's minutes say nothing of propagation's.
    let started = Date.now();
    let lastStage: FarmStage | null = null;
    while (pending.length > 0) {
      if (deps.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      let partial = 0;
      let partialKeys = 0;
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
            if (t.kind === 'translate') {
              const r = parseOrThrow(translateResultSchema, job.returnvalue, `the result of job ${t.id}`);
              await storeKeyframes(t, r.keyframes);
            } else if (t.kind === 'export') {
              const out = t.sub.export!.out;
              const r = await ingestExport(job.returnvalue, store, out, 'videos', {
                protect: projectFiles(t.project), job: parseOrThrow(exportJobSchema, job.data, `export job ${t.id}`), ...(deps.signal ? { signal: deps.signal } : {}),
              });
              report.exported.push({ project: t.name, out: r.out, frames: r.frames, width: r.width, height: r.height });
              deps.onInfo?.(`${t.name}: exported ${r.out} (${r.width}x${r.height}, ${r.frames} frames)`);
            } else {
              const r = await ingestResult(t.project, await targetOf(t), store, t.id, job.returnvalue);
              report.framesWritten += r.written;
              report.stale += r.stale;
              if (r.stale > 0) deps.onInfo?.(`${t.name}: ${r.stale} frame(s) from job ${t.id} were not stored: their key frames or settings changed since the submit`);
            }
          } catch (err) {
            // A result that cannot be trusted is not stored; the others still are.
            if (!(err instanceof FarmError)) throw err;
            // Off the queue, so the next submit renders the segment again instead of trusting it.
            await job.remove({ removeChildren: false }).catch(() => undefined);
            report.failed.push({ project: t.name, job: t.id, reason: err.message });
            deps.onInfo?.(`${t.name}: the result of job ${t.id} was refused: ${err.message}`);
            pending.splice(pending.indexOf(t), 1);
            continue;
          } finally {
            report.ingestMs += performance.now() - t0;
          }
          if (t.kind === 'translate') await queueNext(t);
        } else if (state === 'failed' || state === 'missing') {
          const reason = state === 'missing' ? 'removed from the queue (cancelled)' : (job?.failedReason ?? 'failed');
          report.failed.push({ project: t.name, job: t.id, reason });
          deps.onInfo?.(`${t.name}: ${t.kind === 'propagate' ? 'segment' : `the ${t.kind}`} ${t.id} ${state === 'missing' ? 'was ' : 'failed: '}${reason}`);
        } else {
          const p = job?.progress as { done?: unknown; total?: unknown } | undefined;
          if (t.kind === 'translate') {
            // Key frames made so far ride with the progress: stored as they come.
            const r = translateProgressSchema.safeParse(job?.progress);
            if (r.success) {
              await storeKeyframes(t, r.data.keyframes);
              partialKeys += Math.min(t.frames, r.data.keyframes.length);
            }
          } else if (p && typeof p.done === 'number' && typeof p.total === 'number' && p.total > 0) partial += Math.min(1, p.done / p.total) * t.frames;
          continue;
        }
        pending.splice(pending.indexOf(t), 1);
        report.segments++;
        done.segments++;
        if (t.kind === 'translate') done.keyframes += t.frames;
        else done.frames += t.frames;
      }
      const doneNow = done.frames + partial;
      const keysNow = done.keyframes + partialKeys;
      const stage: FarmStage = pending.some((x) => x.kind === 'translate') ? 'translate' : pending.some((x) => x.kind === 'propagate') ? 'propagate' : 'export';
      if (stage !== lastStage) {
        started = Date.now();
        lastStage = stage;
      }
      const elapsed = (Date.now() - started) / 1000;
      // During a translation the ETA is that of its key frames; propagation's is not known before them.
      const units = stage === 'translate' ? { d: keysNow, t: total.keyframes } : { d: doneNow, t: total.frames };
      deps.onProgress?.({
        stage,
        keyframesDone: Math.floor(keysNow), keyframesTotal: total.keyframes,
        framesDone: Math.floor(doneNow), framesTotal: total.frames, segmentsDone: done.segments, segmentsTotal: total.segments,
        etaSeconds: units.d > 0 && units.d < units.t ? (elapsed / units.d) * (units.t - units.d) : null,
      });
      if (pending.length > 0) await sleep(deps.pollMs ?? 300, deps.signal);
    }
    return report;
  } finally {
    for (const p of owned) p.close();
    await served?.close();
    await queue.close().catch(() => undefined);
    redis.disconnect();
  }
}
