// A mask as the services store it: 8-bit grey PNG, one byte per working-resolution pixel.
import { decode, encode } from 'fast-png';
import { createMask, maskFromSamples, type Mask } from './mask-raster.ts';

export function encodeMaskPng(mask: Mask): Uint8Array<ArrayBuffer> {
  return new Uint8Array(encode({ width: mask.width, height: mask.height, data: mask.data, channels: 1, depth: 8 }));
}

/** Decodes a stored mask, resampled (nearest) to width × height when it was saved at another size. */
export function decodeMaskPng(bytes: Uint8Array, width: number, height: number): Mask {
  const png = decode(bytes);
  const m = maskFromSamples(png.width, png.height, png.data, png.channels, png.depth);
  if (m.width === width && m.height === height) return m;
  const out = createMask(width, height);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor((y * m.height) / height);
    for (let x = 0; x < width; x++) out.data[y * width + x] = m.data[sy * m.width + Math.floor((x * m.width) / width)] ?? 0;
  }
  return out;
}
