// Long jobs of the open project: each is recorded in the project (so a crash leaves an honest
// 'cancelled' record and a rerun resumes), reports done/total and ETA, and can be cancelled.
import type { JobInfo, JobKind, StartJobRequest } from './contract.ts';
import type { MediaTools } from '../media/index.ts';
import type { JobRecord, Project } from '../project/index.ts';
import { checkExportTarget, exportVideo } from '../studio/export.ts';
import { propagateProject } from '../studio/propagate.ts';
import { translateProject, translationWork, type TranslateProjectResult } from '../studio/translate.ts';
import { availableParallelism } from 'node:os';
import { ProgressTracker, isAbortError, type Progress } from '../jobs/progress.ts';
import { engineAvailability } from './availability.ts';
import type { MediaServer } from './media-server.ts';
import { CodedError } from '../errors.ts';
import { refuseMixing, waitForJob, type ExportChain } from './export-chain.ts';
import { megapixels, type TimingStore } from '../jobs/estimate.ts';
import { StableProgress } from '../jobs/stable-progress.ts';

export interface JobRunnerDeps {
  project: () => Project;
  tools: () => Promise<MediaTools>;
  emit: (job: JobInfo) => void;
  /** Where finished translate/propagate jobs leave their per-device timings (estimates). */
  timings?: TimingStore;
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
export interface RunningJob {
  update(patch: { device?: string; note?: string | null }): void;
}

/** A job's work: what it leaves behind (a file, a note) once done. */
type JobWork = (signal: AbortSignal, onProgress: (p: Progress) => void, job: RunningJob) => Promise<{ output: string | null; note: string | null }>;

/** A job to run: its kind, fixed total, parameters and device as recorded, its work, and who hears of project changes. */
type RunArgs = [kind: JobKind, total: number, params: unknown, device: string, work: JobWork, onProjectChanged: () => void];

function translateNote(r: TranslateProjectResult): string {
  const parts = [`${r.translated.length} key frame(s) translated`];
  if (r.upToDate.length > 0) parts.push(`${r.upToDate.length} already up to date`);
  if (r.kept.length > 0) parts.push(`${r.kept.length} artist-edited kept`);
  if (r.flowPairsPrepared > 0) parts.push(`motion of ${r.flowPairsPrepared} frame pair(s) prepared for propagation`);
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
  /** The project a proxy job is being started for (see startProxy). */
  #proxyStarting: Project | null = null;

  constructor(deps: JobRunnerDeps) {
    this.#deps = deps;
  }

  list(): JobInfo[] {
    return this.#deps.project().listJobs().map((r) => info(r, this.#live.get(r.id)?.eta ?? null));
  }

  async start(req: StartJobRequest, onProjectChanged: () => void, chain: ExportChain = {}): Promise<JobInfo> {
    const project = this.#deps.project();
    // Export and propagation never overlap: an export would mix old renders with new ones.
    refuseMixing(req.kind, chain, (k) => this.#running(k));
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
      return this.#run('export', project.frameCount, req, 'cpu (ffmpeg)', async (signal, onProgress, job) => {
        if (chain.after) await waitForJob(chain.after, { live: (id) => this.#live.get(id)?.done, project, cancel: (id) => this.cancel(id), owned: chain.owned === true }, signal, job);
        const r = await exportVideo(project, { outPath, size: req.size, crf: req.crf, audio: req.audio, replace }, { tools: await this.#deps.tools(), signal, onProgress });
        return { output: r.out, note: r.fromSource > 0 ? `${r.fromSource} of ${r.frames} frames had no render and show the source` : null };
      }, onProjectChanged);
    }
    if (req.kind === 'propagate') {
      const frames = req.frames;
      const threads = project.settings().propagation.threads || availableParallelism();
      // The total is the range's frame count from the start (propagateProject reports in frames).
      const total = frames ? frames[1] - frames[0] + 1 : project.frameCount;
      return this.#run('propagate', total, req, `cpu (native, ${threads} threads)`, async (signal, onProgress, job) => {
        const started = performance.now();
        const r = await propagateProject(project, { frames }, { tools: await this.#deps.tools(), signal, onProgress });
        if (r.backend.kind === 'webgpu') job.update({ device: `${r.backend.device} (WebGPU)` });
        const mp = megapixels(project.source().working);
        // Timed only over whole shots: a range inside a shot is synthesised up to the shot's end,
        // so its time per stored frame would mislead.
        if (!frames) this.#deps.timings?.record('propagate', r.backend.kind === 'webgpu' ? `webgpu ${r.backend.device}` : 'cpu', { seconds: (performance.now() - started) / 1000, units: r.framesWritten * mp });
        const unkeyed = r.unkeyedShots.length > 0 ? `; ${r.unkeyedShots.length} shot(s) without a key frame left as they were` : '';
        return { output: null, note: `${r.framesWritten} frame(s) rendered${r.alreadyDone > 0 ? `, ${r.alreadyDone} already up to date` : ''}${unkeyed}` };
      }, onProjectChanged);
    }
    if (req.kind === 'translate') {
      const frames = req.frames;
      // Progress is counted in key frames to make, known before the model loads: the total is fixed
      // from the start (a request naming no key frame fails inside the job, with its reason).
      let total = 0;
      try {
        total = translationWork(project, frames).todo;
      } catch {
        // reported by translateProject itself
      }
      return this.#run('translate', total, req, 'loading the model', async (signal, onProgress, job) => {
        const started = performance.now();
        // When the model was loaded, and on what: the timing of this machine's next estimate.
        const loaded: { at: number | null; key: string } = { at: null, key: '' };
        // No provider or precision here: the provider is 'auto', and the precision is the
        // project's own setting (Parameters → Models), which translateProject hands to the
        // pipeline when its deps give none.
        const r = await translateProject(project, frames ? { frames } : {}, {
          tools: await this.#deps.tools(),
          signal,
          onProgress,
          onDevice: (d) => {
            // The provider the pipeline really runs on. A fallback to the CPU is said once per
            // project by the editor (from the device probe), not in every job's note.
            loaded.at = performance.now();
            loaded.key = `${d.provider} ${d.floatType}`;
            job.update({ device: `${d.provider} (${d.floatType})` });
          },
          // Each stored key frame shows in the editor at once.
          onKeyframe: () => onProjectChanged(),
        });
        if (loaded.at !== null && r.translated.length > 0) {
          const units = r.translated.length * project.settings().steps * megapixels(project.source().working);
          this.#deps.timings?.record('translate', loaded.key, { seconds: (performance.now() - loaded.at) / 1000, units, overheadSeconds: (loaded.at - started) / 1000 });
        }
        return { output: null, note: translateNote(r) };
      }, onProjectChanged);
    }
    const unknown: never = req;
    throw new JobError('INVALID_ARGUMENT', `unknown job kind ${String((unknown as { kind?: unknown }).kind)}`);
  }

  /**
   * A job whose work lives in another module (the farm's, farm-job.ts), recorded, reported and
   * cancelled like the others; one of each kind at a time.
   */
  async startWork(...args: RunArgs): Promise<JobInfo> {
    const kind = args[0];
    if (this.#running(kind)) throw new JobError('JOB_RUNNING', `A ${kind} job is already running; cancel it or wait for it to finish.`);
    return this.#run(...args);
  }

  /** Builds the timeline strip in the background; failures are recorded, never thrown at the UI. */
  startThumbnails(media: MediaServer): void {
    // Counted in the video's frames from the start (the strip's own count is known only later).
    const total = this.#deps.project().frameCount;
    void this.#run('thumbnails', total, {}, 'cpu (ffmpeg)', async (signal, onProgress) => {
      const progress = new StableProgress({ stage: 'thumbnails', total, onProgress });
      await media.buildStrip(signal, (done, t) => {
        progress.work('thumbnails', done, t);
      });
      return { output: null, note: null };
    }, () => undefined).catch(() => undefined);
  }

