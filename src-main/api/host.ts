// The services host: one open project, its jobs, and its media, behind the typed RerenderApi.
// Electron runs it in a utilityProcess and browser mode in the server process; both forward
// requests through `call`, which validates arguments before anything runs.
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  requestSchemas,
  type Capabilities,
  type EventName,
  type Events,
  type JobInfo,
  type ProjectSummary,
  type RequestArgs,
  type RequestName,
  type RequestResult,
  type RerenderApi,
  type StartJobRequest,
} from './contract.ts';
import { fileContentHash, locateTools, type MediaTools } from '../media/index.ts';
import { Project, sourceWarnings, type SettingsPatch } from '../project/index.ts';
import { initProject } from '../studio/init.ts';
import { sourceRegion } from '../studio/export.ts';
import { importKeyframe, storeMask } from '../studio/keyframe-image.ts';
import { translationHashes } from '../studio/params.ts';
import { findProjectModels } from '../studio/models.ts';
import { CodedError } from '../errors.ts';
import { JobRunner } from './job-runner.ts';
import { MediaServer, type MediaRequest, type MediaResponse } from './media-server.ts';
import { engineAvailability } from './availability.ts';
import { listDirectory, startFolder } from './file-browser.ts';
import { recordProjectSource } from '../serve/project-sources.ts';
import { renderStatus } from '../studio/render-status.ts';
import { startExportAfterPropagation } from './export-chain.ts';
import { liveRenderStatus } from './live-status.ts';
import { readConfigFile } from '../studio/config-file.ts';
import { createOutlook } from './outlook.ts';
import type { Prober } from './device-probe.ts';
import { recordEditAsync, serialEdit, settingsLabel } from '../project/edit-history.ts';
import { keyframeBatchHandlers } from './keyframe-batch-handlers.ts';
import { farmHandlers } from './farm-handlers.ts';

export type { MediaResponse };

export interface ApiHost {
  api: RerenderApi;
  call(name: string, args: unknown[]): Promise<unknown>;
  media(route: string, req: MediaRequest): Promise<MediaResponse>;
  dispose(): Promise<void>;
}

export interface ApiHostOptions {
  /** Per-user data: the recent-projects list. */
  dataDir: string;
  env?: Record<string, string | undefined>;
  /** The device probe (tests stub it); default: the inference engine's own. */
  probeDevice?: Prober;
}

const MAX_RECENT = 12;

export class HostError extends CodedError {}

