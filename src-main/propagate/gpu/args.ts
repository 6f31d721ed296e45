// Argument checks for the GPU synthesizer, mirroring the native addon's (native/src/synth/synth_napi.cc):
// the same defaults, ranges and error classes (TypeError / RangeError), so callers can swap backends.
import type { GuideInput, Image, SynthOptions } from '../native.ts';

const MAX_SIDE = 16384;
const MAX_CHANNELS = 8;
const MAX_GUIDES = 16;

/** An image's size and channel count. */
export interface ImageShape {
  width: number;
  height: number;
  channels: number;
}

/** An image as the kernels take it: interleaved floats on the 0..255 scale. */
export interface PlainImage extends ImageShape {
  data: Float32Array;
}

/** One call's settings and image shapes; the pixels travel apart (SynthUpload, or buffers already on the GPU). */
export interface SynthPlan {
  style: ImageShape;
  /** Style pixels were floats (0..1): the result is floats too. */
  styleIsFloat: boolean;
  guides: { source: ImageShape; target: ImageShape; weight: number }[];
  targetWidth: number;
  targetHeight: number;
  patchSize: number;
  levels: number;
  searchVoteIters: number;
  patchMatchIters: number;
  uniformityWeight: number;
  styleWeight: number;
  extraPass3x3: boolean;
  stopThreshold: number;
  /** EbSynth's rule: pixels within a patch radius of a still-moving pixel keep searching too. */
  stopDilate: boolean;
  /** A level stops once an iteration improves the mean patch error by less than this fraction; 0: never. */
  convergence: number;
  weightedVote: boolean;
  seed: number;
  initNnf: Int32Array | null;
  /** Recount patch usage before every Jacobi pass, or once per search-vote iteration. */
  occupancyRefresh: 'pass' | 'iteration';
}

/** The pixels of a host call, converted for upload: the style, then each guide's source and target. */
export interface SynthUpload {
  style: Float32Array;
  guides: { source: Float32Array; target: Float32Array }[];
}