  /**
   * Makes the working-size proxy in the background, after the strip (both decode the whole video;
   * one at a time, the strip is there sooner); failures are recorded, never thrown at the UI.
   */
  startProxy(media: MediaServer): void {
    // Between the checks below and the job's start another call (a damaged segment found by the
    // check itself) must not start a second one.
    let project: Project;
    try {
      project = this.#deps.project();
    } catch {
      return; // closed meanwhile
    }
    if (this.#proxyStarting === project) return;
    this.#proxyStarting = project;
    void (async () => {
      await Promise.all([...this.#live.entries()].filter(([id]) => project.getJob(id)?.kind === 'thumbnails').map(([, j]) => j.done));
      if (!project.isOpen || this.#deps.project() !== project || this.#running('proxy') || (await media.hasProxy())) return;
      await this.#run('proxy', project.frameCount, {}, 'cpu (ffmpeg)', async (signal, onProgress) => {
        let tracker: ProgressTracker | null = null;
        // A segment found damaged while building is made again by a second round.
        for (let round = 0; round < 2 && !(await media.hasProxy()); round++) {
          await media.buildProxy(signal, (done, total) => {
            tracker ??= new ProgressTracker({ stage: 'proxy', total, alreadyDone: done, onProgress });
            tracker.advance(done - tracker.done);
          });
        }
        return { output: null, note: null };
      }, () => undefined);
    })().catch(() => undefined).finally(() => {
      if (this.#proxyStarting === project) this.#proxyStarting = null;
    });
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

  async #run(...[kind, total, params, device, work, onProjectChanged]: RunArgs): Promise<JobInfo> {
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
