// Typed access to the native blending stage (native/src/blend) and the walk over one key-frame
// interval. Between key frames k < k', A is the sequence propagated forward from k and B the one
// propagated backward from k'; each frame t is blended with w = (t - k) / (k' - k).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodedError } from '../errors.ts';

export const BLEND_ERROR_CODES = ['ADDON_MISSING', 'INVALID_ARGUMENT', 'CANCELLED', 'NATIVE_FAILED'] as const;
export type BlendErrorCode = (typeof BLEND_ERROR_CODES)[number];

export class BlendError extends CodedError<BlendErrorCode> {}

export interface BlendOptions {
  /**
   * Largest target gradient per edge, in working-space units (Lab: L in 0..100). Default Infinity
   * (no clipping: a clip softens hard colour steps, e.g. yellow/blue jumps by over 100 in Lab b).
   */
  gradClip?: number;
  /**
   * Weight of the data term pulling toward the blend (one value, or one per L, a, b channel).
   * Default 0.1: detail follows the selected gradients, the data term sets the tone beyond ~3 px.
   */
  screening?: number | readonly number[];
  /** Space the blend and the fusion run in. Default 'lab'. */
  colorSpace?: 'lab' | 'rgb';
  /**
   * Data term of the fusion (the output itself without fusion): 'pick' (default), the selected
   * composite alone (no mixing of the two directions, so no ghosting; fusion only hides seams);
   * 'histogram', the histogram-preserving blend of A and B; 'alpha', plain (1-w)A + wB.
   */
  mix?: 'histogram' | 'alpha' | 'pick';
  /**
   * With mix 'pick': where neither side is clearly better (|ln(w*errA / ((1-w)*errB))| below this
   * band) the data term fades to an error-weighted mix of A and B. 0..100, default 0 (off: measured
   * +0.02..0.05 dB PSNR at 0.7..1.5, at the price of a faint ghost where it mixes).
   */
  mixBand?: number;
  /** Legacy form of `mix`: true is 'histogram', false 'alpha'. Give at most one of the two. */
  histogram?: boolean;
  /** Gradient fusion (true, default); false returns the data term itself. */
  poisson?: boolean;
  /**
   * How each frame's A/B mask is chosen. 'hysteresis' (default): B where w*errA > (1-w)*errB, but
   * a pixel carried from the previous frame leaves its side only where the other side's weighted
   * error is lower by the `hysteresis` margin. 'carry': the plain error rule, and once a pixel is B
   * it stays B. 'nearest': A while w <= 0.5, B after (EbSynth's two-key result). 'crossfade': the
   * output is plain (1-w)A + wB (no selection, no fusion; the mask reported is the nearest one).
   */
  selection?: 'carry' | 'hysteresis' | 'nearest' | 'crossfade';
  /** Relative margin of 'hysteresis', >= 0 (0: no hysteresis). Default 0.25. */
  hysteresis?: number;
  /** Radius (px, 0..64) of the box the weighted errors are averaged over before comparing. Default 0. */
  selectionRadius?: number;
  /**
   * Temporal de-flicker in [0, 1): how far each blended frame is pulled toward the previous output
   * warped along the flow, where their local colours agree (blendSequence only). Default 0.7; 0 is off.
   */
  deflicker?: number;
  /**
   * Local mean colour difference (RGB 0..255, 0.5..255) at which the pull has fallen to 60 %; beyond
   * ~3x it the frame is kept as is (moving edges, disocclusions). Default 8.
   */
  deflickerTolerance?: number;
}

export interface BlendFrameInput {
  /** Forward propagation from key k: RGB, width*height*3 bytes. */
  a: Uint8Array;
  /** Backward propagation from key k': RGB, width*height*3 bytes. */
  b: Uint8Array;
  /** Per-pixel synthesis error of A and B (finite), width*height values each. */
  errA: Float32Array;
  errB: Float32Array;
  /** (t - k) / (k' - k), in [0, 1]. */
  w: number;
  /** Previous frame's mask (0: A, 1: B); null at the first frame. */
  prevMask?: Uint8Array | null;
  /**
   * Backward flow t -> t-1: (dx, dy) per pixel of this frame pointing to where it was in the
   * previous one, width*height*2 values. null with a prevMask carries the mask unwarped.
   */
  flow?: Float32Array | null;
  /** Previous frame's output (RGB) for the de-flicker (carried along flow; without flow, unmoved). */
  prevOut?: Uint8Array | null;
  width: number;
  height: number;
  options?: BlendOptions;
}

