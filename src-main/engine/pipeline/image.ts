// Conversions between interleaved RGB bytes and the NCHW float tensors the
// graphs take: [-1, 1] for the VAE, [0, 1] for ControlNet conditioning.
import { invalid } from './errors.ts';
import type { Tensor } from './types.ts';

function checkRgb(rgb: Uint8Array, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw invalid(`bad image size ${width}×${height}`);
  if (rgb.length !== width * height * 3) throw invalid(`RGB data has ${rgb.length} bytes; ${width}×${height}×3 = ${width * height * 3} expected`);
}

function toPlanar(rgb: Uint8Array, width: number, height: number, scale: number, offset: number): Tensor {
  checkRgb(rgb, width, height);
  const n = width * height;
  const data = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) data[c * n + p] = rgb[p * 3 + c]! * scale + offset;
  }
  return { data, dims: [1, 3, height, width] };
}

/** RGB bytes → [1, 3, H, W] in [-1, 1] (VAE input). */
export function imageFromRgb8(rgb: Uint8Array, width: number, height: number): Tensor {
  return toPlanar(rgb, width, height, 2 / 255, -1);
}

/** RGB bytes → [1, 3, H, W] in [0, 1] (ControlNet conditioning). */
export function controlFromRgb8(rgb: Uint8Array, width: number, height: number): Tensor {
  return toPlanar(rgb, width, height, 1 / 255, 0);
}

/** [1, 3, H, W] in [-1, 1] → RGB bytes (clamped, rounded). */
export function imageToRgb8(image: Tensor): Uint8Array {
  const [, c, h, w] = image.dims;
  if (image.dims.length !== 4 || c !== 3 || h === undefined || w === undefined) throw invalid(`expected a [1, 3, H, W] image, got [${image.dims.join(', ')}]`);
  const n = w * h;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    for (let ch = 0; ch < 3; ch++) {
      const v = (image.data[ch * n + p]! + 1) * 127.5;
      out[p * 3 + ch] = Math.round(Math.min(255, Math.max(0, v)));
    }
  }
  return out;
}

/** Bilinear resize of RGB bytes (pixel centres aligned, as OpenCV's INTER_LINEAR). */
export function resizeRgb8(rgb: Uint8Array, width: number, height: number, toWidth: number, toHeight: number): Uint8Array {
  checkRgb(rgb, width, height);
  if (width === toWidth && height === toHeight) return rgb;
  const out = new Uint8Array(toWidth * toHeight * 3);
  const sx = width / toWidth;
  const sy = height / toHeight;
  for (let y = 0; y < toHeight; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let x = 0; x < toWidth; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const a = rgb[(y0 * width + x0) * 3 + c]! * (1 - wx) + rgb[(y0 * width + x1) * 3 + c]! * wx;
        const b = rgb[(y1 * width + x0) * 3 + c]! * (1 - wx) + rgb[(y1 * width + x1) * 3 + c]! * wx;
        out[(y * toWidth + x) * 3 + c] = Math.round(a * (1 - wy) + b * wy);
      }
    }
  }
  return out;
}
