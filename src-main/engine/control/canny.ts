// Canny edges for ControlNet (native/src/control, OpenCV cv::Canny) off the JS thread.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlError } from './errors.ts';
import { abortError } from './rgb-image.ts';
import type { RgbImage } from './rgb-image.ts';

export interface CannyOptions {
  /** Hysteresis thresholds on the gradient magnitude. Defaults 100 and 200 (ControlNet's). */
  low?: number;
  high?: number;
  /** Gaussian pre-blur kernel size: 0 (none, default) or odd ≥ 3. */
  blur?: number;
  /** Gaussian sigma; 0 derives it from the kernel size. */
  blurSigma?: number;
  /** Sobel aperture 3, 5 or 7. */
  aperture?: number;
  l2Gradient?: boolean;
}

interface NativeToken {
  cancel(): void;
}

interface RawControlAddon {
  CancelToken: new () => NativeToken;
  canny(image: RgbImage, options: CannyOptions, token?: NativeToken): Promise<RgbImage>;
}

const ADDON_RELATIVE = path.join('native', 'build', 'Release', 'rerender_native.node');

/** The addon next to the sources or the build: the first native/build/Release above this file. */
export function defaultNativeAddonPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, ADDON_RELATIVE);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return path.resolve(fileURLToPath(new URL('../../../', import.meta.url)), ADDON_RELATIVE);
}

export type CannyFn = (image: RgbImage, options?: CannyOptions, signal?: AbortSignal) => Promise<RgbImage>;

/** Loads the native Canny; ControlError NATIVE_MISSING with the build command when unavailable. */
export function loadCanny(addonPath: string = process.env.RERENDER_NATIVE_ADDON ?? defaultNativeAddonPath()): CannyFn {
  if (!existsSync(addonPath)) {
    throw new ControlError('NATIVE_MISSING', `The native addon is not built (${addonPath} is missing). Build it with \`node scripts/build-native.js\`.`);
  }
  const raw = createRequire(import.meta.url)(addonPath) as Partial<RawControlAddon>;
  if (typeof raw.canny !== 'function' || typeof raw.CancelToken !== 'function') {
    throw new ControlError('NATIVE_MISSING', `The native addon at ${addonPath} has no canny; rebuild it with \`node scripts/build-native.js\`.`);
  }
  const addon = raw as RawControlAddon;
  return async (image, options = {}, signal) => {
    if (signal?.aborted) throw abortError(signal);
    const token = new addon.CancelToken();
    const onAbort = (): void => token.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await addon.canny(image, options, token);
    } catch (err) {
      if (signal?.aborted || (err instanceof Error && err.name === 'AbortError')) throw abortError(signal);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };
}
