// Pixel plumbing for ONNX annotators: RGB → planar float input, one-channel
// float map → 0..255 grey → RGB at the image's size.
import type { TensorData } from '../runtime/tensor-data.ts';
import { resizeRgb8 } from '../pipeline/image.ts';
import { ControlError } from './errors.ts';
import type { RgbImage } from './rgb-image.ts';

function rgbOf(image: RgbImage): Uint8Array {
  const { data, width, height, channels } = image;
  if (![1, 3, 4].includes(channels) || data.length !== width * height * channels) {
    throw new ControlError('INVALID_ARGUMENT', `image must be ${width}×${height} with 1, 3 or 4 channels (${data.length} bytes given)`);
  }
  if (channels === 3) return data;
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = data[p * channels + (channels === 1 ? 0 : c)]!;
  }
  return out;
}

/**
 * [1, 3, H, W] float input at `size` (a side for a square, or width × height), or, when null,
 * at the image size rounded down to a multiple of 8.
 */
export function planarInput(image: RgbImage, size: number | { width: number; height: number } | null, scale: number, offset: number): { tensor: TensorData } {
  const w = size === null ? Math.max(8, image.width - (image.width % 8)) : typeof size === 'number' ? size : size.width;
  const h = size === null ? Math.max(8, image.height - (image.height % 8)) : typeof size === 'number' ? size : size.height;
  const rgb = resizeRgb8(rgbOf(image), image.width, image.height, w, h);
  const n = w * h;
  const data = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) data[c * n + p] = rgb[p * 3 + c]! * scale + offset;
  return { tensor: { type: 'float32', dims: [1, 3, h, w], data } };
}

/** Map → 0..255 bytes: sigmoid for logits, else min–max normalised. */
export function normalizeMap(map: Float32Array, sigmoid: boolean): Uint8Array {
  const out = new Uint8Array(map.length);
  if (sigmoid) {
    for (let i = 0; i < map.length; i++) out[i] = Math.round(255 / (1 + Math.exp(-map[i]!)));
    return out;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi - lo > 1e-12 ? hi - lo : 1;
  for (let i = 0; i < map.length; i++) out[i] = Math.round(((map[i]! - lo) / range) * 255);
  return out;
}

export function greyToRgb(grey: Uint8Array, width: number, height: number, toWidth: number, toHeight: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = grey[p]!;
  return { data: resizeRgb8(rgb, width, height, toWidth, toHeight), width: toWidth, height: toHeight, channels: 3 };
}
