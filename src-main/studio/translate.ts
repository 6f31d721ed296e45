// `translate`: stage 1 in a project. The key frames are translated with Stable Diffusion 1.5 +
// one or more ControlNets (each given its map of the source frame: Canny, HED, depth) under Rerender's cross-frame constraints, and each is
// stored in the project as soon as it is made, tagged with its chain hash (params.ts). A rerun
// redoes only key frames whose hash changed; artist-edited key frames are kept as they are and
// serve as the anchor / previous image for the key frames after them.
import path from 'node:path';
import { decodePng, encodePngAsync, toRgb, type MediaTools } from '../media/index.ts';
import type { Project, ProjectSettings, SettingsPatch } from '../project/index.ts';
import type { Progress } from '../jobs/progress.ts';
import { StableProgress } from '../jobs/stable-progress.ts';
import { StableDiffusionPipeline } from '../engine/pipeline/index.ts';
import type { TextEmbeddings } from '../engine/pipeline/index.ts';
import type { ProviderSetting } from '../engine/runtime/providers.ts';
import type { Precision } from '../engine/runtime/precision.ts';
import { resolveModelsDir } from '../engine/weights/model-roots.ts';
import { loadPropagateAddon } from '../propagate/native.ts';
import {
  RerenderConfigError, defaultRerenderConfig, mapOfficialConfig, nativeMotion, rerenderPipelineOptions, resolveRerenderConfig, translateKeyframes,
} from '../rerender/index.ts';
import type { OfficialMapping, RerenderConfig, RerenderConfigPatch, RerenderPipeline } from '../rerender/index.ts';
import { openSource } from './source.ts';
import { SourceFrames } from './source-frames.ts';
import { cacheDirOf } from './flow-cache.ts';
import { startFlowWarmup, type FlowWarmup } from './flow-warmup.ts';
import { projectChain, pruneEmpty } from './params.ts';
import { resolveTranslationModels } from './models.ts';
import { kindWarnings, openControlMaps, pipelineControlNets, projectControlNets } from './control-maps.ts';
import { CodedError } from '../errors.ts';

export class TranslateError extends CodedError<'INVALID_SETTINGS' | 'NO_KEYFRAME'> {}

export interface TranslateRequest {
  /** Key frames to bring up to date (with the key frames before them they depend on); all when omitted. */
  frames?: readonly number[];
  /**
   * An official Rerender_A_Video JSON config (snake_case keys) or our RerenderConfigPatch. What the
   * project's settings can hold is saved into them; the rest applies to this run (and its hashes).
   */
  config?: unknown;
}

export interface TranslateProjectDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Config warnings, execution-provider fallbacks, truncated prompts. */
  onWarning?: (message: string) => void;
  /** Each key frame right after it is stored. */
  onKeyframe?: (frame: number) => void;
  /** Called once the pipeline is loaded. */
  onDevice?: (d: { provider: string; floatType: string; notes: string[] }) => void;
  /** Compiled-graph cache; default `<project>.rrproj.cache/engine`. */
  cacheDir?: string;
  provider?: ProviderSetting;
  /** Overrides the project's precision for this run (the CLI's --precision); absent: the project's. */
  precision?: Precision;
  intraOpThreads?: number;
  /**
   * The models folder: HED and depth ControlNets get their maps from the annotator weights under
   * its annotators/. Default: RERENDER_MODELS_DIR, else ~/.rerender-studio/models.
   */
  modelsDir?: string;
  /**
   * Computing the optical flow propagation will need while the key frames are made (studio/
   * flow-warmup.ts): 'gpu' (default) when the pipeline runs on a GPU and leaves the CPU idle,
   * 'always', or 'off'.
   */
  flowWarmup?: 'gpu' | 'always' | 'off';
}

export interface TranslateProjectResult {
  /** Key frames this run covered, in order (the first is the anchor). */
  keyframes: number[];
  /** Made by this run. */
  translated: number[];
  /** Already translated with the same parameters. */
  upToDate: number[];
  /** Artist-edited, kept as they are. */
  kept: number[];
  /** Peak bytes of stored self-attention contexts. */
  contextBytes: number;
  /** The part of contextBytes kept in GPU memory (WebGPU). */
  contextDeviceBytes: number;
  /** null when nothing needed the pipeline. */
  provider: string | null;
  floatType: string | null;
  /** Where it ran and in which precision, and why (one line), or null when nothing was translated. */
  device: string | null;
  /** Frame pairs whose flow was computed for propagation while the key frames were made. */
  flowPairsPrepared: number;
  notes: string[];
  warnings: string[];
}

