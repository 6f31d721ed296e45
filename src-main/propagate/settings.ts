// Propagation settings: the Rerender recipe as defaults, every value overridable and checked.
import type { BlendOptions } from './blend.ts';
import type { FlowMethod } from './native.ts';

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
  stopThreshold: number;
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
}

export type PropagateOptions = Partial<Omit<PropagateSettings, 'weights'>> & { weights?: Partial<GuideWeights> };

export const DEFAULT_SETTINGS: PropagateSettings = {
  weights: { colour: 6, edge: 0.5, temporal: 0.5, positional: 2, style: 1 },
  patchSize: 5,
  uniformityWeight: 3500,
  searchVoteIters: 12,
  patchMatchIters: 6,
  pyramidLevels: 0,
  stopThreshold: 5,
  extraPass3x3: false,
  seed: 1,
  threads: 0,
  temporalInit: false,
  temporalInitLevels: 2,
  flowMethod: 'dis-medium',
  maskFeather: 8,
  blend: {},
};

const FLOW_METHODS: readonly FlowMethod[] = ['dis-ultrafast', 'dis-fast', 'dis-medium', 'farneback'];

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
  checkNumber('seed', s.seed, 0, 2 ** 32 - 1, true);
  checkNumber('threads', s.threads, 0, 256, true);
  checkNumber('temporalInitLevels', s.temporalInitLevels, 1, 16, true);
  checkNumber('maskFeather', s.maskFeather, 0, 256);
  if (typeof s.extraPass3x3 !== 'boolean') throw new TypeError('extraPass3x3 must be a boolean');
  if (typeof s.temporalInit !== 'boolean') throw new TypeError('temporalInit must be a boolean');
  if (!FLOW_METHODS.includes(s.flowMethod)) throw new RangeError(`flowMethod must be one of ${FLOW_METHODS.join(', ')}, got ${String(s.flowMethod)}`);
  return s;
}