export function createApiHost(opts: ApiHostOptions): ApiHost {
  const env = opts.env ?? process.env;
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  let project: Project | null = null;
  /** Whether the open project's source video was found (possibly re-linked after a move). */
  let sourceLinked = false;
  let toolsPromise: Promise<MediaTools> | null = null;
  const recentFile = path.join(opts.dataDir, 'recent-projects.json');
  /** The folder the file picker showed last: where the next one starts. */
  let lastFolder: string | null = null;
  const homeDir = (): string => env.HOME ?? env.USERPROFILE ?? os.homedir();

  const emit = <E extends EventName>(event: E, payload: Events[E]): void => {
    for (const l of listeners.get(event) ?? []) (l as (p: Events[E]) => void)(payload);
  };
  const tools = (): Promise<MediaTools> => {
    // A failed lookup is not cached: the user may install ffmpeg and retry without restarting.
    toolsPromise ??= locateTools({ env }).catch((e: unknown) => {
      toolsPromise = null;
      throw e;
    });
    return toolsPromise;
  };
  const current = (): Project => {
    if (!project?.isOpen) throw new HostError('NO_PROJECT', 'No project is open: create or open one first.');
    return project;
  };

  const summary = (p: Project): ProjectSummary => {
    const s = p.source();
    const region = sourceRegion(s.probe, s.working);
    const keyframes = p.listKeyframes(translationHashes(p));
    return {
      path: p.path,
      name: p.name,
      source: {
        path: s.path,
        linked: sourceLinked,
        width: s.probe.width,
        height: s.probe.height,
        fps: s.probe.fps,
        frameCount: s.probe.frameCount,
        hasAudio: s.probe.audio.length > 0,
        warnings: sourceWarnings(s.probe),
      },
      working: { width: s.working.width, height: s.working.height },
      workingCrop: { ...s.working.crop },
      // What a source-resolution export writes (yuv420p: even sizes).
      exportSize: { width: region.width - (region.width % 2), height: region.height - (region.height % 2) },
      keyframes,
      shotCuts: p.shotCuts()?.frames ?? [],
      renderedFrames: p.renderCount(),
      renderStatus: renderStatus(p, { keyframes }),
      settings: p.settings() as unknown as Record<string, unknown>,
      history: p.history.info(),
      mediaRev: mediaServer.rev(p),
    };
  };
  const changed = (): ProjectSummary => {
    const s = summary(current());
    emit('project', s);
    return s;
  };

  const outlook = createOutlook({ dataDir: opts.dataDir, ...(opts.probeDevice ? { prober: opts.probeDevice } : {}) });
  // The band of rendered frames fills in while a propagation runs (live-status.ts).
  const statusTick = liveRenderStatus(() => void (project?.isOpen && changed()));
  const emitJob = (j: JobInfo): void => {
    emit('job', j);
    statusTick(j);
  };
  const jobs = new JobRunner({ project: current, tools, emit: emitJob, timings: outlook.timings });
  // A damaged proxy segment is deleted when found; the proxy job makes it again.
  const mediaServer: MediaServer = new MediaServer({ project: current, tools, onProxyDamaged: () => jobs.startProxy(mediaServer) });
  const keyframeBatch = keyframeBatchHandlers({ current, tools });
  // Render on farm, its job and the workers list (farm-handlers.ts).
  const farm = farmHandlers({ dataDir: opts.dataDir, current, tools, jobs, changed: () => void (project?.isOpen && changed()) });

  async function rememberRecent(file: string): Promise<void> {
    const list = (await readRecent()).filter((p) => p !== file);
    list.unshift(file);
    await mkdir(opts.dataDir, { recursive: true });
    const tmp = `${recentFile}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(list.slice(0, MAX_RECENT), null, 2));
    await rename(tmp, recentFile);
  }
  async function readRecent(): Promise<string[]> {
    try {
      const parsed: unknown = JSON.parse(await readFile(recentFile, 'utf8'));
      return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }

  /**
   * A project with no model or ControlNet set takes what `rerender models list` finds (the models
   * folder, RERENDER_MODEL_ROOTS, the huggingface_hub cache), as the CLI's translate does; a scan
   * that fails never stops the project from opening.
   */
  function fillFoundModels(p: Project): void {
    const s = p.settings();
    try {
      const { patch } = findProjectModels(env, s, { hed: s.controlnet.kind === 'hed' || s.controlnet.kind === 'softedge' });
      if (Object.keys(patch).length > 0) p.updateSettings(patch);
    } catch {
      // the settings keep their empty paths; the model settings say what is missing
    }
  }

  async function adopt(p: Project): Promise<ProjectSummary> {
    await closeCurrent();
    project = p;
    fillFoundModels(p);
    mediaServer.reset();
    sourceLinked = (await p.resolveSource([], (f) => fileContentHash(f))).status !== 'missing';
    await rememberRecent(p.path);
    // Browser mode's upload clean-up keeps an uploaded video while a project uses it.
    await recordProjectSource(opts.dataDir, p.path, p.source().path).catch(() => undefined);
    // The timeline's thumbnail strip is made in the background; the UI shows it when the job ends.
    if (sourceLinked && !mediaServer.hasStrip()) jobs.startThumbnails(mediaServer);
    // Then the working-size proxy (instant scrubbing and playback), unless it is already made.
    if (sourceLinked) jobs.startProxy(mediaServer);
    // The device line is probed once per process, in the background: opening never waits for it.
    outlook.startProbe();
    return changed();
  }
  /**
   * The file API creates files only where a project belongs: an absolute `.rrproj` path in an
   * existing, writable folder, never replacing a file. Checked before the video is read.
   */
  async function checkNewProjectPath(file: string): Promise<void> {
    if (!path.isAbsolute(file)) throw new HostError('INVALID_ARGUMENT', `'${file}' is not an absolute path.`);
    if (path.extname(file).toLowerCase() !== '.rrproj' || path.basename(file).startsWith('.')) {
      throw new HostError('INVALID_ARGUMENT', `A project file name must end in .rrproj (got '${path.basename(file)}').`);
    }
    const dir = path.dirname(file);
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) throw new HostError('OUTPUT_UNWRITABLE', `The folder '${dir}' does not exist.`);
    await access(dir, constants.W_OK).catch(() => {
      throw new HostError('OUTPUT_UNWRITABLE', `No permission to write in '${dir}'.`);
    });
    if (await stat(file).then(() => true, () => false)) throw new HostError('EXISTS', `A file already exists at '${file}': choose another name.`);
  }
  async function closeCurrent(): Promise<void> {
    await jobs.cancelAll();
    project?.close();
    project = null;
  }

  const handlers: { [N in RequestName]: (...args: RequestArgs<N>) => Promise<RequestResult<N>> } = {
    async capabilities(): Promise<Capabilities> {
      let ffmpeg: Capabilities['ffmpeg'];
      try {
        await tools();
        ffmpeg = { available: true, message: null };
      } catch (e) {
        ffmpeg = { available: false, message: e instanceof Error ? e.message : String(e) };
      }
      return { ffmpeg, ...engineAvailability(project?.isOpen ? project : null) };
    },
    async recentProjects() {
      const list = await readRecent();
      const present = await Promise.all(list.map((p) => stat(p).then(() => true, () => false)));
      return list.filter((_, i) => present[i]);
    },
    async createProject(req) {
      await checkNewProjectPath(req.projectPath);
      const p = await initProject(
        { videoPath: req.videoPath, projectPath: req.projectPath, shortSide: req.shortSide, crop: req.crop },
        { tools: await tools() },
      );
      return adopt(p);
    },
    async openProject(file) {
      // Opening what is already open is a no-op: a second handle would meet our own lock.
      if (project?.isOpen && project.path === path.resolve(file)) return changed();
      // The new project opens before the current one closes, so a file that cannot be opened
      // (in use elsewhere, damaged) leaves the artist where they were.
      return adopt(Project.open(file));
    },
    async closeProject() {
      await closeCurrent();
    },
    async project() {
      return project?.isOpen ? summary(project) : null;
    },
    // Every edit is one undo step (edit-history.ts), named for the artist.
    async updateSettings(patch) {
      const p = current();
      await recordEditAsync(p, settingsLabel, { settings: true }, async () => p.updateSettings(patch as SettingsPatch));
      return changed();
    },
    async addKeyframe(frame) {
      const p = current();
      await recordEditAsync(p, `Add key frame ${frame}`, { keyframes: [frame] }, async () => p.addKeyframe(frame));
      return changed();
    },
    async removeKeyframe(frame) {
      const p = current();
      await recordEditAsync(p, `Delete key frame ${frame}`, { keyframes: [frame] }, async () => p.removeKeyframe(frame));
      return changed();
    },
    async moveKeyframe(from, to) {
      const p = current();
      await recordEditAsync(p, `Move key frame ${from} → ${to}`, { keyframes: [from, to] }, async () => p.moveKeyframe(from, to));
      return changed();
    },
    async importKeyframeImage(frame, bytes) {
      const p = current();
      const t = await tools();
      await recordEditAsync(p, `Import image to ${frame}`, { keyframes: [frame] }, () => importKeyframe(p, frame, { bytes }, null, { tools: t }));
      return changed();
    },
    async clearKeyframeImage(frame) {
      const p = current();
      await recordEditAsync(p, `Clear image of ${frame}`, { keyframes: [frame] }, async () => p.clearKeyframeImage(frame));
      return changed();
    },
    async setKeyframeMask(frame, bytes) {
      const p = current();
      if (p.getKeyframe(frame) === null) throw new HostError('NO_KEYFRAME', `Frame ${frame} is not a key frame; add it before painting a mask.`);
      const t = await tools();
      // One painting session's strokes (each saved) make one step; the painter undoes single strokes.
      await recordEditAsync(p, bytes === null ? `Clear mask of ${frame}` : `Paint mask on ${frame}`, { keyframes: [frame] }, () => storeMask(p, frame, bytes, { tools: t }), { merge: `mask:${frame}` });
      return changed();
    },
    async setKeyframePrompt(frame, prompt) {
      const p = current();
      await recordEditAsync(p, prompt === null ? `Reset prompt of ${frame}` : `Change prompt of ${frame}`, { keyframes: [frame] }, async () => p.setKeyframePrompt(frame, prompt));
      return changed();
    },
    async undo() {
      const p = current();
      await serialEdit(p, () => p.history.undo());
      return changed();
    },
    async redo() {
      const p = current();
      await serialEdit(p, () => p.history.redo());
      return changed();
    },
    async historyGoTo(position) {
      const p = current();
      await serialEdit(p, () => p.history.goTo(position));
      return changed();
    },
    // The EbSynth workflow (keyframe-batch-handlers.ts).
    planKeyframes: (plan, mode) => keyframeBatch.planKeyframes(plan, mode),
    applyKeyframePlan: async (plan, mode, o) => (await keyframeBatch.applyKeyframePlan(plan, mode, o), changed()),
    exportKeyframeSources: (dir, o) => keyframeBatch.exportKeyframeSources(dir, o),
    previewKeyframeFolder: (dir, o) => keyframeBatch.previewKeyframeFolder(dir, o),
    importKeyframeFolder: async (dir, o) => (await keyframeBatch.importKeyframeFolder(dir, o), changed()),
    importKeyframeImageFile: async (frame, file) => (await keyframeBatch.importKeyframeImageFile(frame, file), changed()),
    async startJob(req: StartJobRequest) {
      // Renders from here and from the farm never overlap.
      farm.refuseLocal(req);
      // Follows a running propagation, or starts one, then exports (export-chain.ts).
      const j = req.kind === 'export' && req.propagateFirst === true
        ? (await startExportAfterPropagation(jobs, current(), req, () => changed())).export
        : await jobs.start(req, () => changed());
      // The timeline shows at once which frames a propagation is about to rewrite.
      changed();
      return j;
    },
    async cancelJob(id) {
      // A farm job is called off on the farm too.
      return (await farm.cancel(id)) ?? jobs.cancel(id);
    },
    farmSettings: () => farm.farmSettings(),
    farmSubmit: (req) => farm.farmSubmit(req),
    farmWorkers: (url) => farm.farmWorkers(url),
    async listJobs(): Promise<JobInfo[]> {
      return project?.isOpen ? jobs.list() : [];
    },
    async revealFile(file) {
      // Revealing in a file manager is the desktop shell's job; here we only confirm the file
      // exists (with the access token the caller may list folders anyway: no new oracle).
      if (!path.isAbsolute(file)) throw new HostError('INVALID_ARGUMENT', `'${file}' is not an absolute path.`);
      await stat(file).catch((err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') throw new HostError('ACCESS_DENIED', `No permission to read '${file}'.`);
        throw new HostError('NOT_FOUND', `'${file}' does not exist.`);
      });
    },
    async listDirectory(dir, filter) {
      const home = homeDir();
      const from = dir ?? (await startFolder([lastFolder, ...(await readRecent()).map((p) => path.dirname(p))], home));
      const listing = await listDirectory(from, filter, { home, dataDir: opts.dataDir });
      lastFolder = listing.path;
      return listing;
    },
    async pickFile() {
      // Native dialogs belong to the desktop shell (Electron's main answers this itself); the
      // renderer falls back to its own browser over listDirectory.
      throw new HostError('NO_NATIVE_PICKER', 'No native file dialog here: use the file browser.');
    },
    async loadConfigFile(file) {
      return readConfigFile(file);
    },
    async jobOutlook() {
      const p = current();
      return outlook.outlook(p, summary(p));
    },
    async planProject(videoPath, shortSide) {
      return outlook.plan(videoPath, shortSide, await tools());
    },
  };

  async function call(name: string, args: unknown[]): Promise<unknown> {
    if (!Object.hasOwn(requestSchemas, name)) throw new HostError('UNKNOWN_REQUEST', `Unknown request '${name}'.`);
    const n = name as RequestName;
    const parsed = requestSchemas[n].safeParse(args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HostError('INVALID_ARGUMENT', `Bad arguments for ${name}: ${issue ? `${issue.path.join('.') || 'arguments'}: ${issue.message}` : 'invalid'}`);
    }
    const handler = handlers[n] as (...a: unknown[]) => Promise<unknown>;
    return handler(...(parsed.data as unknown[]));
  }

  const api = Object.fromEntries(
    (Object.keys(requestSchemas) as RequestName[]).map((n) => [n, (...args: unknown[]) => call(n, args)]),
  ) as unknown as RerenderApi;
  api.on = (event, listener) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const l = listener as (payload: never) => void;
    set.add(l);
    return () => set.delete(l);
  };

  return {
    api,
    call,
    media: (route, req) => mediaServer.handle(route, req),
    async dispose() {
      await closeCurrent();
      await outlook.settle();
      listeners.clear();
    },
  };
}
