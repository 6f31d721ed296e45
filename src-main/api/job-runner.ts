// Long jobs of the open project: each is recorded in the project (so a crash leaves an honest
// 'cancelled' record and a rerun resumes), reports done/total and ETA, and can be cancelled.
import type { JobInfo, JobKind, StartJobRequest } from './contract.ts';
import type { MediaTools } from '../media/index.ts';
import type { JobRecord, Project } from '../project/index.ts';
import { checkExportTarget, exportVideo } from '../studio/export.ts';
import { propagateProject } from '../studio/propagate.ts';
import { translateProject, type TranslateProjectResult } from '../studio/translate.ts';
import { availableParallelism } from 'node:os';
import { ProgressTracker, isAbortError, type Progress } from '../jobs/progress.ts';
import { engineAvailability } from './availability.ts';
import type { MediaServer } from './media-server.ts';
import { CodedError } from '../errors.ts';

export interface JobRunnerDeps {
  project: () => Project;
  tools: () => Promise<MediaTools>;
  emit: (job: JobInfo) => void;
}

interface LiveJob {
  controller: AbortController;
  eta: number | null;
  done: Promise<void>;
}

/** Progress reaches the UI at most this often; the project file is written less often still. */
const EMIT_INTERVAL_MS = 100;
const PERSIST_INTERVAL_MS = 1000;

class JobError extends CodedError {}

/** What a job's work may change about its record while it runs. */
interface RunningJob {
  update(patch: { device?: string; note?: string | null }): void;
}

function translateNote(r: TranslateProjectResult): string {
  const parts = [`${r.translated.length} key frame(s) translated`];
  if (r.upToDate.length > 0) parts.push(`${r.upToDate.length} already up to date`);
  if (r.kept.length > 0) parts.push(`${r.kept.length} artist-edited kept`);
  return parts.join(', ');
}

function info(r: JobRecord, eta: number | null): JobInfo {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    done: r.done,
    total: r.total,
    etaSeconds: r.status === 'running' ? eta : null,
    device: r.device,
    note: r.note,
    error: r.error,
    output: r.output,
  };
}

export class JobRunner {
  readonly #deps: JobRunnerDeps;
  readonly #live = new Map<string, LiveJob>();

  constructor(deps: JobRunnerDeps) {
    this.#deps = deps;
  }

  list(): JobInfo[] {
    return this.#deps.project().listJobs().map((r) => info(r, this.#live.get(r.id)?.eta ?? null));
  }

