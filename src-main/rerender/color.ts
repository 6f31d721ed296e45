// Colour correction of later key frames' inputs when colour preservation is off (official
// apply_color_correction): the frame's Lab histograms matched to the anchor result's, then a
// luminosity blend that keeps the frame's own luminance with the matched hue and saturation.

/** OpenCV's 8-bit RGB → Lab (L·255/100, a + 128, b + 128), D65. */
export function rgbToLab8(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length);
  const lin = (v: number): number => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const f = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  for (let i = 0; i < rgb.length; i += 3) {
    const r = lin(rgb[i]!);
    const g = lin(rgb[i + 1]!);
    const b = lin(rgb[i + 2]!);
    const x = (0.412453 * r + 0.35758 * g + 0.180423 * b) / 0.950456;
    const y = 0.212671 * r + 0.71516 * g + 0.072169 * b;
    const z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.088754;
    const l = y > 0.008856 ? 116 * Math.cbrt(y) - 16 : 903.3 * y;
    out[i] = clamp8((l * 255) / 100);
    out[i + 1] = clamp8(500 * (f(x) - f(y)) + 128);
    out[i + 2] = clamp8(200 * (f(y) - f(z)) + 128);
  }
  return out;
}

/** OpenCV's 8-bit Lab → RGB. */
export function lab8ToRgb(lab: Uint8Array): Uint8Array {
  const out = new Uint8Array(lab.length);
  const finv = (t: number): number => (t > 0.206893 ? t * t * t : (t - 16 / 116) / 7.787);
  const gamma = (c: number): number => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
  for (let i = 0; i < lab.length; i += 3) {
    const l = (lab[i]! * 100) / 255;
    const a = lab[i + 1]! - 128;
    const b = lab[i + 2]! - 128;
    const fy = (l + 16) / 116;
    const y = l > 7.9996 ? fy * fy * fy : l / 903.3;
    const x = finv(fy + a / 500) * 0.950456;
    const z = finv(fy - b / 200) * 1.088754;
    const r = 3.240479 * x - 1.53715 * y - 0.498535 * z;
    const g = -0.969256 * x + 1.875991 * y + 0.041556 * z;
    const bb = 0.055648 * x - 0.204043 * y + 1.057311 * z;
    out[i] = clamp8(gamma(Math.min(1, Math.max(0, r))) * 255);
    out[i + 1] = clamp8(gamma(Math.min(1, Math.max(0, g))) * 255);
    out[i + 2] = clamp8(gamma(Math.min(1, Math.max(0, bb))) * 255);
  }
  return out;
}

function clamp8(v: number): number {
  return Math.round(Math.min(255, Math.max(0, v)));
}

/** skimage match_histograms per channel (quantile mapping with linear interpolation), interleaved 3-channel bytes. */
export function matchHistograms(src: Uint8Array, ref: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let c = 0; c < 3; c++) {
    const hs = new Float64Array(256);
    const hr = new Float64Array(256);
    for (let i = c; i < src.length; i += 3) hs[src[i]!]! += 1;
    for (let i = c; i < ref.length; i += 3) hr[ref[i]!]! += 1;
    const quant = (h: Float64Array): { values: number[]; q: number[] } => {
      const total = h.reduce((a, b) => a + b, 0);
      const values: number[] = [];
      const q: number[] = [];
      let acc = 0;
      for (let v = 0; v < 256; v++) {
        if (h[v]! === 0) continue;
        acc += h[v]!;
        values.push(v);
        q.push(acc / total);
      }
      return { values, q };
    };
    const s = quant(hs);
    const r = quant(hr);
    const map = new Uint8Array(256);
    for (let k = 0; k < s.values.length; k++) map[s.values[k]!] = clamp8(interp(s.q[k]!, r.q, r.values));
    for (let i = c; i < src.length; i += 3) out[i] = map[src[i]!]!;
  }
  return out;
}

function interp(x: number, xs: number[], ys: number[]): number {
  if (x <= xs[0]!) return ys[0]!;
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]!) {
      const t = (x - xs[i - 1]!) / (xs[i]! - xs[i - 1]!);
      return ys[i - 1]! + t * (ys[i]! - ys[i - 1]!);
    }
  }
  return ys[ys.length - 1]!;
}

/** W3C luminosity blend: the colour of `base` with the luminance of `top` (both interleaved RGB bytes). */
export function luminosityBlend(base: Uint8Array, top: Uint8Array): Uint8Array {
  const out = new Uint8Array(base.length);
  const lum = (r: number, g: number, b: number): number => 0.3 * r + 0.59 * g + 0.11 * b;
  for (let i = 0; i < base.length; i += 3) {
    const r = base[i]! / 255;
    const g = base[i + 1]! / 255;
    const b = base[i + 2]! / 255;
    const d = lum(top[i]! / 255, top[i + 1]! / 255, top[i + 2]! / 255) - lum(r, g, b);
    let c = [r + d, g + d, b + d];
    const l = lum(c[0]!, c[1]!, c[2]!);
    const n = Math.min(...c);
    const x = Math.max(...c);
    if (n < 0) c = c.map((v) => l + ((v - l) * l) / (l - n));
    if (x > 1) c = c.map((v) => l + ((v - l) * (1 - l)) / (x - l));
    for (let k = 0; k < 3; k++) out[i + k] = clamp8(c[k]! * 255);
  }
  return out;
}

/** The frame colour-matched to the anchor's result, keeping its own luminance. */
export function colorCorrect(frame: Uint8Array, anchorResult: Uint8Array, width: number, height: number): Uint8Array {
  if (frame.length !== width * height * 3 || anchorResult.length !== frame.length) throw new RangeError('colorCorrect: images must be width×height RGB');
  const matched = lab8ToRgb(matchHistograms(rgbToLab8(frame), rgbToLab8(anchorResult)));
  return luminosityBlend(matched, frame);
}
