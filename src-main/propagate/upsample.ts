// Guided upsampling of working-size frames to the source's resolution (native/src/upsample).
// The working-size output shows `rect` of the full-resolution source (the guide); the result has
// the guide's size, and outside `rect` the fitted model is extrapolated, since the source is there.
import { defaultAddonPath } from './blend.ts';
import { requireAddon, withCancelToken } from './native.ts';
import type { CancelToken } from './native.ts';
import type { ByteImage } from './image.ts';

export const UPSAMPLE_METHODS = ['bicubic', 'joint-bilateral', 'guided', 'guided-luma', 'detail'] as const;
export type UpsampleMethod = (typeof UPSAMPLE_METHODS)[number];

/**
 * Chosen by bench/fullres/run.ts (full-size ground truth on two real clips, see its README): at the
 * 1080p-like x2.1 ratio 'detail' matched bicubic over the frame (+0.1 dB PSNR, SSIM -0.004) and
 * beat it by 1.3 dB on the aspect-fix margin it extrapolates; the guided-filter and joint bilateral
 * methods lost 3 to 5 dB by painting the source's shading back over the style.
 */
export const DEFAULT_UPSAMPLE_METHOD: UpsampleMethod = 'detail';

export interface UpsampleRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface UpsampleOptions {
  method?: UpsampleMethod;
  /** The part of the guide the low-resolution image shows, in guide pixels; default all of it. */
  rect?: UpsampleRect;
  /** Guided methods: window radius in low-resolution pixels, 1..64 (default 2). */
  radius?: number;
  /** Guided methods: regulariser on a 0..1 value scale, squared, 1e-8..1 (default 1e-4). */
  eps?: number;
  /** Joint bilateral: spatial sigma in low-resolution pixels (default 1). */
  sigmaSpatial?: number;
  /** Joint bilateral: range sigma over the sum of |R|+|G|+|B| differences, 0..765 scale (default 24). */
  sigmaRange?: number;
}

interface RawUpsample {
  CancelToken: new () => CancelToken;
  upsample(low: ByteImage, guide: ByteImage, options: UpsampleOptions, token?: unknown): Promise<Uint8Array>;
}

export type Upsampler = (low: ByteImage, guide: ByteImage, options?: UpsampleOptions, signal?: AbortSignal) => Promise<Uint8Array>;

/**
 * Loads the native upsampler. PropagateError('ADDON_MISSING') when the binary is absent or was built
 * without it. Argument errors reject with TypeError/RangeError naming the argument; a cancelled call
 * with an AbortError.
 */
export function loadUpsampler(addonPath: string = process.env.RERENDER_NATIVE_ADDON ?? defaultAddonPath()): Upsampler {
  const n = requireAddon(addonPath, ['CancelToken', 'upsample']) as unknown as RawUpsample;
  return (low, guide, options = {}, signal) => withCancelToken(n.CancelToken, signal, (token) => n.upsample(low, guide, options, token));
}