/** An official config or ours, split into project settings, a per-run overlay and the job's other settings. */
export interface ProjectConfig {
  settings: SettingsPatch;
  overlay: RerenderConfigPatch;
  job: OfficialMapping['job'];
  warnings: string[];
}

const OUR_KEYS = new Set(Object.keys(defaultRerenderConfig()));

/** Official configs use snake_case keys ours never have. */
export function isOfficialConfig(config: Record<string, unknown>): boolean {
  return Object.keys(config).some((k) => !OUR_KEYS.has(k));
}

function invalidConfig(e: unknown): never {
  if (e instanceof RerenderConfigError) throw new TranslateError('INVALID_SETTINGS', `Invalid translation config: ${e.message}`, { cause: e });
  throw e;
}

/** Splits a config (official or ours) into what the project's settings hold and what they cannot. */
export function projectConfigOf(config: unknown): ProjectConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new TranslateError('INVALID_SETTINGS', 'A translation config must be a JSON object');
  let patch: RerenderConfigPatch;
  let job: OfficialMapping['job'] = {};
  const warnings: string[] = [];
  if (isOfficialConfig(config as Record<string, unknown>)) {
    let m: OfficialMapping;
    try {
      m = mapOfficialConfig(config);
    } catch (e) {
      invalidConfig(e);
    }
    patch = m.config;
    job = m.job;
    warnings.push(...m.warnings);
  } else {
    patch = config as RerenderConfigPatch;
  }
  try {
    resolveRerenderConfig(patch);
  } catch (e) {
    invalidConfig(e);
  }
  const settings: SettingsPatch = {};
  const overlay: RerenderConfigPatch = {};
  const cross: NonNullable<SettingsPatch['crossFrame']> = {};
  const p = patch;
  if (p.prompt !== undefined) settings.prompt = p.prompt;
  if (p.negativePrompt !== undefined) settings.negativePrompt = p.negativePrompt;
  if (p.seed !== undefined) settings.seed = p.seed;
  if (p.steps !== undefined) settings.steps = p.steps;
  if (p.guidance !== undefined) settings.guidance = p.guidance;
  // The project's strength is in (0, 1]; "start from pure noise" (negative) exists for this run only.
  if (p.x0Strength !== undefined) {
    if (p.x0Strength > 0) settings.strength = p.x0Strength;
    else overlay.x0Strength = p.x0Strength;
  }
  const controlnet: NonNullable<SettingsPatch['controlnet']> = {};
  if (p.controlScale !== undefined) controlnet.scale = p.controlScale;
  if (job.control) {
    controlnet.kind = job.control.kind;
    if (job.control.lowThreshold !== undefined) controlnet.lowThreshold = job.control.lowThreshold;
    if (job.control.highThreshold !== undefined) controlnet.highThreshold = job.control.highThreshold;
  }
  if (Object.keys(controlnet).length > 0) settings.controlnet = controlnet;
  if (p.crossFrame) {
    const { period, loose, styleUpdateEvery, enabled } = p.crossFrame;
    if (period !== undefined) cross.crossPeriod = [...period];
    if (loose !== undefined) cross.looseCrossFrame = loose;
    if (styleUpdateEvery !== undefined) cross.styleUpdateFreq = styleUpdateEvery;
    if (enabled !== undefined) overlay.crossFrame = { enabled };
  }
  if (p.shapeFusion) {
    if (p.shapeFusion.period !== undefined) cross.warpPeriod = [...p.shapeFusion.period];
    if (p.shapeFusion.enabled !== undefined) overlay.shapeFusion = { enabled: p.shapeFusion.enabled };
  }
  if (p.pixelFusion) {
    const { period, strength, innerStrength, ...rest } = p.pixelFusion;
    if (period !== undefined) cross.maskPeriod = [...period];
    if (strength !== undefined) cross.maskStrength = strength;
    if (innerStrength !== undefined) cross.innerStrength = innerStrength;
    overlay.pixelFusion = rest;
  }
  if (p.adain) {
    if (p.adain.period !== undefined) cross.adaPeriod = [...p.adain.period];
    if (p.adain.enabled !== undefined) overlay.adain = { enabled: p.adain.enabled };
  }
  if (p.colorPreserve !== undefined) cross.colorPreserve = p.colorPreserve;
  if (p.freeu) cross.freeu = { ...p.freeu };
  if (Object.keys(cross).length > 0) settings.crossFrame = cross;
  if (p.contextPrecision !== undefined) overlay.contextPrecision = p.contextPrecision;
  if (p.vaeEncode !== undefined) overlay.vaeEncode = p.vaeEncode;
  if (p.maskFeather !== undefined) overlay.maskFeather = p.maskFeather;
  if (job.model !== undefined) warnings.push(`sd_model ${job.model} is not used: set the model with --model (or in the editor)`);
  return { settings, overlay: (pruneEmpty(overlay) ?? {}) as RerenderConfigPatch, job, warnings };
}