export interface BlendFrameResult {
  /** Fused frame, RGB. */
  out: Uint8Array;
  /** 0 where A was chosen, 1 where B was; pass on as the next frame's prevMask. */
  mask: Uint8Array;
  /** Min-error selection (A or B per mask), RGB. */
  composite: Uint8Array;
}

export type SelectMaskInput = Pick<BlendFrameInput, 'errA' | 'errB' | 'w' | 'prevMask' | 'flow' | 'width' | 'height'> & {
  options?: Pick<BlendOptions, 'selection' | 'hysteresis' | 'selectionRadius'>;
};

export interface HistogramBlendInput {
  a: Uint8Array;
  b: Uint8Array;
  /** Whose per-channel mean and standard deviation the result takes (the min-error composite). */
  composite: Uint8Array;
  w: number;
  width: number;
  height: number;
  colorSpace?: 'lab' | 'rgb';
}

export interface HistogramBlendResult {
  out: Uint8Array;
  /** The blend before conversion to bytes: interleaved Lab (or RGB 0..255) floats. */
  working: Float32Array;
}

export interface PoissonFuseInput {
  /** Interleaved float image whose gradients are followed where mask is 0 (or everywhere). */
  a: Float32Array;
  /** Gradients followed where mask is 1; defaults to a. */
  b?: Float32Array | null;
  /** width*height bytes of 0/1; null: all a. */
  mask?: Uint8Array | null;
  /** What the data term pulls toward; also fixes the mean of the result. */
  target: Float32Array;
  width: number;
  height: number;
  /** 1..4, default 3. */
  channels?: number;
  gradClip?: number;
  screening?: number | readonly number[];
}

/** The functions native/src/blend registers on the addon's exports. */
interface NativeBlend {
  blendFrame(input: BlendFrameInput): Promise<BlendFrameResult>;
  selectMask(input: SelectMaskInput): Promise<Uint8Array>;
  histogramBlend(input: HistogramBlendInput): Promise<HistogramBlendResult>;
  poissonFuse(input: PoissonFuseInput): Promise<Float32Array>;
  rgbToLab(input: { rgb: Uint8Array; width: number; height: number }): Promise<Float32Array>;
  labToRgb(input: { lab: Float32Array; width: number; height: number }): Promise<Uint8Array>;
}

export type BlendAddon = NativeBlend;

const ADDON_RELATIVE = path.join('native', 'build', 'Release', 'rerender_native.node');

/**
 * Where the addon is expected: native/build/Release under the package root, found by walking up
 * from this module (it runs from src-main/ as TypeScript and from dist/src-main/ once compiled).
 */
export function defaultAddonPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, ADDON_RELATIVE);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return path.resolve(here, '..', '..', ADDON_RELATIVE);
}

const NATIVE_NAMES = ['blendFrame', 'selectMask', 'histogramBlend', 'poissonFuse', 'rgbToLab', 'labToRgb'] as const;

