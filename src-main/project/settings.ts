// Project settings: one nested object, every field defaulted, validated by zod on every write.
// Objects are strict so a misspelt key is an error instead of a silently ignored setting.
import { z } from 'zod';
import { BACKENDS, FLOW_METHODS, MEASURED_DEFAULTS } from '../propagate/choices.ts';
import { ProjectError } from './errors.ts';

/** A [start, end] fraction of the denoising schedule, 0 <= start <= end <= 1. */
function period(start: number, end: number) {
  return z
    .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
    .refine(([a, b]) => a <= b, 'period start must not exceed its end')
    .default([start, end]);
}

const unit = z.number().min(0).max(1);

/**
 * What a ControlNet was trained on, i.e. which map of the key frame it gets: Canny edges, HED soft
 * edges (softedge: the same HED map), a depth map, or the key frame itself (raw, e.g. a tile
 * ControlNet). A subset of the engine's ControlType: lineart and scribble have no preprocessor.
 */
export const CONTROL_KINDS = ['canny', 'hed', 'softedge', 'depth', 'raw'] as const;
export type ControlKind = (typeof CONTROL_KINDS)[number];
const controlKind = z.enum(CONTROL_KINDS);
const controlScale = z.number().min(0).max(2);

/** The ControlNet of `controlnetModel`: its control type, Canny thresholds (canny only) and scale. */
const controlnetSchema = z
  .strictObject({
    kind: controlKind.default('canny'),
    lowThreshold: z.number().int().min(0).max(255).default(50),
    highThreshold: z.number().int().min(0).max(255).default(100),
    scale: controlScale.default(0.7),
  })
  .refine((c) => c.lowThreshold <= c.highThreshold, {
    message: 'lowThreshold must not exceed highThreshold',
    path: ['lowThreshold'],
  })
  .prefault({});

/** A 2nd, 3rd… ControlNet; its residuals add to the first one's (diffusers' MultiControlNet). */
const extraControlnetSchema = z.strictObject({
  path: z.string().min(1),
  kind: controlKind.default('canny'),
  scale: controlScale.default(1),
});

/** At most this many ControlNets besides `controlnetModel` (each one is a UNet encoder per step). */
export const MAX_EXTRA_CONTROLNETS = 3;

const loraSchema = z.strictObject({
  path: z.string().min(1),
  weight: z.number().min(-4).max(4).default(1),
});

/** FreeU re-weights the UNet's backbone (b) and skip (s) features; off by default. */
const freeuSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    b1: z.number().min(0).max(3).default(1.3),
    b2: z.number().min(0).max(3).default(1.4),
    s1: z.number().min(0).max(3).default(0.9),
    s2: z.number().min(0).max(3).default(0.2),
    /** Absent: diffusers' enable_freeu; 'official': Rerender's own (see src-main/rerender/CONFIG.md). */
    variant: z.enum(['diffusers', 'official']).optional(),
  })
  .prefault({});

/** The cross-frame constraints of Rerender A Video, stage 1. */
const crossFrameSchema = z
  .strictObject({
    crossPeriod: period(0, 1),
    looseCrossFrame: z.boolean().default(false),
    styleUpdateFreq: z.number().int().min(1).max(100).default(1),
    warpPeriod: period(0, 0.1),
    maskPeriod: period(0.5, 0.8),
    maskStrength: unit.default(0.5),
    innerStrength: unit.default(0.9),
    adaPeriod: period(0.8, 1),
    colorPreserve: z.boolean().default(true),
    freeu: freeuSchema,
  })
  .prefault({});

