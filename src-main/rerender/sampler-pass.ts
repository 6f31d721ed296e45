// One sampler pass of a key frame with Rerender's per-step hooks on the diffusion pipeline:
// cross-frame attention (keep / attend to kept contexts), shape-aware warp and AdaIN on x̂0, the pixel-aware
// pull of pass B, and a painted mask's source blending.
import type { ControlInput, DenoiseRequest, FreeUFactors, HeldStats, StepInfo, StepOverride, Tensor, TextEmbeddings } from '../engine/pipeline/index.ts';
import type { DdimScheduler } from '../engine/scheduler/ddim.ts';
import type { RerenderConfig } from './config.ts';
import { inMaskPeriod, inPeriod, startStep } from './config.ts';
import type { ContextStore } from './context-store.ts';
import type { FusionTarget } from './fusion.ts';
import { applyShapeWarp } from './fusion.ts';
import type { Planes } from './image-ops.ts';
import { adain } from './image-ops.ts';
import type { RerenderNoise } from './noise.ts';

/** What translation needs of the pipeline (StableDiffusionPipeline satisfies it). */
export interface RerenderPipeline {
  encodePrompt(opts: { prompt: string; negative?: string }, signal?: AbortSignal): Promise<TextEmbeddings>;
  encodeImage(image: Tensor, opts?: { mode?: 'mean' | 'sample'; seed?: number; signal?: AbortSignal }): Promise<Float32Array>;
  decodeLatents(latents: Float32Array, width: number, height: number, signal?: AbortSignal): Promise<Tensor>;
  denoise(req: DenoiseRequest): Promise<Float32Array>;
  scheduler(steps: number): DdimScheduler;
  noise(seed: number, width: number, height: number): Float32Array;
  crossFrameLayers(): Promise<string[]>;
  /** Releases contexts kept under these keys (AttentionControl.keep). */
  dropContexts(keys: readonly string[]): Promise<unknown>;
  /** Memory of kept contexts (peak since `resetPeak`). */
  contextMemory(opts?: { resetPeak?: boolean }): Promise<HeldStats>;
  /** FreeU factors compiled into the UNet; absent or null: off. */
  readonly freeu?: FreeUFactors | null;
  /** Element type of the attention contexts compiled into the UNet. */
  readonly contextType: 'float16' | 'float32';
  /** The type it was loaded with, where the device made it keep another (float32 on a GPU without fp16). */
  readonly contextTypeAsked?: 'float16' | 'float32';
}

export interface PassSetup {
  pipeline: RerenderPipeline;
  config: RerenderConfig;
  text: TextEmbeddings;
  width: number;
  height: number;
  noise: RerenderNoise;
  store: ContextStore;
  signal?: AbortSignal;
  onStepDone?: () => void;
}

/**
 * A key frame's control: the map of the pipeline's one ControlNet, or one input per ControlNet.
 * A lone map, and a list's first input without a scale, take config.controlScale; the list's
 * others without one take their ControlNetSpec's.
 */
export type KeyframeControl = Tensor | readonly ControlInput[] | null;

/** What denoise gets for `control` (see KeyframeControl). */
function controlInputs(control: KeyframeControl, scale: number): ControlInput | readonly ControlInput[] | null {
  if (control === null) return null;
  if (!Array.isArray(control)) return { image: control as Tensor, scale };
  return (control as readonly ControlInput[]).map((c, i) => (i === 0 && c.scale === undefined ? { ...c, scale } : c));
}

export interface PassInput {
  role: 'anchor' | 'later';
  /** E(source frame) in UNet space. */
  source: Float32Array;
  control: KeyframeControl;
  /** Shape-aware fusion (later key frames with it on). */
  warp?: { flow: Planes; mask: Planes } | null;
  /** Pass B's pull target. */
  target?: FusionTarget | null;
  /** Refresh the "previous" context store with this pass's own contexts. */
  updateStyle?: boolean;
  /** Painted mask at latent size ([h·w], 1 = translate): outside it the noised source is kept. */
  paint?: Float32Array | null;
}