/** Native argument errors (TypeError/RangeError) become INVALID_ARGUMENT; anything else NATIVE_FAILED. */
function toBlendError(err: unknown): BlendError {
  if (err instanceof BlendError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code: BlendErrorCode = err instanceof TypeError || err instanceof RangeError ? 'INVALID_ARGUMENT' : 'NATIVE_FAILED';
  return new BlendError(code, message, { cause: err });
}

/**
 * Loads the compiled addon and returns its blend functions, each rejecting with a BlendError.
 * Throws ADDON_MISSING with the build command when the binary is absent or lacks the blend stage.
 */
export function loadBlendAddon(addonPath: string = defaultAddonPath()): BlendAddon {
  if (!existsSync(addonPath)) {
    throw new BlendError('ADDON_MISSING', `The native addon is not built (${addonPath} is missing). Build it with \`node scripts/build-native.js\`.`);
  }
  const require = createRequire(import.meta.url);
  let raw: Record<string, unknown>;
  try {
    raw = require(addonPath) as Record<string, unknown>;
  } catch (err) {
    throw new BlendError('ADDON_MISSING', `The native addon at ${addonPath} could not be loaded: ${(err as Error).message}. Rebuild it with \`node scripts/build-native.js\`.`, { cause: err });
  }
  for (const name of NATIVE_NAMES) {
    if (typeof raw[name] !== 'function') {
      throw new BlendError('ADDON_MISSING', `The native addon at ${addonPath} has no ${name}(); it was built without native/src/blend. Rebuild it with \`node scripts/build-native.js\`.`);
    }
  }
  const native = raw as unknown as NativeBlend;
  // Native validation throws synchronously; routing both paths through one async call gives
  // callers a single rejection shape.
  const wrap = <I, O>(fn: (input: I) => Promise<O>) => async (input: I): Promise<O> => {
    try {
      return await fn(input);
    } catch (err) {
      throw toBlendError(err);
    }
  };
  return {
    blendFrame: wrap((i: BlendFrameInput) => native.blendFrame(i)),
    selectMask: wrap((i: SelectMaskInput) => native.selectMask(i)),
    histogramBlend: wrap((i: HistogramBlendInput) => native.histogramBlend(i)),
    poissonFuse: wrap((i: PoissonFuseInput) => native.poissonFuse(i)),
    rgbToLab: wrap((i: { rgb: Uint8Array; width: number; height: number }) => native.rgbToLab(i)),
    labToRgb: wrap((i: { lab: Float32Array; width: number; height: number }) => native.labToRgb(i)),
  };
}

/** One frame's inputs for blendSequence. */
export interface SequenceFrame {
  a: Uint8Array;
  b: Uint8Array;
  errA: Float32Array;
  errB: Float32Array;
  /** Backward flow t -> t-1 (ignored at the interval's first frame). */
  flow: Float32Array | null;
}

export interface BlendSequenceParams {
  /** Key frame indices k < k'; frames k..k' inclusive are blended. */
  first: number;
  last: number;
  width: number;
  height: number;
  loadFrame(t: number): Promise<SequenceFrame>;
  /** Receives each result in order; persist result.mask to be able to resume. */
  saveFrame(t: number, result: BlendFrameResult): Promise<void>;
  options?: BlendOptions;
  signal?: AbortSignal;
  onProgress?(p: { done: number; total: number }): void;
  /**
   * Continue at frame `from` (first < from <= last), given the mask saved for frame from-1 and,
   * for an identical de-flicker, its output (without it the frame `from` is not de-flickered).
   */
  resume?: { from: number; prevMask: Uint8Array; prevOut?: Uint8Array };
}

const ENUMS: Record<string, readonly string[]> = {
  colorSpace: ['lab', 'rgb'],
  mix: ['histogram', 'alpha', 'pick'],
  selection: ['carry', 'hysteresis', 'nearest', 'crossfade'],
};
const RANGES: Record<string, { lo: number; hi: number; hiOpen?: boolean; integer?: boolean }> = {
  hysteresis: { lo: 0, hi: 100 },
  mixBand: { lo: 0, hi: 100 },
  selectionRadius: { lo: 0, hi: 64, integer: true },
  deflicker: { lo: 0, hi: 1, hiOpen: true },
  deflickerTolerance: { lo: 0.5, hi: 255 },
};

/**
 * Checks the options blendFrame checks, so a bad value fails before any synthesis is spent
 * (the native side stays the authority). Throws INVALID_ARGUMENT naming the option.
 */
export function validateBlendOptions(o: unknown): void {
  const bad = (msg: string) => new BlendError('INVALID_ARGUMENT', `blend options: ${msg}`);
  if (o === undefined || o === null) return;
  if (typeof o !== 'object' || Array.isArray(o)) throw bad('must be an object');
  const opts = o as Record<string, unknown>;
  for (const [key, allowed] of Object.entries(ENUMS)) {
    const v = opts[key];
    if (v !== undefined && !allowed.includes(v as string)) throw bad(`${key} must be one of ${allowed.join(', ')}, got ${String(v)}`);
  }
  for (const [key, r] of Object.entries(RANGES)) {
    const v = opts[key];
    if (v === undefined) continue;
    const ok = typeof v === 'number' && Number.isFinite(v) && v >= r.lo && (r.hiOpen ? v < r.hi : v <= r.hi) && (!r.integer || Number.isInteger(v));
    if (!ok) throw bad(`${key} must be ${r.integer ? 'an integer' : 'a number'} in [${r.lo}, ${r.hi}${r.hiOpen ? ')' : ']'}, got ${String(v)}`);
  }
  for (const key of ['histogram', 'poisson']) {
    if (opts[key] !== undefined && typeof opts[key] !== 'boolean') throw bad(`${key} must be a boolean`);
  }
  if (opts.mix !== undefined && opts.histogram !== undefined) throw bad('give mix or histogram, not both');
  const clip = opts.gradClip;
  if (clip !== undefined && !(typeof clip === 'number' && clip > 0)) throw bad(`gradClip must be > 0, got ${String(clip)}`);
  const scr = opts.screening;
  if (scr !== undefined) {
    const values = typeof scr === 'number' ? [scr] : Array.isArray(scr) ? (scr as unknown[]) : null;
    if (!values || (values.length !== 1 && values.length !== 3) || !values.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
      throw bad('screening must be a finite number >= 0, or 1 or 3 of them');
    }
  }
}

function checkInterval(p: BlendSequenceParams): number {
  validateBlendOptions(p.options);
  if (!Number.isInteger(p.first) || !Number.isInteger(p.last) || p.first < 0 || p.first >= p.last) {
    throw new BlendError('INVALID_ARGUMENT', `blendSequence needs key frames first < last (non-negative integers), got ${p.first}..${p.last}.`);
  }
  if (p.resume) {
    const { from, prevMask } = p.resume;
    if (!Number.isInteger(from) || from <= p.first || from > p.last) {
      throw new BlendError('INVALID_ARGUMENT', `blendSequence can resume only inside ${p.first + 1}..${p.last}, got ${from}.`);
    }
    if (prevMask.length !== p.width * p.height) {
      throw new BlendError('INVALID_ARGUMENT', `blendSequence resume mask must hold ${p.width * p.height} bytes, got ${prevMask.length}.`);
    }
    const prevOut = p.resume.prevOut;
    if (prevOut && prevOut.length !== p.width * p.height * 3) {
      throw new BlendError('INVALID_ARGUMENT', `blendSequence resume output must hold ${p.width * p.height * 3} bytes, got ${prevOut.length}.`);
    }
    return from;
  }
  return p.first;
}

/**
 * Blends frames first..last in order, carrying the selection mask from frame to frame (how it is
 * used depends on options.selection) and, with options.deflicker, the previous output. Reads only
 * frames up to t when producing t. Checks the signal between frames; returns the last mask.
 */
export async function blendSequence(addon: BlendAddon, p: BlendSequenceParams): Promise<Uint8Array> {
  const start = checkInterval(p);
  const total = p.last - p.first + 1;
  let prevMask: Uint8Array | null = p.resume?.prevMask ?? null;
  let prevOut: Uint8Array | null = p.resume?.prevOut ?? null;
  const cancelled = () => new BlendError('CANCELLED', `Blending frames ${p.first}..${p.last} was cancelled.`, { cause: p.signal?.reason });
  for (let t = start; t <= p.last; t++) {
    if (p.signal?.aborted) throw cancelled();
    const frame = await p.loadFrame(t);
    if (p.signal?.aborted) throw cancelled();
    const result = await addon.blendFrame({
      ...frame,
      flow: prevMask ? frame.flow : null,
      w: (t - p.first) / (p.last - p.first),
      prevMask,
      // The last key frame is the given key itself: never pulled toward the history.
      prevOut: t < p.last ? prevOut : null,
      width: p.width,
      height: p.height,
      ...(p.options ? { options: p.options } : {}),
    });
    await p.saveFrame(t, result);
    prevMask = result.mask;
    prevOut = result.out;
    p.onProgress?.({ done: t - p.first + 1, total });
  }
  // The interval holds at least one frame, so prevMask is set; the fallback only satisfies types.
  return prevMask ?? new Uint8Array(p.width * p.height);
}
