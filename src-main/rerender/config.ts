// Every setting of Rerender's key-frame translation, each constraint switchable on its own.
// Periods are fractions [start, end] of the full DDIM schedule, compared with the step index
// as the official code does (see periods.ts).
import { CodedError } from '../errors.ts';

export type Period = readonly [number, number];

export interface RerenderConfig {
  prompt: string;
  negativePrompt: string;
  seed: number;
  /** DDIM steps of the full schedule. */
  steps: number;
  guidance: number;
  /**
   * Official x0_strength: < 0 starts from pure noise; in (0, 1] the run starts at step
   * ⌊steps·(1 − x0Strength)⌋ from the source latent noised to that step (1 = the whole schedule).
   */
  x0Strength: number;
  /** ControlNet conditioning scale (official control_strength). */
  controlScale: number;
  crossFrame: {
    enabled: boolean;
    /** Steps whose decoder self-attention takes keys/values from anchor ‖ previous. */
    period: Period;
    /** Only the decoder blocks after the deepest attention block (SD 1.5: 640/320 channels). */
    loose: boolean;
    /** The "previous" store is refreshed by key frame k (1-based after the anchor) when (k − 1) % every = 0. */
    styleUpdateEvery: number;
  };
  /** Shape-aware fusion: the anchor's x̂0 warped into the current frame during `period`. */
  shapeFusion: { enabled: boolean; period: Period };
  /** Pixel-aware fusion: pass B pulled toward the fused, fidelity-encoded target. */
  pixelFusion: {
    enabled: boolean;
    /** Official mask_period: steps strictly inside it are pulled. */
    period: Period;
    strength: number;
    innerStrength: number;
    smoothBoundary: boolean;
    /** Mean absolute error (in [-1, 1] image units) above which the fidelity correction is dropped. Official: 0.25. */
    fidelityThreshold: number;
  };
  /** Colour-aware AdaIN: x̂0 takes the anchor's per-channel mean/std during `period`. */
  adain: { enabled: boolean; period: Period };
  /**
   * true: later key frames are encoded as they are. false: their input is first colour-matched to
   * the anchor's result (Lab histogram match + luminosity blend), as the official code does.
   */
  colorPreserve: boolean;
  /**
   * FreeU backbone/skip factors (b1, b2, s1, s2); compiled into the UNet, so the pipeline is loaded with them
   * (rerenderPipelineOptions). variant: diffusers' enable_freeu or the official Rerender code's (CONFIG.md).
   */
  freeu: { enabled: boolean; b1: number; b2: number; s1: number; s2: number; variant: 'diffusers' | 'official' };
  /** Precision of the stored self-attention contexts; float16 halves their memory. */
  contextPrecision: 'float16' | 'float32';
  /** Source latents: the VAE posterior mean, or a seeded sample (the official samples). */
  vaeEncode: 'mean' | 'sample';
  /** Feather radius (pixels) of a painted mask's final composite. */
  maskFeather: number;
}

export class RerenderConfigError extends CodedError<'INVALID_SETTINGS'> {
  constructor(message: string) {
    super('INVALID_SETTINGS', message);
  }
}

export function defaultRerenderConfig(): RerenderConfig {
  return {
    prompt: '',
    negativePrompt: '',
    seed: 0,
    steps: 20,
    guidance: 7.5,
    x0Strength: -1,
    controlScale: 1,
    crossFrame: { enabled: true, period: [0, 1], loose: false, styleUpdateEvery: 1 },
    shapeFusion: { enabled: true, period: [0, 0.1] },
    pixelFusion: { enabled: true, period: [0.5, 0.8], strength: 0.5, innerStrength: 0.9, smoothBoundary: true, fidelityThreshold: 0.25 },
    adain: { enabled: true, period: [0.8, 1] },
    colorPreserve: true,
    freeu: { enabled: false, b1: 1, b2: 1, s1: 1, s2: 1, variant: 'diffusers' },
    contextPrecision: 'float16',
    vaeEncode: 'mean',
    maskFeather: 4,
  };
}

type Patch<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Patch<T[K]> : T[K] };
export type RerenderConfigPatch = Patch<RerenderConfig>;

