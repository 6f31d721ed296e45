// DDIM sampler (eta 0) as SD 1.5 uses it in diffusers: "leading" timestep spacing with
// steps_offset, img2img strength, classifier-free guidance.
import { CodedError } from '../../errors.ts';

export interface DdimConfig {
  readonly numTrainTimesteps: number;
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly betaSchedule: 'scaled_linear' | 'linear';
  readonly stepsOffset: number;
  /** false for SD 1.5: the final step's "previous" ᾱ is ᾱ[0]. */
  readonly setAlphaToOne: boolean;
}

export const SD15_DDIM: DdimConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  stepsOffset: 1,
  setAlphaToOne: false,
};

export class SchedulerError extends CodedError<'INVALID_ARGUMENT'> {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** Reads a diffusers scheduler_config.json object (unknown fields ignored). */
export function ddimConfigFromJson(json: Record<string, unknown>): DdimConfig {
  const num = (k: string, d: number): number => (typeof json[k] === 'number' ? (json[k] as number) : d);
  const schedule = json['beta_schedule'] ?? 'scaled_linear';
  if (schedule !== 'scaled_linear' && schedule !== 'linear') throw new SchedulerError(`unsupported beta_schedule ${String(schedule)}`);
  if ((json['timestep_spacing'] ?? 'leading') !== 'leading') throw new SchedulerError(`unsupported timestep_spacing ${String(json['timestep_spacing'])}`);
  if ((json['prediction_type'] ?? 'epsilon') !== 'epsilon') throw new SchedulerError(`unsupported prediction_type ${String(json['prediction_type'])}`);
  return {
    numTrainTimesteps: num('num_train_timesteps', 1000),
    betaStart: num('beta_start', 0.00085),
    betaEnd: num('beta_end', 0.012),
    betaSchedule: schedule,
    stepsOffset: num('steps_offset', 0),
    setAlphaToOne: json['set_alpha_to_one'] === true,
  };
}

/**
 * ᾱ_t for t = 0..N-1. Reproduces torch's float32 arithmetic (float32 betas, cumulative product
 * accumulated in double and rounded to float32) so values equal diffusers' to about 1 ulp.
 */
export function alphasCumprod(cfg: DdimConfig): Float32Array {
  const n = cfg.numTrainTimesteps;
  const out = new Float32Array(n);
  const f = Math.fround;
  let acc = 1;
  for (let i = 0; i < n; i++) {
    let beta: number;
    if (cfg.betaSchedule === 'scaled_linear') {
      const s = Math.sqrt(cfg.betaStart);
      const e = Math.sqrt(cfg.betaEnd);
      const lin = f(s + ((e - s) / (n - 1)) * i);
      beta = f(lin * lin);
    } else {
      beta = f(cfg.betaStart + ((cfg.betaEnd - cfg.betaStart) / (n - 1)) * i);
    }
    acc *= f(1 - beta);
    out[i] = acc;
  }
  return out;
}

/** "leading" spacing: t_i = (numSteps-1-i)·⌊N/numSteps⌋ + stepsOffset, descending. */
export function ddimTimesteps(numSteps: number, cfg: DdimConfig = SD15_DDIM): number[] {
  if (!Number.isInteger(numSteps) || numSteps < 1 || numSteps > cfg.numTrainTimesteps) {
    throw new SchedulerError(`steps must be an integer in 1..${cfg.numTrainTimesteps}, got ${numSteps}`);
  }
  const ratio = Math.floor(cfg.numTrainTimesteps / numSteps);
  const ts: number[] = [];
  for (let i = numSteps - 1; i >= 0; i--) ts.push(i * ratio + cfg.stepsOffset);
  return ts;
}

/** The timesteps img2img runs at strength s: the last ⌊steps·s⌋ of the full schedule. */
export function img2imgTimesteps(numSteps: number, strength: number, cfg: DdimConfig = SD15_DDIM): number[] {
  if (!(strength >= 0 && strength <= 1)) throw new SchedulerError(`strength must be within [0, 1], got ${strength}`);
  const all = ddimTimesteps(numSteps, cfg);
  const init = Math.min(Math.floor(numSteps * strength), numSteps);
  return all.slice(numSteps - init);
}

export class DdimScheduler {
  readonly cfg: DdimConfig;
  readonly alphas: Float32Array;
  readonly numSteps: number;
  readonly timesteps: readonly number[];

  constructor(numSteps: number, cfg: DdimConfig = SD15_DDIM) {
    this.cfg = cfg;
    this.alphas = alphasCumprod(cfg);
    this.numSteps = numSteps;
    this.timesteps = ddimTimesteps(numSteps, cfg);
  }

  alphaAt(t: number): number {
    const a = this.alphas[t];
    if (a === undefined) throw new SchedulerError(`timestep ${t} outside 0..${this.alphas.length - 1}`);
    return a;
  }

  /** ᾱ of the step after t (t − N/steps); below 0 it is 1 or ᾱ[0] per setAlphaToOne. */
  alphaPrev(t: number): number {
    const prev = t - Math.floor(this.cfg.numTrainTimesteps / this.numSteps);
    if (prev >= 0) return this.alphaAt(prev);
    return this.cfg.setAlphaToOne ? 1 : this.alphas[0]!;
  }

  /** x_{t-1} = √ᾱ_prev·x̂0 + √(1−ᾱ_prev)·ε with x̂0 = (x_t − √(1−ᾱ_t)·ε)/√ᾱ_t (eta 0, epsilon prediction). */
  step(eps: Float32Array, t: number, sample: Float32Array): Float32Array {
    if (eps.length !== sample.length) throw new SchedulerError(`eps has ${eps.length} values, sample ${sample.length}`);
    const a = this.alphaAt(t);
    const ap = this.alphaPrev(t);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    const sap = Math.sqrt(ap);
    const sbp = Math.sqrt(1 - ap);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const e = eps[i]!;
      const x0 = (sample[i]! - sb * e) / sa;
      out[i] = sap * x0 + sbp * e;
    }
    return out;
  }

  /** Forward diffusion to timestep t: √ᾱ_t·x0 + √(1−ᾱ_t)·noise. */
  addNoise(x0: Float32Array, noise: Float32Array, t: number): Float32Array {
    if (x0.length !== noise.length) throw new SchedulerError(`x0 has ${x0.length} values, noise ${noise.length}`);
    const a = this.alphaAt(t);
    const s = Math.sqrt(a);
    const n = Math.sqrt(1 - a);
    const out = new Float32Array(x0.length);
    for (let i = 0; i < out.length; i++) out[i] = s * x0[i]! + n * noise[i]!;
    return out;
  }
}

/** ε = ε_uncond + scale·(ε_cond − ε_uncond). */
export function classifierFreeGuidance(uncond: Float32Array, cond: Float32Array, scale: number): Float32Array {
  if (uncond.length !== cond.length) throw new SchedulerError(`uncond has ${uncond.length} values, cond ${cond.length}`);
  const out = new Float32Array(cond.length);
  for (let i = 0; i < out.length; i++) out[i] = uncond[i]! + scale * (cond[i]! - uncond[i]!);
  return out;
}