/** The RerenderConfig of the project's settings with a per-run overlay (INVALID_SETTINGS when invalid). */
export function rerenderConfigOf(s: ProjectSettings, overlay: RerenderConfigPatch = {}): RerenderConfig {
  const c = s.crossFrame;
  const o = overlay;
  try {
    return resolveRerenderConfig({
      ...o,
      prompt: s.prompt,
      negativePrompt: s.negativePrompt,
      seed: s.seed,
      steps: s.steps,
      guidance: s.guidance,
      x0Strength: o.x0Strength ?? s.strength,
      controlScale: s.controlnet.scale,
      crossFrame: { ...o.crossFrame, period: c.crossPeriod, loose: c.looseCrossFrame, styleUpdateEvery: c.styleUpdateFreq },
      shapeFusion: { ...o.shapeFusion, period: c.warpPeriod },
      pixelFusion: { ...o.pixelFusion, period: c.maskPeriod, strength: c.maskStrength, innerStrength: c.innerStrength },
      adain: { ...o.adain, period: c.adaPeriod },
      colorPreserve: c.colorPreserve,
      freeu: { ...c.freeu },
    });
  } catch (e) {
    invalidConfig(e);
  }
}

/**
 * The pipeline as translateKeyframes sees it, with each key frame's own prompt: translateKeyframes
 * asks for a key frame's control map right before its sampler passes, so `select` is called there
 * and the passes that follow use that key frame's text embeddings.
 */
function withPerKeyframePrompts(sd: StableDiffusionPipeline, base: string, negative: string, signal?: AbortSignal): { pipeline: RerenderPipeline; select(prompt: string): Promise<void> } {
  const cache = new Map<string, Promise<TextEmbeddings>>();
  let current: TextEmbeddings | null = null;
  const pipeline: RerenderPipeline = {
    encodePrompt: (o, s) => sd.encodePrompt(o, s),
    encodeImage: (img, o) => sd.encodeImage(img, o),
    decodeLatents: (l, w, h, s) => sd.decodeLatents(l, w, h, s),
    denoise: (req) => sd.denoise(current ? { ...req, text: current } : req),
    scheduler: (steps) => sd.scheduler(steps),
    noise: (seed, w, h) => sd.noise(seed, w, h),
    crossFrameLayers: () => sd.crossFrameLayers(),
    dropContexts: (keys) => sd.dropContexts(keys),
    contextMemory: (o) => sd.contextMemory(o),
    freeu: sd.freeu,
    contextType: sd.contextType,
    contextTypeAsked: sd.contextTypeAsked,
  };
  return {
    pipeline,
    async select(prompt) {
      if (prompt === base) {
        current = null;
        return;
      }
      let e = cache.get(prompt);
      if (!e) {
        e = sd.encodePrompt({ prompt, negative }, signal);
        cache.set(prompt, e);
      }
      current = await e;
    },
  };
}

function keyframeRgb(png: Uint8Array, width: number, height: number): Uint8Array {
  return toRgb(decodePng(png, { width, height }));
}

/** A painted mask as [H·W] in [0, 1] (1 = translate); its first channel when not grey. */
function maskValues(png: Uint8Array, width: number, height: number): Float32Array {
  const img = decodePng(png, { width, height });
  const out = new Float32Array(width * height);
  for (let p = 0; p < out.length; p++) out[p] = img.data[p * img.channels]! / 255;
  return out;
}

/** The key frames a run covers (`frames` and those before them), and how many it must make. */
export function translationWork(project: Project, frames?: readonly number[], overlay: RerenderConfigPatch = {}): { run: number[]; kept: number[]; upToDate: number[]; chain: Map<number, string>; todo: number } {
  const all = project.listKeyframes(() => '').map((k) => k.frame);
  if (all.length === 0) throw new TranslateError('NO_KEYFRAME', 'The project has no key frames: choose them first (`rerender keyframes`, or in the editor).');
  let run = all;
  if (frames && frames.length > 0) {
    const missing = frames.filter((f) => !all.includes(f));
    if (missing.length > 0) throw new TranslateError('NO_KEYFRAME', `Frame(s) ${missing.join(', ')} are not key frames (key frames: ${all.join(', ')})`);
    const last = Math.max(...frames);
    run = all.filter((f) => f <= last);
  }
  const chain = projectChain(project, overlay);
  const states = new Map(project.listKeyframes((f) => chain.get(f) ?? '').map((k) => [k.frame, k.state]));
  const kept = run.filter((f) => states.get(f) === 'edited');
  const upToDate = run.filter((f) => states.get(f) === 'translated');
  return { run, kept, upToDate, chain, todo: run.length - kept.length - upToDate.length };
}

