// `run`: the whole job in one call: project, key frames, translation, propagation, export. The
// project lives next to the output (or where asked) and every stage resumes, so running the same
// command again redoes only what changed. Progress is one display across the stages: the stage's
// name and the overall done/total.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileContentHash, type MediaTools } from '../media/index.ts';
import { Project, defaultSettings, sourceWarnings, type ProjectSettings, type SettingsPatch } from '../project/index.ts';
import { ProgressTracker, type Progress } from '../jobs/progress.ts';
import type { ProviderSetting } from '../engine/runtime/providers.ts';
import type { Precision } from '../engine/runtime/precision.ts';
import { initProject } from './init.ts';
import { planKeyframes, type KeyframePlan } from './keyframes.ts';
import { translateProject, projectConfigOf, type ProjectConfig, type TranslateProjectResult } from './translate.ts';
import { propagateProject, type PropagateProjectResult } from './propagate.ts';
import { exportVideo, type ExportResult } from './export.ts';
import { ModelError, modelMessage, modelProblems } from './models.ts';
import { CodedError } from '../errors.ts';

export interface RunRequest {
  video: string;
  /** The MP4 to write. */
  out: string;
  /** Default: beside `out`, same name with .rrproj. An existing project is reused (resumed). */
  project?: string;
  /** Settings to save into the project first (prompt, model paths, LoRAs, seed, steps…). */
  settings?: SettingsPatch;
  /** An official Rerender_A_Video config or ours (see translate.ts). */
  config?: unknown;
  /** Default: the config's `interval`, else the project's key frames, else every 10th frame. */
  keyframes?: KeyframePlan;
  /** Working size of a new project (short side); default the config's image_resolution, else 512. */
  shortSide?: number;
}

export interface RunDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  onWarning?: (message: string) => void;
  cacheDir?: string;
  provider?: ProviderSetting;
  /** Overrides the project's precision for this run; absent: the project's (see TranslateProjectDeps). */
  precision?: Precision;
  intraOpThreads?: number;
  /** The models folder, whose annotators/ holds the HED and depth preprocessors (see TranslateProjectDeps). */
  modelsDir?: string;
}

export interface RunResult {
  project: string;
  created: boolean;
  keyframes: number[];
  translate: TranslateProjectResult;
  propagate: PropagateProjectResult;
  export: ExportResult;
}

class RunError extends CodedError {}

/** Stages and their share of the overall progress (translation dominates with real models). */
export const RUN_STAGES = [['init', 2], ['keyframes', 3], ['translate', 55], ['propagate', 35], ['export', 5]] as const;
export type RunStage = (typeof RUN_STAGES)[number][0];
const RUN_UNITS = 1000;

/** One progress display over the stages: `stage` names the current one, done/total is overall. */
export class RunProgress {
  readonly #tracker = new ProgressTracker({ stage: 'run', total: RUN_UNITS });
  readonly #emit: ((p: Progress) => void) | undefined;

  constructor(onProgress?: (p: Progress) => void) {
    this.#emit = onProgress;
  }

  #span(stage: RunStage): [number, number] {
    let start = 0;
    for (const [name, weight] of RUN_STAGES) {
      if (name === stage) return [start, weight];
      start += weight;
    }
    throw new Error(`unknown stage ${stage}`);
  }

  #last = '';

  #to(stage: RunStage, units: number): void {
    const delta = Math.round(units) - this.#tracker.done;
    const p = delta > 0 ? this.#tracker.advance(delta) : this.#tracker.snapshot();
    // Repeats (a stage ending where its last step left it) are not shown twice.
    const key = `${stage}:${p.done}`;
    if (key === this.#last) return;
    this.#last = key;
    this.#emit?.({ ...p, stage });
  }

  /** Progress within `stage`, as its own done/total; emits the stage's start at once. */
  stage(stage: RunStage): (p: Progress) => void {
    const [start, weight] = this.#span(stage);
    const total = RUN_STAGES.reduce((s, [, w]) => s + w, 0);
    this.#to(stage, (start / total) * RUN_UNITS);
    return (p) => {
      // The finer fraction where a stage counts coarse units (translation: key frames).
      const f = p.fraction ?? (p.total > 0 ? Math.min(1, p.done / p.total) : 1);
      this.#to(stage, ((start + f * weight) / total) * RUN_UNITS);
    };
  }

  end(stage: RunStage): void {
    this.stage(stage)({ stage, done: 1, total: 1, etaSeconds: 0 });
  }
}

/** `out.mp4` → `out.rrproj` beside it. */
export function defaultProjectPath(out: string): string {
  const ext = path.extname(out);
  return (ext ? out.slice(0, -ext.length) : out) + '.rrproj';
}

type ModelSettings = Pick<ProjectSettings, 'model' | 'controlnetModel' | 'loras' | 'controlnet' | 'extraControlnets'>;