/** Defaults with `patch` merged in (nested objects merge), validated. */
export function resolveRerenderConfig(patch: RerenderConfigPatch = {}): RerenderConfig {
  const d = defaultRerenderConfig();
  const c: RerenderConfig = {
    ...d,
    ...strip(patch),
    crossFrame: { ...d.crossFrame, ...strip(patch.crossFrame ?? {}) },
    shapeFusion: { ...d.shapeFusion, ...strip(patch.shapeFusion ?? {}) },
    pixelFusion: { ...d.pixelFusion, ...strip(patch.pixelFusion ?? {}) },
    adain: { ...d.adain, ...strip(patch.adain ?? {}) },
    freeu: { ...d.freeu, ...strip(patch.freeu ?? {}) },
  } as RerenderConfig;
  validate(c);
  return c;
}

function strip<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(c: RerenderConfig): void {
  const fail = (m: string): never => {
    throw new RerenderConfigError(m);
  };
  const period = (name: string, p: Period): void => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isFinite(v) && v >= 0 && v <= 1) || p[0] > p[1]) {
      fail(`${name} must be [start, end] with 0 <= start <= end <= 1, got ${JSON.stringify(p)}`);
    }
  };
  const unit = (name: string, v: number): void => {
    if (!(Number.isFinite(v) && v >= 0 && v <= 1)) fail(`${name} must be within [0, 1], got ${v}`);
  };
  if (!Number.isInteger(c.steps) || c.steps < 1 || c.steps > 1000) fail(`steps must be an integer in 1..1000, got ${c.steps}`);
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff) fail(`seed must be an integer in 0..4294967295, got ${c.seed}`);
  if (!Number.isFinite(c.guidance)) fail('guidance must be a finite number');
  if (!Number.isFinite(c.controlScale)) fail('controlScale must be a finite number');
  if (!Number.isFinite(c.x0Strength) || c.x0Strength === 0 || c.x0Strength > 1) fail(`x0Strength must be negative (pure noise) or within (0, 1], got ${c.x0Strength}`);
  period('crossFrame.period', c.crossFrame.period);
  period('shapeFusion.period', c.shapeFusion.period);
  period('pixelFusion.period', c.pixelFusion.period);
  period('adain.period', c.adain.period);
  if (!Number.isInteger(c.crossFrame.styleUpdateEvery) || c.crossFrame.styleUpdateEvery < 1) fail(`crossFrame.styleUpdateEvery must be a positive integer, got ${c.crossFrame.styleUpdateEvery}`);
  unit('pixelFusion.strength', c.pixelFusion.strength);
  unit('pixelFusion.innerStrength', c.pixelFusion.innerStrength);
  if (!(c.pixelFusion.fidelityThreshold >= 0)) fail('pixelFusion.fidelityThreshold must be >= 0');
  for (const k of ['b1', 'b2', 's1', 's2'] as const) if (!Number.isFinite(c.freeu[k])) fail(`freeu.${k} must be a finite number`);
  if (c.freeu.variant !== 'diffusers' && c.freeu.variant !== 'official') fail(`freeu.variant must be diffusers or official, got ${String(c.freeu.variant)}`);
  if (c.contextPrecision !== 'float16' && c.contextPrecision !== 'float32') fail(`contextPrecision must be float16 or float32, got ${String(c.contextPrecision)}`);
  if (c.vaeEncode !== 'mean' && c.vaeEncode !== 'sample') fail(`vaeEncode must be mean or sample, got ${String(c.vaeEncode)}`);
  if (!(c.maskFeather >= 0)) fail('maskFeather must be >= 0');
}

/** First step the sampler runs and whether it starts from the noised source latent. */
export function startStep(c: Pick<RerenderConfig, 'steps' | 'x0Strength'>): { start: number; fromSource: boolean } {
  if (c.x0Strength < 0) return { start: 0, fromSource: false };
  return { start: Math.floor(c.steps * (1 - c.x0Strength)), fromSource: true };
}

/** Official period test (cross, warp, ada): steps·start <= i <= steps·end. */
export function inPeriod(i: number, steps: number, p: Period): boolean {
  return steps * p[0] <= i && i <= steps * p[1];
}

/** Official mask_period test: strictly inside. */
export function inMaskPeriod(i: number, steps: number, p: Period): boolean {
  return steps * p[0] < i && i < steps * p[1];
}
