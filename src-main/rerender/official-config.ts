// Maps an official Rerender_A_Video JSON config (config/*.json) to ours. Every official key is
// either mapped or reported as a warning; CONFIG.md documents the mapping.
import type { Period, RerenderConfigPatch } from './config.ts';
import { RerenderConfigError } from './config.ts';

export interface OfficialMapping {
  config: RerenderConfigPatch;
  /** Settings outside key-frame translation (video, key frame plan, control map, model). */
  job: {
    input?: string;
    output?: string;
    workDir?: string;
    frameCount?: number;
    /** Key frames every `interval` frames from frame 0. */
    interval?: number;
    /** Short side of the working size (rounded to a multiple of 64). */
    imageResolution?: number;
    /** Pixels cut from the left, right, top, bottom. */
    crop?: [number, number, number, number];
    control?: { kind: 'canny' | 'hed'; lowThreshold?: number; highThreshold?: number };
    model?: string;
  };
  warnings: string[];
}

const IGNORED = new Set(['key_subdir', 'use_limit_device_resolution']);

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function mapOfficialConfig(json: unknown, opts: { randomSeed?: () => number } = {}): OfficialMapping {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RerenderConfigError('an official config must be a JSON object');
  const o = json as Record<string, unknown>;
  const warnings: string[] = [];
  const config: RerenderConfigPatch = {};
  const job: OfficialMapping['job'] = {};
  const num = (k: string): number | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RerenderConfigError(`${k} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const str = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new RerenderConfigError(`${k} must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (k: string): boolean | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new RerenderConfigError(`${k} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const period = (k: string): Period | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number')) throw new RerenderConfigError(`${k} must be [start, end], got ${JSON.stringify(v)}`);
    return [v[0] as number, v[1] as number];
  };
  const set = <T>(v: T | undefined, apply: (v: T) => void): void => {
    if (v !== undefined) apply(v);
  };

  const prompt = str('prompt');
  const aPrompt = str('a_prompt');
  if (prompt !== undefined || aPrompt) config.prompt = [prompt ?? '', aPrompt ?? ''].filter((s) => s !== '').join(', ');
  set(str('n_prompt'), (v) => (config.negativePrompt = v));
  set(num('ddim_steps'), (v) => (config.steps = v));
  set(num('scale'), (v) => (config.guidance = v));
  set(num('control_strength'), (v) => (config.controlScale = v));
  set(num('seed'), (v) => (config.seed = v === -1 ? (opts.randomSeed ?? (() => Math.floor(Math.random() * 65536)))() : v));
  set(num('x0_strength'), (v) => {
    if (v === 0) throw new RerenderConfigError('x0_strength 0 would return the source frames unchanged; use a negative value (pure noise) or one in (0, 1]');
    // The official sampler re-noises the source at step ⌊steps·(1 − x0_strength)⌋; above 1 that is
    // negative, so it never does: pure noise, as van_gogh_man.json's 1.05 asks.
    config.x0Strength = v > 1 ? -1 : v;
  });

  const interval = num('interval');
  set(interval, (v) => (job.interval = v));
  const crossFrame: NonNullable<RerenderConfigPatch['crossFrame']> = {};
  set(period('cross_period'), (v) => (crossFrame.period = v));
  set(bool('loose_cfattn'), (v) => (crossFrame.loose = v));
  set(num('style_update_freq'), (v) => {
    // Official: key frame at frame i·interval + 1 refreshes when (i·interval) % freq = 0.
    crossFrame.styleUpdateEvery = v / gcd(v, interval ?? 10);
  });
  config.crossFrame = crossFrame;
  set(period('warp_period'), (v) => (config.shapeFusion = { period: v }));
  set(period('ada_period'), (v) => (config.adain = { period: v }));
  const pixel: NonNullable<RerenderConfigPatch['pixelFusion']> = {};
  set(period('mask_period'), (v) => (pixel.period = v));
  set(num('mask_strength'), (v) => (pixel.strength = v));
  set(num('inner_strength'), (v) => (pixel.innerStrength = v));
  set(bool('smooth_boundary'), (v) => (pixel.smoothBoundary = v));
  config.pixelFusion = pixel;
  // The official loader reads the misspelt 'color_perserve'; accept both.
  set(bool('color_preserve') ?? bool('color_perserve'), (v) => (config.colorPreserve = v));
  const freeu = o['freeu_args'];
  if (freeu !== undefined && freeu !== null) {
    if (!Array.isArray(freeu) || freeu.length !== 4 || !freeu.every((x) => typeof x === 'number')) throw new RerenderConfigError(`freeu_args must be [b1, b2, s1, s2], got ${JSON.stringify(freeu)}`);
    const [b1, b2, s1, s2] = freeu as number[];
    // The official code's own FreeU (src/freeu.py), not diffusers'.
    config.freeu = { enabled: !(b1 === 1 && b2 === 1 && s1 === 1 && s2 === 1), b1: b1!, b2: b2!, s1: s1!, s2: s2!, variant: 'official' };
  }

  set(str('input'), (v) => (job.input = v));
  set(str('output'), (v) => (job.output = v));
  set(str('work_dir'), (v) => (job.workDir = v));
  set(num('frame_count'), (v) => (job.frameCount = v));
  set(num('image_resolution'), (v) => (job.imageResolution = v));
  set(str('sd_model'), (v) => (job.model = v));
  const crop = o['crop'];
  if (crop !== undefined && crop !== null) {
    if (!Array.isArray(crop) || crop.length !== 4 || !crop.every((x) => Number.isInteger(x) && x >= 0)) throw new RerenderConfigError(`crop must be [left, right, top, bottom] pixels, got ${JSON.stringify(crop)}`);
    job.crop = crop as [number, number, number, number];
  }
  const controlType = str('control_type');
  if (controlType !== undefined) {
    if (controlType !== 'canny' && controlType !== 'HED') throw new RerenderConfigError(`control_type must be canny or HED, got ${controlType}`);
    job.control = { kind: controlType === 'canny' ? 'canny' : 'hed' };
    if (controlType === 'canny') {
      set(num('canny_low'), (v) => (job.control!.lowThreshold = v));
      set(num('canny_high'), (v) => (job.control!.highThreshold = v));
    }
  }
  const known = new Set([
    'prompt', 'a_prompt', 'n_prompt', 'ddim_steps', 'scale', 'control_strength', 'seed', 'x0_strength', 'interval', 'cross_period',
    'loose_cfattn', 'style_update_freq', 'warp_period', 'ada_period', 'mask_period', 'mask_strength', 'inner_strength', 'smooth_boundary',
    'color_preserve', 'color_perserve', 'freeu_args', 'input', 'output', 'work_dir', 'frame_count', 'image_resolution', 'sd_model', 'crop',
    'control_type', 'canny_low', 'canny_high',
  ]);
  for (const k of Object.keys(o)) {
    if (IGNORED.has(k)) warnings.push(`${k} has no effect here`);
    else if (!known.has(k)) warnings.push(`unknown key ${k} ignored`);
  }
  return { config, job, warnings };
}