function dim(o: Record<string, unknown>, key: string, what: string, lo: number, hi: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what}.${key} must be an integer`);
  if (v < lo || v > hi) throw new RangeError(`${what}.${key} must be in [${lo}, ${hi}], got ${v}`);
  return v;
}

function parseShape(v: unknown, what: string): ImageShape {
  if (typeof v !== 'object' || v === null) throw new TypeError(`${what} must be an image object {data, width, height, channels}`);
  const o = v as Record<string, unknown>;
  return { width: dim(o, 'width', what, 1, MAX_SIDE), height: dim(o, 'height', what, 1, MAX_SIDE), channels: dim(o, 'channels', what, 1, MAX_CHANNELS) };
}

export function parseImage(v: unknown, what: string): { image: PlainImage; isFloat: boolean } {
  const { width, height, channels } = parseShape(v, what);
  const d = (v as Record<string, unknown>).data;
  const n = width * height * channels;
  if (!(d instanceof Uint8Array || d instanceof Uint8ClampedArray || d instanceof Float32Array)) {
    throw new TypeError(`${what}.data must be a Uint8Array or Float32Array`);
  }
  if (d.length !== n) throw new RangeError(`${what}.data has ${d.length} elements, expected width*height*channels = ${n}`);
  const data = new Float32Array(n);
  if (d instanceof Float32Array) {
    for (let i = 0; i < n; i++) {
      const f = d[i] as number;
      if (!Number.isFinite(f)) throw new RangeError(`${what}.data contains a non-finite value at index ${i}`);
      data[i] = f * 255;
    }
  } else {
    data.set(d);
  }
  return { image: { data, width, height, channels }, isFloat: d instanceof Float32Array };
}

function optNumber(o: SynthOptions, key: keyof SynthOptions, def: number, lo: number, hi: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number') throw new TypeError(`option ${key} must be a number`);
  if (!Number.isFinite(v) || v < lo || v > hi) throw new RangeError(`option ${key} must be finite and in [${lo}, ${hi}], got ${v}`);
  return v;
}

function optInt(o: SynthOptions, key: keyof SynthOptions, def: number, lo: number, hi: number): number {
  const v = optNumber(o, key, def, lo, hi);
  if (!Number.isInteger(v)) throw new RangeError(`option ${key} must be an integer`);
  return v;
}

/** A guide whose images are already on the GPU: only its shapes and weight are checked here. */
export interface GuideShapes {
  source: ImageShape;
  target: ImageShape;
  weight: number;
}

/** Checks one call's shapes, weights and options (the same rules as the native addon) into a plan. */
function planFor(style: ImageShape, styleIsFloat: boolean, guides: readonly unknown[], options: SynthOptions | undefined,
  shape: (v: unknown, what: string) => ImageShape): SynthPlan {
  if (guides.length > MAX_GUIDES) throw new RangeError(`at most ${MAX_GUIDES} guides are supported`);
  if (options !== undefined && options !== null && typeof options !== 'object') throw new TypeError('options must be an object');
  const opt: SynthOptions = options ?? {};
  let targetWidth = style.width, targetHeight = style.height;
  const parsed: SynthPlan['guides'] = [];
  guides.forEach((g: unknown, i) => {
    const name = `guides[${i}]`;
    if (typeof g !== 'object' || g === null) throw new TypeError(`${name} must be an object {source, target, weight}`);
    const gi = g as Record<string, unknown>;
    const source = shape(gi.source, `${name}.source`);
    const target = shape(gi.target, `${name}.target`);
    const w = gi.weight;
    if (typeof w !== 'number') throw new TypeError(`${name}.weight must be a number`);
    if (!Number.isFinite(w) || w < 0) throw new RangeError(`${name}.weight must be finite and >= 0, got ${w}`);
    if (source.width !== style.width || source.height !== style.height) {
      throw new RangeError(`${name}.source is ${source.width}x${source.height} but the style image is ${style.width}x${style.height}`);
    }
    if (target.channels !== source.channels) throw new RangeError(`${name}: source and target channel counts differ`);
    if (i === 0) {
      targetWidth = target.width;
      targetHeight = target.height;
    } else if (target.width !== targetWidth || target.height !== targetHeight) {
      throw new RangeError(`${name}.target size differs from guides[0].target`);
    }
    parsed.push({ source, target, weight: w });
  });
  if (parsed.length === 0) {
    targetWidth = optInt(opt, 'width', style.width, 1, MAX_SIDE);
    targetHeight = optInt(opt, 'height', style.height, 1, MAX_SIDE);
  }
  const patchSize = optInt(opt, 'patchSize', 5, 3, 15);
  if (patchSize % 2 === 0) throw new RangeError('option patchSize must be odd');
  const levels = optInt(opt, 'pyramidLevels', 0, 0, 16);
  const searchVoteIters = optInt(opt, 'searchVoteIters', 12, 1, 1000);
  const patchMatchIters = optInt(opt, 'patchMatchIters', 6, 0, 1000);
  const uniformityWeight = Math.fround(optNumber(opt, 'uniformityWeight', 3500, 0, 1e9));
  const styleWeight = Math.fround(optNumber(opt, 'styleWeight', 1, 0, 1e6));
  const extra = opt.extraPass3x3;
  if (extra !== undefined && typeof extra !== 'boolean') throw new TypeError('option extraPass3x3 must be a boolean');
  const stopThreshold = Math.fround(optNumber(opt, 'stopThreshold', 5, 0, 255));
  const dilate = opt.stopDilate;
  if (dilate !== undefined && typeof dilate !== 'boolean') throw new TypeError('option stopDilate must be a boolean');
  const convergence = Math.fround(optNumber(opt, 'convergence', 0, 0, 1));
  const seed = optNumber(opt, 'seed', 1, 0, 4294967295) >>> 0;
  optInt(opt, 'threads', 0, 0, 256);
  const vm = opt.voteMode;
  if (vm !== undefined && vm !== 'weighted' && vm !== 'plain') throw new TypeError("option voteMode must be 'weighted' or 'plain'");
  const occ = opt.occupancyRefresh;
  if (occ !== undefined && occ !== 'pass' && occ !== 'iteration') throw new TypeError("option occupancyRefresh must be 'pass' or 'iteration'");
  const minSide = Math.min(style.width, style.height, targetWidth, targetHeight);
  if (minSide < patchSize) throw new RangeError(`images must be at least patchSize (${patchSize}) pixels on each side`);
  let initNnf: Int32Array | null = null;
  const iv = opt.initNnf as unknown;
  if (iv !== undefined && iv !== null) {
    if (!(iv instanceof Int32Array)) throw new TypeError('option initNnf must be an Int32Array');
    const n = targetWidth * targetHeight * 2;
    if (iv.length !== n) throw new RangeError(`option initNnf must hold width*height*2 = ${n} values`);
    initNnf = iv;
  }
  return {
    style, styleIsFloat, guides: parsed, targetWidth, targetHeight, patchSize, levels,
    searchVoteIters, patchMatchIters, uniformityWeight, styleWeight, extraPass3x3: extra === true, stopThreshold,
    stopDilate: dilate === true, convergence, weightedVote: vm !== 'plain', seed, initNnf, occupancyRefresh: occ ?? 'pass',
  };
}

/** Validates and normalises one synthesize() call; throws TypeError / RangeError like the addon. */
export function parseSynthArgs(style: Image, guides: GuideInput[], options: SynthOptions | undefined): { plan: SynthPlan; upload: SynthUpload } {
  const s = parseImage(style, 'style');
  if (!Array.isArray(guides)) throw new TypeError('guides must be an array of {source, target, weight}');
  const pixels = new Map<unknown, Float32Array>();
  const image = (v: unknown, what: string): ImageShape => {
    const { image: img } = parseImage(v, what);
    pixels.set(v, img.data);
    return img;
  };
  const plan = planFor(s.image, s.isFloat, guides, options, image);
  const upload: SynthUpload = {
    style: s.image.data,
    guides: (guides as unknown as { source: unknown; target: unknown }[]).map((g) => ({ source: pixels.get(g.source) as Float32Array, target: pixels.get(g.target) as Float32Array })),
  };
  return { plan, upload };
}

/** As parseSynthArgs for images already on the GPU, in 0..255 floats: shapes and options only. */
export function planOnDevice(style: ImageShape, guides: readonly GuideShapes[], options: SynthOptions | undefined): SynthPlan {
  const shape = (v: unknown, what: string) => parseShape(v, what);
  return planFor(shape(style, 'style'), false, guides, options, shape);
}

/** Size of a pyramid level: ceil(side / 2^level), at least 1 (as native/src/synth/pyramid.cc). */
export function levelSide(side: number, level: number): number {
  return Math.max(1, (side + (1 << level) - 1) >> level);
}

/** Levels such that the coarsest level's short side stays >= 2 * patch (at least 1). */
export function autoLevels(minSide: number, patchSize: number): number {
  let levels = 1;
  while (levelSide(minSide, levels) >= 2 * patchSize && levels < 16) levels++;
  return levels;
}