export async function translateProject(project: Project, req: TranslateRequest, deps: TranslateProjectDeps): Promise<TranslateProjectResult> {
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    deps.onWarning?.(m);
  };
  const cfg = req.config === undefined ? null : projectConfigOf(req.config);
  cfg?.warnings.forEach(warn);
  const runOnly = (['interval', 'imageResolution', 'crop', 'input', 'output', 'workDir', 'frameCount'] as const).filter((k) => cfg?.job[k] !== undefined);
  if (runOnly.length > 0) warn(`${runOnly.join(', ')} of the config apply to \`rerender run\` only; translate uses the project's key frames and working size`);
  if (cfg && Object.keys(cfg.settings).length > 0) project.updateSettings(cfg.settings);
  const overlay = cfg?.overlay ?? {};
  const settings = project.settings();
  const models = resolveTranslationModels(settings);
  const config = rerenderConfigOf(settings, overlay);

  const { run, kept, upToDate, chain, todo } = translationWork(project, req.frames, overlay);
  const result: TranslateProjectResult = { keyframes: run, translated: [], upToDate, kept, contextBytes: 0, contextDeviceBytes: 0, provider: null, floatType: null, device: null, flowPairsPrepared: 0, notes: [], warnings };
  if (todo === 0) return result;
  // Counted in key frames to make, known now: the total never changes mid-job (the ETA comes
  // from the diffusion steps).
  const progress = new StableProgress({ stage: 'translate', total: todo, ...(deps.onProgress ? { onProgress: deps.onProgress } : {}) });
  progress.emit();

  const src = await openSource(project);
  const { width, height } = src.geometry;
  const decoded = new SourceFrames(src, deps.tools, deps.signal);
  const io: ChainIO = {
    frame: (i) => decoded.get(i),
    prompt: (i) => project.getKeyframe(i)?.prompt ?? null,
    mask: (i) => project.getKeyframe(i)?.mask ?? null,
    done: (i) => {
      const k = project.getKeyframe(i);
      if (!k?.image) return null;
      return k.origin === 'edited' || (k.origin === 'translated' && k.paramsHash === chain.get(i)) ? k.image : null;
    },
    // Committed before the next key frame starts, so a killed run keeps it.
    store: (i, png) => project.setKeyframeImage(i, png, 'translated', chain.get(i)!),
  };
  const warmup: { running: FlowWarmup | null } = { running: null };
  const onDevice: TranslateProjectDeps['onDevice'] = (d) => {
    deps.onDevice?.(d);
    const mode = deps.flowWarmup ?? 'gpu';
    if (mode === 'always' || (mode === 'gpu' && d.provider !== 'cpu')) warmup.running = startFlowWarmup(project, src, { tools: deps.tools, ...(deps.signal ? { signal: deps.signal } : {}) });
  };
  try {
    await translateChain({ settings, models, config, run, width, height, io, result, progress, warn }, { ...deps, onDevice, cacheDir: deps.cacheDir ?? path.join(cacheDirOf(project.path), 'engine') });
  } finally {
    const warmed = await warmup.running?.stop();
    if (warmed) {
      result.flowPairsPrepared = warmed.computed;
      if (warmed.error) warn(`computing the optical flow ahead of propagation stopped: ${warmed.error}`);
    }
  }
  return result;
}

/**
 * Where a translation chain reads its inputs and stores its key frames: the project for a local
 * run, the artifact store for a farm worker (farm/run-translate.ts). Images are PNG bytes as the
 * project keeps them.
 */
export interface ChainIO {
  /** RGB bytes (HWC) of a source frame at the working size. */
  frame(i: number): Promise<Uint8Array>;
  /** The key frame's own prompt, null: the project's. */
  prompt(i: number): string | null;
  mask(i: number): Uint8Array | null | Promise<Uint8Array | null>;
  /** An image that stands as made: artist-edited, or translated with the current chain hash. */
  done(i: number): Uint8Array | null | Promise<Uint8Array | null>;
  store(i: number, png: Uint8Array): void | Promise<void>;
}

export interface ChainRun {
  settings: ProjectSettings;
  models: ReturnType<typeof resolveTranslationModels>;
  config: RerenderConfig;
  run: number[];
  width: number;
  height: number;
  io: ChainIO;
  result: TranslateProjectResult;
  progress: StableProgress;
  warn: (m: string) => void;
}

