// Pixel comparisons for media tests.

/** Peak signal-to-noise ratio of two 8-bit images in dB (Infinity when identical). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`size mismatch: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    sum += d * d;
  }
  if (sum === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / (sum / a.length));
}

/** Rotates an RGB24 image a quarter turn; `clockwise` false turns it the other way. */
export function rotateQuarter(rgb: Uint8Array, width: number, height: number, clockwise: boolean): Uint8Array {
  const out = new Uint8Array(rgb.length);
  // Output is height wide, width tall.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [ox, oy] = clockwise ? [height - 1 - y, x] : [y, width - 1 - x];
      const s = (y * width + x) * 3;
      const d = (oy * height + ox) * 3;
      out[d] = rgb[s] ?? 0;
      out[d + 1] = rgb[s + 1] ?? 0;
      out[d + 2] = rgb[s + 2] ?? 0;
    }
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
