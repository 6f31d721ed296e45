// Typed access to the synthesis and flow functions of the native addon (native/src/synth,
// native/src/flow), with AbortSignal bridged to the addon's CancelToken.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { defaultAddonPath } from './blend.ts';
import { PropagateError } from './errors.ts';
import type { Image, FloatImage, ByteImage } from './image.ts';

export interface GuideInput {
  source: Image;
  target: Image;
  /** Finite, >= 0; normalised per channel inside (EbSynth convention). */
  weight: number;
}

export interface SynthOptions {
  /** Odd, 3..15. Default 5. */
  patchSize?: number;
  /** 0 or absent: as many as keep the coarsest level >= 2 * patchSize. */
  pyramidLevels?: number;
  searchVoteIters?: number;
  patchMatchIters?: number;
  uniformityWeight?: number;
  styleWeight?: number;
  extraPass3x3?: boolean;
  /** Pixels whose vote moves less than this (0..255) skip the next search. 0 disables. Default 5. */
  stopThreshold?: number;
  /** Keep pixels within a patch radius of unconverged ones searching (EbSynth). Default false. */
  stopDilate?: boolean;
  /** Stop a level when an iteration improves the mean error by less than this fraction (0..1). 0 (default) disables. */
  convergence?: number;
  /** 'weighted' (the addon's default): each patch's vote counts 1 / (1 + its error); 'plain': EbSynth's average. */
  voteMode?: 'weighted' | 'plain';
  seed?: number;
  /** 0 or absent: one per core. Results do not depend on it. */
  threads?: number;
  /** Output size when there are no guides (else the guides' target size). */
  width?: number;
  height?: number;
  /** Starting field at output size (x, y per pixel), e.g. the previous frame's advected. */
  initNnf?: Int32Array;
  /**
   * WebGPU only (the CPU keeps its patch-usage counts exact as it scans): how often the parallel
   * PatchMatch recounts how often each style patch is used, for the uniformity term. 'pass'
   * (default): before every Jacobi pass; 'iteration': once per search-vote iteration.
   */
  occupancyRefresh?: 'pass' | 'iteration';
}

export interface SynthResult<T extends Image = Image> {
  /** Same pixel type as the style image. */
  image: T;
  /** Per pixel: weighted patch SSD (0..255 scale) / patch area. */
  error: Float32Array;
  /** Source patch centre (x, y) per output pixel. */
  nnf: Int32Array;
}

export type { FlowMethod } from './choices.ts';
import type { FlowMethod } from './choices.ts';

export interface CancelToken {
  cancel(): void;
  readonly cancelled: boolean;
}

interface RawAddon {
  CancelToken: new () => CancelToken;
  synthesize(style: Image, guides: GuideInput[], options: SynthOptions, token?: CancelToken, onProgress?: (f: number) => void): Promise<SynthResult>;
  meanBestPatchError(target: Image, source: Image, options: { patchSize?: number; iterations?: number; seed?: number; threads?: number }, token?: CancelToken): Promise<number>;
  computeFlow(a: Image, b: Image, options: { method?: FlowMethod }, token?: CancelToken): Promise<{ forward: Float32Array; backward: Float32Array }>;
  occlusionMask(flow: Float32Array, other: Float32Array, width: number, height: number, token?: CancelToken): Promise<Uint8Array>;
  warp(image: Image, flow: Float32Array, options: { nearest?: boolean; threads?: number }, token?: CancelToken): Promise<Image>;
  fillHoles(image: Image, mask: Uint8Array, token?: CancelToken): Promise<Image>;
  edgeGuide(image: Image, token?: CancelToken): Promise<Image>;
  advectNnf(nnf: Int32Array, flow: Float32Array, width: number, height: number, token?: CancelToken): Promise<Int32Array>;
}

