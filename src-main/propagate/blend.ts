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
  /** Largest target gradient per edge, in working-space units (Lab: L in 0..100). Default 100. */
  gradClip?: number;
  /**
   * Weight of the data term pulling toward the blend (one value, or one per L, a, b channel).
   * Default 0.1: detail follows the selected gradients, the blend sets the tone beyond ~3 px.
   */
  screening?: number | readonly number[];
  /** Space the blend and the fusion run in. Default 'lab'. */
  colorSpace?: 'lab' | 'rgb';
  /** Histogram-preserving blend as the data term (true, default) or plain (1-w)A + wB. */
  histogram?: boolean;
  /** Gradient fusion (true, default); false returns the data term itself. */
  poisson?: boolean;
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

export type SelectMaskInput = Pick<BlendFrameInput, 'errA' | 'errB' | 'w' | 'prevMask' | 'flow' | 'width' | 'height'>;

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
  /** Continue at frame `from` (first < from <= last), given the mask saved for frame from-1. */
  resume?: { from: number; prevMask: Uint8Array };
}

function checkInterval(p: BlendSequenceParams): number {
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
    return from;
  }
  return p.first;
}

/**
 * Blends frames first..last in order, carrying the selection mask from frame to frame so that a
 * pixel that switched to B stays with B. Checks the signal between frames; returns the last mask.
 */
export async function blendSequence(addon: BlendAddon, p: BlendSequenceParams): Promise<Uint8Array> {
  const start = checkInterval(p);
  const total = p.last - p.first + 1;
  let prevMask: Uint8Array | null = p.resume?.prevMask ?? null;
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
      width: p.width,
      height: p.height,
      ...(p.options ? { options: p.options } : {}),
    });
    await p.saveFrame(t, result);
    prevMask = result.mask;
    p.onProgress?.({ done: t - p.first + 1, total });
  }
  // The interval holds at least one frame, so prevMask is set; the fallback only satisfies types.
  return prevMask ?? new Uint8Array(p.width * p.height);
}