  async start(req: StartJobRequest, onProjectChanged: () => void): Promise<JobInfo> {
    const project = this.#deps.project();
    if (req.kind === 'propagate' || req.kind === 'translate') {
      const a = engineAvailability(project)[req.kind];
      if (!a.available) throw new JobError('ENGINE_UNAVAILABLE', a.message ?? `${req.kind} is not available`);
    }
    if (this.#running(req.kind)) throw new JobError('JOB_RUNNING', `A ${req.kind} job is already running; cancel it or wait for it to finish.`);
    if (req.kind === 'export') {
      const outPath = req.outPath;
      // Nothing is replaced unasked: an existing file fails the request itself (OUTPUT_EXISTS),
      // before a job is recorded, so the editor can ask and retry with `overwrite`.
      const replace = req.overwrite === true ? 'any' : 'never';
      await checkExportTarget(project, outPath, replace);
      return this.#run('export', project.frameCount, req, 'cpu (ffmpeg)', async (signal, onProgress) => {
        const r = await exportVideo(project, { outPath, size: req.size, crf: req.crf, audio: req.audio, replace }, { tools: await this.#deps.tools(), signal, onProgress });
        return { output: r.out, note: r.fromSource > 0 ? `${r.fromSource} of ${r.frames} frames had no render and show the source` : null };
      }, onProjectChanged);
    }
    if (req.kind === 'propagate') {
      const frames = req.frames;
      const threads = project.settings().propagation.threads || availableParallelism();
      return this.#run('propagate', project.frameCount, req, `cpu (native, ${threads} threads)`, async (signal, onProgress, job) => {
        const r = await propagateProject(project, { frames }, { tools: await this.#deps.tools(), signal, onProgress });
        if (r.backend.kind === 'webgpu') job.update({ device: `${r.backend.device} (WebGPU)` });
        const unkeyed = r.unkeyedShots.length > 0 ? `; ${r.unkeyedShots.length} shot(s) without a key frame left as they were` : '';
        return { output: null, note: `${r.framesWritten} frame(s) rendered${r.alreadyDone > 0 ? `, ${r.alreadyDone} already up to date` : ''}${unkeyed}` };
      }, onProjectChanged);
    }
    if (req.kind === 'translate') {
      const frames = req.frames;
      // Progress is counted in diffusion steps, known only once the model is loaded: until then the
      // total is 0 ("preparing"), so the bar never switches units halfway.
      return this.#run('translate', 0, req, 'loading the model', async (signal, onProgress, job) => {
        let fallback: string | null = null;
        // No provider or precision here: the provider is 'auto', and the precision is the
        // project's own setting (Parameters → Models), which translateProject hands to the
        // pipeline when its deps give none.
        const r = await translateProject(project, frames ? { frames } : {}, {
          tools: await this.#deps.tools(),
          signal,
          onProgress,
          onDevice: (d) => {
            // The provider the pipeline really runs on; a fallback to the CPU is said, not hidden.
            // Each note already says what runs instead, in one line for the artist.
            if (d.notes.length > 0) fallback = d.notes.join(' ');
            job.update({ device: `${d.provider} (${d.floatType})`, note: fallback });
          },
          // Each stored key frame shows in the editor at once.
          onKeyframe: () => onProjectChanged(),
        });
        return { output: null, note: [translateNote(r), fallback].filter((x) => x !== null).join('; ') };
      }, onProjectChanged);
    }
    const unknown: never = req;
    throw new JobError('INVALID_ARGUMENT', `unknown job kind ${String((unknown as { kind?: unknown }).kind)}`);
  }

  /** Builds the timeline strip in the background; failures are recorded, never thrown at the UI. */
  startThumbnails(media: MediaServer): void {
    const total = 1;
    void this.#run('thumbnails', total, {}, 'cpu (ffmpeg)', async (signal, onProgress) => {
      let tracker: ProgressTracker | null = null;
      await media.buildStrip(signal, (done, t) => {
        tracker ??= new ProgressTracker({ stage: 'thumbnails', total: t, onProgress });
        tracker.advance(done - tracker.done);
      });
      return { output: null, note: null };
    }, () => undefined).catch(() => undefined);
  }

  async cancel(id: string): Promise<JobInfo> {
    const project = this.#deps.project();
    const live = this.#live.get(id);
    if (live) {
      live.controller.abort();
      await live.done;
    }
    const r = project.getJob(id);
    if (!r) throw new JobError('NOT_FOUND', `There is no job ${id}.`);
    return info(r, null);
  }

  async cancelAll(): Promise<void> {
    const all = [...this.#live.values()];
    for (const j of all) j.controller.abort();
    await Promise.all(all.map((j) => j.done));
  }

  #running(kind: JobKind): boolean {
    const project = this.#deps.project();
    return [...this.#live.keys()].some((id) => project.getJob(id)?.kind === kind);
  }

  async #run(
    kind: JobKind,
    total: number,
    params: unknown,
    device: string,
    work: (signal: AbortSignal, onProgress: (p: Progress) => void, job: RunningJob) => Promise<{ output: string | null; note: string | null }>,
    onProjectChanged: () => void,
  ): Promise<JobInfo> {
    const project = this.#deps.project();
    const record = project.createJob({ kind, total, params, device });
    const id = record.id;
    const controller = new AbortController();
    let lastEmit = 0;
    let lastPersist = 0;
    let latest: Progress = { stage: kind, done: 0, total, etaSeconds: null };
    const snapshot = (): JobRecord => ({ ...project.getJob(id)!, done: latest.done, total: latest.total });

    const onProgress = (p: Progress): void => {
      latest = p;
      live.eta = p.etaSeconds;
      const now = Date.now();
      if (now - lastPersist >= PERSIST_INTERVAL_MS) {
        lastPersist = now;
        project.updateJob(id, { done: p.done, total: p.total });
      }
      if (now - lastEmit >= EMIT_INTERVAL_MS || p.done === p.total) {
        lastEmit = now;
        this.#deps.emit(info(snapshot(), p.etaSeconds));
      }
    };

    const live: LiveJob = { controller, eta: null, done: Promise.resolve() };
    this.#live.set(id, live);
    this.#deps.emit(info(project.updateJob(id, { status: 'running' }), null));
    live.done = (async () => {
      try {
        const job: RunningJob = {
          update: (patch) => this.#deps.emit(info({ ...project.updateJob(id, patch), done: latest.done, total: latest.total }, live.eta)),
        };
        const r = await work(controller.signal, onProgress, job);
        const rec = project.updateJob(id, { status: 'done', done: latest.total, total: latest.total, output: r.output, note: r.note });
        this.#deps.emit(info(rec, 0));
      } catch (e) {
        const cancelled = isAbortError(e) || controller.signal.aborted || (e as { code?: unknown }).code === 'CANCELLED';
        const rec = project.isOpen
          ? project.updateJob(id, cancelled
            ? { status: 'cancelled', done: latest.done }
            : { status: 'failed', done: latest.done, error: e instanceof Error ? e.message : String(e) })
          : null;
        if (rec) this.#deps.emit(info(rec, null));
      } finally {
        this.#live.delete(id);
        if (project.isOpen) onProjectChanged();
      }
    })();
    return info(project.getJob(id)!, null);
  }
}
