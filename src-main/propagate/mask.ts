// Painted key-frame masks: feathering and compositing the stylised frame over the source.

/** Separable box blur applied three times (close to a Gaussian of sigma ~ radius / 1.7). */
export function featherMask(mask: Uint8Array, width: number, height: number, radius: number): Float32Array {
  const a = Float32Array.from(mask, (v) => v / 255);
  if (radius < 1) return a;
  const r = Math.round(radius);
  const b = new Float32Array(a.length);
  for (let pass = 0; pass < 3; pass++) {
    boxH(a, b, width, height, r);
    boxV(b, a, width, height, r);
  }
  return a;
}

function boxH(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += src[row + Math.min(w - 1, Math.max(0, x + k))] ?? 0;
      dst[row + x] = s / (2 * r + 1);
    }
  }
}

function boxV(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += src[Math.min(h - 1, Math.max(0, y + k)) * w + x] ?? 0;
      dst[y * w + x] = s / (2 * r + 1);
    }
  }
}

/** alpha * styled + (1 - alpha) * source, per pixel (alpha in 0..1, one per pixel). */
export function composite(styled: Uint8Array, source: Uint8Array, alpha: Float32Array): Uint8Array {
  const out = new Uint8Array(styled.length);
  const c = styled.length / alpha.length;
  for (let p = 0; p < alpha.length; p++) {
    const a = alpha[p] ?? 0;
    for (let k = 0; k < c; k++) {
      const i = p * c + k;
      out[i] = Math.round(a * (styled[i] ?? 0) + (1 - a) * (source[i] ?? 0));
    }
  }
  return out;
}