/** Stage 2: EbSynth-style patch-based propagation. */
const propagationSchema = z
  .strictObject({
    patchSize: z
      .number()
      .int()
      .min(3)
      .max(15)
      .refine((n) => n % 2 === 1, 'patchSize must be odd')
      .default(5),
    /** null: as many levels as the frame size allows. */
    pyramidLevels: z.number().int().min(1).max(16).nullable().default(null),
    searchVoteIters: z.number().int().min(1).max(100).default(MEASURED_DEFAULTS.searchVoteIters),
    patchMatchIters: z.number().int().min(1).max(100).default(MEASURED_DEFAULTS.patchMatchIters),
    uniformity: z.number().min(0).max(1e6).default(3500),
    weights: z
      .strictObject({
        style: z.number().min(0).max(100).default(1),
        colour: z.number().min(0).max(100).default(6),
        edge: z.number().min(0).max(100).default(0.5),
        temporal: z.number().min(0).max(100).default(0.5),
        positional: z.number().min(0).max(100).default(2),
      })
      .prefault({}),
    extraPass3x3: z.boolean().default(false),
    stopThreshold: z.number().min(0).max(1e6).default(5),
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    /** 0: one per core. */
    threads: z.number().int().min(0).max(256).default(0),
    /** Start each frame's search from the previous frame's matches carried by the flow. */
    temporalInit: z.boolean().default(MEASURED_DEFAULTS.temporalInit),
    flowMethod: z.enum(FLOW_METHODS).default(MEASURED_DEFAULTS.flowMethod),
    /** Pull each blended frame toward the previous one where the motion explains it (0: off). */
    deflicker: z.number().min(0).lt(1).default(MEASURED_DEFAULTS.deflicker),
    /** Where synthesis runs; 'auto': a hardware GPU through WebGPU, else the CPU. */
    backend: z.enum(BACKENDS).default(MEASURED_DEFAULTS.backend),
  })
  .prefault({});

const exportSchema = z
  .strictObject({
    crf: z.number().int().min(0).max(51).default(18),
    audio: z.boolean().default(true),
  })
  .prefault({});

export const settingsSchema = z.strictObject({
  prompt: z.string().default(''),
  negativePrompt: z.string().default('lowres, blurry, worst quality, low quality, deformed, watermark, text'),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  steps: z.number().int().min(1).max(150).default(20),
  guidance: z.number().min(0).max(30).default(7.5),
  /** x0 strength: how far the first key frame is re-noised (1 = from pure noise). */
  strength: z.number().gt(0).max(1).default(0.75),
  controlnet: controlnetSchema,
  /** Paths of the model files; null until chosen. */
  model: z.string().min(1).nullable().default(null),
  controlnetModel: z.string().min(1).nullable().default(null),
  /** More ControlNets after `controlnetModel`, in order (Canny ones use `controlnet`'s thresholds). */
  extraControlnets: z.array(extraControlnetSchema).max(MAX_EXTRA_CONTROLNETS).default([]),
  loras: z.array(loraSchema).default([]),
  /**
   * The float precision the engine computes in ('auto': fp16 where the GPU supports it). It changes
   * speed and memory, not what is asked for, so it is not part of the translation hash.
   */
  precision: z.enum(['auto', 'fp16', 'fp32']).default('auto'),
  crossFrame: crossFrameSchema,
  propagation: propagationSchema,
  export: exportSchema,
});

export type ProjectSettings = z.infer<typeof settingsSchema>;

/** A partial update: nested objects merge, arrays and scalars replace. */
export type SettingsPatch = DeepPartial<ProjectSettings>;
type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export function defaultSettings(): ProjectSettings {
  return settingsSchema.parse({});
}

/** Validates `value` as complete settings (missing fields take defaults), or throws INVALID_SETTINGS. */
export function parseSettings(value: unknown): ProjectSettings {
  const result = settingsSchema.safeParse(value);
  if (!result.success) {
    const details = result.error.issues
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(settings)'}: ${i.message}`)
      .join('; ');
    throw new ProjectError('INVALID_SETTINGS', `Invalid project settings: ${details}`, { cause: result.error });
  }
  return result.data;
}

/** `base` with `patch` merged in and the result validated. */
export function applySettingsPatch(base: ProjectSettings, patch: unknown): ProjectSettings {
  if (!isPlainObject(patch)) {
    throw new ProjectError('INVALID_SETTINGS', 'Invalid project settings: a settings patch must be an object');
  }
  return parseSettings(deepMerge(base, withOneSeed(patch)));
}

/**
 * One Seed: `seed` drives every random choice of a run, so setting it sets the propagation's too
 * (unless the patch sets that one itself). Stored settings are left as they are, so an older
 * project whose two seeds differ keeps its renders until its seed is next changed.
 */
export function withOneSeed(patch: Record<string, unknown>): Record<string, unknown> {
  if (patch.seed === undefined) return patch;
  const propagation = patch.propagation ?? {};
  // A malformed propagation patch is left for validation to refuse.
  if (!isPlainObject(propagation) || propagation.seed !== undefined) return patch;
  return { ...patch, propagation: { ...propagation, seed: patch.seed } };
}

function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    // defineProperty keeps a '__proto__' key an ordinary (and then rejected) key.
    const merged = Object.hasOwn(base, key) ? deepMerge(base[key], value) : value;
    Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