function merged(base: ProjectSettings, ...patches: (SettingsPatch | undefined)[]): ModelSettings {
  let r: ModelSettings = { model: base.model, controlnetModel: base.controlnetModel, loras: base.loras, controlnet: base.controlnet, extraControlnets: base.extraControlnets };
  for (const p of patches) {
    if (!p) continue;
    r = {
      model: p.model !== undefined ? p.model : r.model,
      controlnetModel: p.controlnetModel !== undefined ? p.controlnetModel : r.controlnetModel,
      loras: p.loras !== undefined ? p.loras.map((l) => ({ path: l.path ?? '', weight: l.weight ?? 1 })) : r.loras,
      controlnet: { ...r.controlnet, ...p.controlnet },
      extraControlnets: p.extraControlnets !== undefined ? p.extraControlnets.map((e) => ({ path: e.path ?? '', kind: e.kind ?? 'canny', scale: e.scale ?? 1 })) : r.extraControlnets,
    };
  }
  return r;
}

/** The config's settings with the command line's over them; the ControlNet settings merge key by key. */
function settingsPatchOf(config: SettingsPatch | undefined, cli: SettingsPatch | undefined): SettingsPatch {
  const patch: SettingsPatch = { ...config, ...cli };
  if (config?.controlnet && cli?.controlnet) patch.controlnet = { ...config.controlnet, ...cli.controlnet };
  return patch;
}

const HOW_TO_SET = '`rerender run <video> --model PATH --controlnet PATH …` (saved in its project), or `rerender translate <project> --model PATH --controlnet PATH`';

export async function runVideo(req: RunRequest, deps: RunDeps): Promise<RunResult> {
  const progress = new RunProgress(deps.onProgress);
  const warn = (m: string): void => deps.onWarning?.(m);
  const cfg: ProjectConfig | null = req.config === undefined ? null : projectConfigOf(req.config);
  cfg?.warnings.forEach(warn);
  const video = path.resolve(req.video);
  const out = path.resolve(req.out);
  const projectPath = path.resolve(req.project ?? defaultProjectPath(out));
  if (!existsSync(video)) throw new RunError('FILE_NOT_FOUND', `The video ${req.video} does not exist`);

  // Everything cheap is checked before anything heavy (hashing the video, loading models).
  let project: Project | null = existsSync(projectPath) ? Project.open(projectPath) : null;
  try {
    const problems = modelProblems(merged(project?.settings() ?? defaultSettings(), cfg?.settings, req.settings));
    if (problems.length > 0) throw new ModelError(modelMessage(problems, HOW_TO_SET), problems);
    const patch = settingsPatchOf(cfg?.settings, req.settings);
    const initDone = progress.stage('init');
    const created = project === null;
    if (project) {
      const src = project.source();
      if (path.resolve(src.path) !== video && (await fileContentHash(video, deps.signal ? { signal: deps.signal } : {})) !== src.sha256) {
        throw new RunError('PROJECT_MISMATCH', `${projectPath} was made from another video (${src.path}); choose another --project or remove it`);
      }
      if (req.shortSide !== undefined && req.shortSide !== src.working.shortSide) warn(`the project ${projectPath} keeps its working size (short side ${src.working.shortSide}); --size applies to new projects`);
      if (Object.keys(patch).length > 0) project.updateSettings(patch);
    } else {
      const crop = cfg?.job.crop;
      project = await initProject({
        videoPath: video,
        projectPath,
        shortSide: req.shortSide ?? cfg?.job.imageResolution ?? 512,
        ...(crop ? { crop: { left: crop[0], right: crop[1], top: crop[2], bottom: crop[3] } } : {}),
        settings: patch,
      }, { tools: deps.tools, ...(deps.signal ? { signal: deps.signal } : {}) });
      sourceWarnings(project.source().probe).forEach(warn);
    }
    initDone({ stage: 'init', done: 1, total: 1, etaSeconds: 0 });
    const p = project;

    const plan = req.keyframes ?? (cfg?.job.interval !== undefined ? { every: cfg.job.interval } : undefined);
    const keyStage = progress.stage('keyframes');
    let keyframes = p.listKeyframes(() => '').map((k) => k.frame);
    if (plan || keyframes.length === 0) {
      keyframes = await planKeyframes(p, plan ?? { every: 10 }, { tools: deps.tools, onProgress: keyStage, ...(deps.signal ? { signal: deps.signal } : {}) });
    }
    progress.end('keyframes');

    const overlay = cfg && Object.keys(cfg.overlay).length > 0 ? cfg.overlay : undefined;
    const translate = await translateProject(p, overlay ? { config: overlay } : {}, {
      tools: deps.tools,
      onProgress: progress.stage('translate'),
      onWarning: warn,
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(deps.cacheDir !== undefined ? { cacheDir: deps.cacheDir } : {}),
      ...(deps.provider !== undefined ? { provider: deps.provider } : {}),
      ...(deps.precision !== undefined ? { precision: deps.precision } : {}),
      ...(deps.intraOpThreads !== undefined ? { intraOpThreads: deps.intraOpThreads } : {}),
      ...(deps.modelsDir !== undefined ? { modelsDir: deps.modelsDir } : {}),
    });
    progress.end('translate');

    const propagate = await propagateProject(p, {}, { tools: deps.tools, onProgress: progress.stage('propagate'), ...(deps.signal ? { signal: deps.signal } : {}) });
    progress.end('propagate');

    const exported = await exportVideo(p, { outPath: out }, { tools: deps.tools, onProgress: progress.stage('export'), ...(deps.signal ? { signal: deps.signal } : {}) });
    progress.end('export');
    return { project: projectPath, created, keyframes, translate, propagate, export: exported };
  } finally {
    project?.close();
  }
}