/** Propagation-side view of the addon; every call honours an optional AbortSignal. */
export interface PropagateAddon {
  synthesize<T extends Image>(style: T, guides: GuideInput[], options?: SynthOptions, signal?: AbortSignal, onProgress?: (fraction: number) => void): Promise<SynthResult<T>>;
  meanBestPatchError(target: Image, source: Image, options?: { patchSize?: number; iterations?: number; seed?: number; threads?: number }, signal?: AbortSignal): Promise<number>;
  /** forward: a -> b, backward: b -> a; (dx, dy) per pixel. */
  computeFlow(a: ByteImage, b: ByteImage, method?: FlowMethod, signal?: AbortSignal): Promise<{ forward: Float32Array; backward: Float32Array }>;
  /** 255 where pixels of the frame `flow` starts from fail the forward-backward check. */
  occlusionMask(flow: Float32Array, other: Float32Array, width: number, height: number): Promise<Uint8Array>;
  /** out(p) = image(p + flow(p)), bilinear unless nearest. */
  warp<T extends Image>(image: T, flow: Float32Array, options?: { nearest?: boolean }): Promise<T>;
  fillHoles<T extends Image>(image: T, mask: Uint8Array): Promise<T>;
  edgeGuide<T extends Image>(image: T): Promise<T>;
  advectNnf(nnf: Int32Array, flow: Float32Array, width: number, height: number): Promise<Int32Array>;
}

const NAMES = ['CancelToken', 'synthesize', 'meanBestPatchError', 'computeFlow', 'occlusionMask', 'warp', 'fillHoles', 'edgeGuide', 'advectNnf'] as const;

/** The DOMException every cancelled propagation call rejects with. */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('The operation was aborted', 'AbortError');
}

function isNativeAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** Argument errors keep their class (TypeError/RangeError); aborts become an AbortError. */
function translate(err: unknown, signal?: AbortSignal): unknown {
  if (isNativeAbort(err) || signal?.aborted) return abortError(signal);
  return err;
}

/**
 * The addon binary, checked to export every function in `names`. Throws
 * PropagateError('ADDON_MISSING') with the build command when it is absent or was built without them.
 */
export function requireAddon(addonPath: string, names: readonly string[]): Record<string, unknown> {
  if (!existsSync(addonPath)) {
    throw new PropagateError('ADDON_MISSING', `The native addon is not built (${addonPath} is missing). Build it with \`node scripts/build-native.js\`.`);
  }
  const require = createRequire(import.meta.url);
  const raw = require(addonPath) as Record<string, unknown>;
  for (const name of names) {
    if (typeof raw[name] !== 'function') {
      throw new PropagateError('ADDON_MISSING', `The native addon at ${addonPath} has no ${name}; rebuild it with \`node scripts/build-native.js\`.`);
    }
  }
  return raw;
}

/** Runs one native call with a CancelToken tied to the signal for the call's duration. */
export async function withCancelToken<R>(Token: new () => CancelToken, signal: AbortSignal | undefined, call: (token: CancelToken) => Promise<R>): Promise<R> {
  if (signal?.aborted) throw abortError(signal);
  const token = new Token();
  const onAbort = () => token.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await call(token);
  } catch (err) {
    throw translate(err, signal);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Loads the addon's propagation functions (see requireAddon for a missing or partial build). */
export function loadPropagateAddon(addonPath: string = process.env.RERENDER_NATIVE_ADDON ?? defaultAddonPath()): PropagateAddon {
  const n = requireAddon(addonPath, NAMES) as unknown as RawAddon;
  const cancellable = <R>(signal: AbortSignal | undefined, call: (token: CancelToken) => Promise<R>): Promise<R> => withCancelToken(n.CancelToken, signal, call);

  return {
    synthesize: <T extends Image>(style: T, guides: GuideInput[], options: SynthOptions = {}, signal?: AbortSignal, onProgress?: (f: number) => void) =>
      cancellable(signal, (t) => n.synthesize(style, guides, options, t, onProgress) as Promise<SynthResult<T>>),
    meanBestPatchError: (target, source, options = {}, signal) => cancellable(signal, (t) => n.meanBestPatchError(target, source, options, t)),
    computeFlow: (a, b, method = 'dis-medium', signal) => cancellable(signal, (t) => n.computeFlow(a, b, { method }, t)),
    // async: argument errors thrown synchronously by the addon become rejections too.
    occlusionMask: async (flow, other, width, height) => n.occlusionMask(flow, other, width, height),
    warp: async <T extends Image>(image: T, flow: Float32Array, options: { nearest?: boolean } = {}) => n.warp(image, flow, options) as Promise<T>,
    fillHoles: async <T extends Image>(image: T, mask: Uint8Array) => n.fillHoles(image, mask) as Promise<T>,
    edgeGuide: async <T extends Image>(image: T) => n.edgeGuide(image) as Promise<T>,
    advectNnf: async (nnf, flow, width, height) => n.advectNnf(nnf, flow, width, height),
  };
}

export type { Image, FloatImage, ByteImage };