/** Runs one pass; returns the final latents. */
export async function runPass(s: PassSetup, p: PassInput): Promise<Float32Array> {
  const cfg = s.config;
  const steps = cfg.steps;
  const sched = s.pipeline.scheduler(steps);
  const ts = sched.timesteps;
  const { start, fromSource } = startStep(cfg);
  const lw = s.width / 8;
  const lh = s.height / 8;
  const hw = lw * lh;
  const shape = (data: Float32Array): Planes => ({ data, channels: 4, width: lw, height: lh });

  let latents = fromSource ? sched.addNoise(p.source, s.noise.x0, ts[start]!) : Float32Array.from(s.noise.xT);
  if (p.target && inMaskPeriod(start, steps, cfg.pixelFusion.period)) latents = pull(latents, new Float32Array(latents.length), start);
  if (p.paint) latents = keepSource(latents, ts[start]!);

  function pull(x: Float32Array, dir: Float32Array, i: number): Float32Array {
    const t = p.target!;
    const a = sched.alphaAt(ts[i]!);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    const noise = s.noise.step(i);
    const out = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const q = k % hw;
      const w = t.mask.data[q]! * cfg.pixelFusion.strength;
      const nr = t.noiseRescale.data[q]!;
      let rescale = Math.max(1 - w, Math.sqrt(1 - w * w) * cfg.pixelFusion.innerStrength);
      rescale = (1 - w) * (1 - nr) + rescale * nr;
      const ref = sa * t.xtrg[k]! + sb * noise[k]!;
      out[k] = ref * w + (1 - w) * (x[k]! - dir[k]!) + rescale * dir[k]!;
    }
    return out;
  }

  function keepSource(x: Float32Array, t: number, alpha?: number): Float32Array {
    const a = alpha ?? sched.alphaAt(t);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    const out = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const m = p.paint![k % hw]!;
      out[k] = m * x[k]! + (1 - m) * (sa * p.source[k]! + sb * s.noise.x0[k]!);
    }
    return out;
  }

  const cross = cfg.crossFrame;
  // The anchor's contexts, and a style-updating frame's, are kept in the inference worker.
  const records = cross.enabled && (p.role === 'anchor' || p.updateStyle === true);
  const pass = records ? s.store.newPass() : '';
  const onStep = async (info: StepInfo): Promise<StepOverride> => {
    const i = info.step;
    if (records) {
      const key = s.store.key(pass, i);
      if (p.role === 'anchor') s.store.setAnchorContexts(i, key);
      else await s.store.setPreviousContexts(i, key);
    }
    let x0 = info.x0;
    if (p.role === 'anchor') {
      s.store.setAnchorX0(i, x0, 4, lw, lh);
    } else {
      if (cfg.adain.enabled && inPeriod(i, steps, cfg.adain.period)) x0 = adain(shape(x0), s.store.stats(i));
      if (p.warp && inPeriod(i, steps, cfg.shapeFusion.period)) x0 = applyShapeWarp(shape(x0), shape(s.store.x0(i)), p.warp);
    }
    let next = info.update(x0);
    const after = i + 1;
    if (p.target && after < steps && inMaskPeriod(after, steps, cfg.pixelFusion.period)) {
      const sbp = Math.sqrt(1 - sched.alphaPrev(info.t));
      const dir = new Float32Array(info.eps.length);
      for (let k = 0; k < dir.length; k++) dir[k] = sbp * info.eps[k]!;
      next = pull(next, dir, after);
    }
    if (p.paint) next = keepSource(next, info.tPrev, sched.alphaPrev(info.t));
    s.onStepDone?.();
    return { latents: next };
  };

  return s.pipeline.denoise({
    text: s.text,
    latents,
    width: s.width,
    height: s.height,
    steps,
    timesteps: ts.slice(start),
    guidance: cfg.guidance,
    control: controlInputs(p.control, cfg.controlScale),
    attention: (pos) => {
      if (!cross.enabled) return null;
      const sources = p.role === 'later' && inPeriod(pos.step, steps, cross.period) ? s.store.sources(pos.step) : null;
      return { sources, ...(records ? { keep: s.store.key(pass, pos.step) } : {}) };
    },
    onStep,
    ...(s.signal ? { signal: s.signal } : {}),
  });
}
