// Propagation settings: the Rerender recipe as defaults, every value overridable and checked.
import { BACKENDS, FLOW_METHODS, MEASURED_DEFAULTS } from './choices.ts';
import type { BackendSetting } from './choices.ts';
import { validateBlendOptions } from './blend.ts';
import type { BlendOptions } from './blend.ts';
import type { FlowMethod, SynthOptions } from './native.ts';

export interface GuideWeights {
  /** The input frame itself. */
  colour: number;
  /** 3x3 Laplacian of the input frame. */
  edge: number;
  /** Previous output warped by the flow, occlusions filled. */
  temporal: number;
  /** Coordinate map advected by the flow. */
  positional: number;
  /** The key frame's style term. */
  style: number;
}

export interface PropagateSettings {
  weights: GuideWeights;
  patchSize: number;
  uniformityWeight: number;
  searchVoteIters: number;
  patchMatchIters: number;
  /** 0: automatic. */
  pyramidLevels: number;
  /** Pixels whose vote moved less than this (0..255) skip the next search; 0 searches every pixel. */
  stopThreshold: number;
  /** EbSynth's rule: pixels within a patch radius of a still-moving pixel keep searching too. */
  stopDilate: boolean;
  /** A pyramid level stops once an iteration improves the mean patch error by less than this fraction; 0: run every iteration. */
  convergence: number;
  /** 'plain': EbSynth's average of the covering patches; 'weighted': each counts 1 / (1 + its error). */
  voteMode: VoteMode;
  extraPass3x3: boolean;
  seed: number;
  /** 0: one per core. Output does not depend on it. */
  threads: number;
  /** Start each frame's search from the previous frame's field carried by the flow. */
  temporalInit: boolean;
  /** Pyramid levels used when temporalInit starts from a carried field. */
  temporalInitLevels: number;
  flowMethod: FlowMethod;
  /** Feather radius (pixels) of painted key-frame masks. */
  maskFeather: number;
  blend: BlendOptions;
  /** Where synthesis runs; 'auto': a hardware GPU through WebGPU, else the CPU. */
  backend: BackendSetting;
  /** With synthesis on WebGPU, blend there too (blend options it does not cover go to the CPU, with a note); false: always the CPU blend. */
  gpuBlend: boolean;
  /** With synthesis on WebGPU, build each frame's guides there too, keeping a direction on the device; false: the CPU builds them. */
  gpuGuides: boolean;
  /** WebGPU synthesis: recount style-patch usage for the uniformity term before every parallel PatchMatch pass, or once per search-vote iteration. */
  gpuOccupancy: 'pass' | 'iteration';
}

export type VoteMode = 'weighted' | 'plain';

export type PropagateOptions = Partial<Omit<PropagateSettings, 'weights'>> & { weights?: Partial<GuideWeights> };

export const DEFAULT_SETTINGS: PropagateSettings = {
  weights: { colour: 6, edge: 0.5, temporal: 0.5, positional: 2, style: 1 },
  patchSize: 5,
  uniformityWeight: 3500,
  searchVoteIters: MEASURED_DEFAULTS.searchVoteIters,
  // With EbSynth's dilated stop mask, the 0.2 % convergence stop and plain voting, one PatchMatch
  // pass per search-vote iteration beats the old 6 undilated weighted passes on the ground-truth
  // bench (--quick, paint + ink: 33.90 vs 33.71 dB) at ~0.28x the synthesis CPU time; 2 passes
  // add ~0.15 dB at ~1.5x the time of 1. One pass keeps a 512x512 interior frame near 1 s on 2 cores.
  patchMatchIters: MEASURED_DEFAULTS.patchMatchIters,
  pyramidLevels: 0,
  stopThreshold: 5,
  stopDilate: true,
  convergence: 0.002,
  // Ground-truth bench (Megamind, paint + ink): plain averaging beats the 1 / (1 + err) weighting
  // by 0.04-0.11 dB PSNR with slightly steadier output, at any pass count.
  voteMode: 'plain',
  extraPass3x3: false,
  seed: 1,
  threads: 0,
  // Ground-truth bench (megamind, vtest, megamind-x3; paint, ink; 20 frames): dis-fine flow
  // +0.08 dB PSNR over dis-medium; the carried field keeps quality and saves ~15 % of synthesis.
  temporalInit: MEASURED_DEFAULTS.temporalInit,
  temporalInitLevels: 2,
  flowMethod: MEASURED_DEFAULTS.flowMethod,
  maskFeather: 8,
  blend: {},
  backend: MEASURED_DEFAULTS.backend,
  gpuBlend: true,
  gpuGuides: true,
  // Ground-truth bench through WebGPU (megamind, vtest, megamind-x3; paint, ink; 8 frames): one
  // recount per search-vote iteration scores 31.520 dB at 96x64 against 31.515 per Jacobi pass
  // (30.948 vs 30.939 at 192x128 before the GPU kept the stop rules), the same warp error, with
  // half the dispatches of an iteration (9 instead of 18).
  gpuOccupancy: 'iteration',
};