type ChainDeps = Omit<TranslateProjectDeps, 'tools' | 'cacheDir' | 'onProgress'> & { cacheDir: string };

/** Translates `run` (the key frames the chain covers) with the project's settings, storing each key frame through `io` as it is made. */
export async function translateChain(r: ChainRun, deps: ChainDeps): Promise<void> {
  const { settings, models, run, width, height, io, warn } = r;
  const addon = loadPropagateAddon();
  // The anchor is needed for every key frame's motion; keep it rather than decode its window again.
  const anchor = io.frame(run[0]!);
  anchor.catch(() => undefined);
  const frames = { get: (i: number): Promise<Uint8Array> => (i === run[0] ? anchor : io.frame(i)) };
  const controlnets = projectControlNets(settings, models.controlnet);
  kindWarnings(controlnets).forEach(warn);
  const { lowThreshold: low, highThreshold: high } = settings.controlnet;
  // Before the diffusion models: a missing HED or depth file fails fast.
  const maps = await openControlMaps(controlnets, {
    width, height, canny: { low, high }, cacheDir: deps.cacheDir, provider: deps.provider ?? 'auto',
    modelsDir: deps.modelsDir ?? resolveModelsDir(process.env),
    ...(deps.intraOpThreads !== undefined ? { intraOpThreads: deps.intraOpThreads } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  try {
    await translateWith({ ...r, frames, addon, maps, controlnets: pipelineControlNets(controlnets) }, deps);
  } finally {
    await maps.close();
  }
}

interface TranslateRun extends ChainRun {
  frames: { get(i: number): Promise<Uint8Array> };
  addon: ReturnType<typeof loadPropagateAddon>;
  maps: Awaited<ReturnType<typeof openControlMaps>>;
  controlnets: ReturnType<typeof pipelineControlNets>;
}

/** Loads the pipeline and translates `run`, storing each key frame as it is made. */
async function translateWith(r: TranslateRun, deps: ChainDeps): Promise<void> {
  const { settings, models, config, run, width, height, frames, addon, maps, io, warn, result, progress } = r;
  const { cacheDir } = deps;
  let steps = { done: 0, total: 0 };
  const sd = await StableDiffusionPipeline.load({
    model: models.model,
    controlnet: r.controlnets,
    loras: models.loras,
    cacheDir,
    provider: deps.provider ?? 'auto',
    precision: deps.precision ?? settings.precision,
    // Cross-frame attention layers, FreeU and the contexts' type are compiled into the UNet graphs.
    ...rerenderPipelineOptions(config),
    onWarning: warn,
    ...(deps.intraOpThreads !== undefined ? { intraOpThreads: deps.intraOpThreads } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  try {
    result.provider = sd.provider;
    result.floatType = sd.floatType;
    result.notes = sd.notes.map((n) => n.message);
    result.device = sd.deviceLine;
    deps.onDevice?.({ provider: sd.provider, floatType: sd.floatType, notes: result.notes });
    const prompts = withPerKeyframePrompts(sd, config.prompt, config.negativePrompt, deps.signal);
    let out;
    try {
      out = await translateKeyframes({
        pipeline: prompts.pipeline,
        width,
        height,
        keyframes: run,
        frame: (i) => frames.get(i),
        control: async (i, rgb) => {
          await prompts.select(io.prompt(i) ?? config.prompt);
          return maps.of(rgb);
        },
        motion: nativeMotion(addon, (i) => frames.get(i), width, height, deps.signal ? { signal: deps.signal } : {}),
        mask: async (i) => {
          const m = await io.mask(i);
          return m ? maskValues(m, width, height) : null;
        },
        done: async (i) => {
          const png = await io.done(i);
          return png ? keyframeRgb(png, width, height) : null;
        },
        onKeyframe: async (r) => {
          await io.store(r.frame, await encodePngAsync(r.rgb, width, height, 3));
          result.translated.push(r.frame);
          progress.work('translate', steps.done, steps.total, result.translated.length);
          deps.onKeyframe?.(r.frame);
        },
        onProgress: (p) => {
          steps = { done: p.done, total: p.total };
          progress.work('translate', p.done, p.total, result.translated.length);
        },
        ...(deps.signal ? { signal: deps.signal } : {}),
      }, config);
    } catch (e) {
      invalidConfig(e);
    }
    result.contextBytes = out.contextBytes;
    result.contextDeviceBytes = out.contextDeviceBytes;
  } finally {
    await sd.close();
  }
}