function checkNumber(name: string, v: number, lo: number, hi: number, integer = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new RangeError(`${name} must be ${integer ? 'an integer' : 'a finite number'} in [${lo}, ${hi}], got ${String(v)}`);
  }
}

/** Defaults merged with `o`; throws TypeError/RangeError naming the first bad value. */
export function resolveSettings(o: PropagateOptions = {}): PropagateSettings {
  if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
  const s: PropagateSettings = { ...DEFAULT_SETTINGS, ...o, weights: { ...DEFAULT_SETTINGS.weights, ...(o.weights ?? {}) }, blend: o.blend ?? {} };
  for (const [k, v] of Object.entries(s.weights)) checkNumber(`weights.${k}`, v, 0, 1e6);
  checkNumber('patchSize', s.patchSize, 3, 15, true);
  if (s.patchSize % 2 === 0) throw new RangeError(`patchSize must be odd, got ${s.patchSize}`);
  checkNumber('uniformityWeight', s.uniformityWeight, 0, 1e9);
  checkNumber('searchVoteIters', s.searchVoteIters, 1, 1000, true);
  checkNumber('patchMatchIters', s.patchMatchIters, 0, 1000, true);
  checkNumber('pyramidLevels', s.pyramidLevels, 0, 16, true);
  checkNumber('stopThreshold', s.stopThreshold, 0, 255);
  checkNumber('convergence', s.convergence, 0, 1);
  if (typeof s.stopDilate !== 'boolean') throw new TypeError('stopDilate must be a boolean');
  if (s.voteMode !== 'weighted' && s.voteMode !== 'plain') throw new RangeError(`voteMode must be 'weighted' or 'plain', got ${String(s.voteMode)}`);
  checkNumber('seed', s.seed, 0, 2 ** 32 - 1, true);
  checkNumber('threads', s.threads, 0, 256, true);
  checkNumber('temporalInitLevels', s.temporalInitLevels, 1, 16, true);
  checkNumber('maskFeather', s.maskFeather, 0, 256);
  if (typeof s.extraPass3x3 !== 'boolean') throw new TypeError('extraPass3x3 must be a boolean');
  if (typeof s.temporalInit !== 'boolean') throw new TypeError('temporalInit must be a boolean');
  if (typeof s.gpuBlend !== 'boolean') throw new TypeError('gpuBlend must be a boolean');
  if (typeof s.gpuGuides !== 'boolean') throw new TypeError('gpuGuides must be a boolean');
  if (s.gpuOccupancy !== 'pass' && s.gpuOccupancy !== 'iteration') throw new RangeError(`gpuOccupancy must be 'pass' or 'iteration', got ${String(s.gpuOccupancy)}`);
  if (!(FLOW_METHODS as readonly string[]).includes(s.flowMethod)) throw new RangeError(`flowMethod must be one of ${FLOW_METHODS.join(', ')}, got ${String(s.flowMethod)}`);
  if (!(BACKENDS as readonly string[]).includes(s.backend)) throw new RangeError(`backend must be one of ${BACKENDS.join(', ')}, got ${String(s.backend)}`);
  // Checked here too, so a bad blend option fails before any synthesis, not at the first blend.
  validateBlendOptions(s.blend);
  return s;
}

/** One frame's synthesis options (the CPU and GPU directions alike); `carried`: it starts from the previous frame's field. */
export function synthOptions(s: PropagateSettings, width: number, height: number, carried: boolean): SynthOptions {
  return {
    patchSize: s.patchSize,
    searchVoteIters: s.searchVoteIters,
    patchMatchIters: s.patchMatchIters,
    uniformityWeight: s.uniformityWeight,
    styleWeight: s.weights.style,
    stopThreshold: s.stopThreshold,
    stopDilate: s.stopDilate,
    convergence: s.convergence,
    voteMode: s.voteMode,
    extraPass3x3: s.extraPass3x3,
    seed: s.seed,
    occupancyRefresh: s.gpuOccupancy,
    threads: s.threads,
    width,
    height,
    pyramidLevels: carried ? s.temporalInitLevels : s.pyramidLevels,
  };
}
