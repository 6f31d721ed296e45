// Deterministic per-frame styles: the ground truth of the quality benchmark. Each is a pure
// function of one RGB frame (no temporal state), with every radius proportional to the short
// side so the same style at twice the size looks the same.
//   paint:     Kuwahara smoothing, colours snapped to a small palette, darkened edges.
//   ink:       dark lines from a difference of Gaussians over a flat, paper-tinted wash.
//   posterize: posterised luma through a warm colour map (the original stand-in style).

export const STYLE_NAMES = ['paint', 'ink', 'posterize'] as const;
export type StyleName = (typeof STYLE_NAMES)[number];

/** Radii are given for a 256-pixel short side and scaled from there. */
function scaleOf(width: number, height: number): number {
  return Math.min(width, height) / 256;
}

function luma(rgb: Uint8Array, n: number): Float32Array {
  const l = new Float32Array(n);
  for (let p = 0; p < n; p++) l[p] = 0.299 * (rgb[p * 3] ?? 0) + 0.587 * (rgb[p * 3 + 1] ?? 0) + 0.114 * (rgb[p * 3 + 2] ?? 0);
  return l;
}

/** Separable Gaussian blur of one float plane, clamped borders. */
function gaussian(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(sigma * 3));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] = (k[i] ?? 0) / sum;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += (k[i + r] ?? 0) * (src[y * width + Math.min(width - 1, Math.max(0, x + i))] ?? 0);
      tmp[y * width + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += (k[i + r] ?? 0) * (tmp[Math.min(height - 1, Math.max(0, y + i)) * width + x] ?? 0);
      out[y * width + x] = s;
    }
  }
  return out;
}

/** Summed-area table of a plane, (width+1) x (height+1). */
function integral(src: ArrayLike<number>, width: number, height: number, square = false): Float64Array {
  const w1 = width + 1;
  const s = new Float64Array(w1 * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      const v = src[y * width + x] ?? 0;
      row += square ? v * v : v;
      s[(y + 1) * w1 + x + 1] = (s[y * w1 + x + 1] ?? 0) + row;
    }
  }
  return s;
}

function boxSum(s: Float64Array, w1: number, x0: number, y0: number, x1: number, y1: number): number {
  // Inclusive pixel rectangle [x0..x1] x [y0..y1].
  return (s[(y1 + 1) * w1 + x1 + 1] ?? 0) - (s[y0 * w1 + x1 + 1] ?? 0) - (s[(y1 + 1) * w1 + x0] ?? 0) + (s[y0 * w1 + x0] ?? 0);
}

function channel(rgb: Uint8Array, n: number, c: number): Float32Array {
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) out[p] = rgb[p * 3 + c] ?? 0;
  return out;
}

/** Kuwahara filter: each pixel takes the mean colour of its least varied quadrant (flat strokes, kept edges). */
function kuwahara(rgb: Uint8Array, width: number, height: number, r: number): Float32Array[] {
  const n = width * height;
  const w1 = width + 1;
  const l = luma(rgb, n);
  const sl = integral(l, width, height);
  const sl2 = integral(l, width, height, true);
  const sc = [0, 1, 2].map((c) => integral(channel(rgb, n, c), width, height));
  const out = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let best = Infinity;
      let bx0 = x, by0 = y, bx1 = x, by1 = y;
      for (const [dx, dy] of [[-1, -1], [1, -1], [-1, 1], [1, 1]] as const) {
        const x0 = Math.max(0, Math.min(x, x + dx * r)), x1 = Math.min(width - 1, Math.max(x, x + dx * r));
        const y0 = Math.max(0, Math.min(y, y + dy * r)), y1 = Math.min(height - 1, Math.max(y, y + dy * r));
        const area = (x1 - x0 + 1) * (y1 - y0 + 1);
        const m = boxSum(sl, w1, x0, y0, x1, y1) / area;
        const v = boxSum(sl2, w1, x0, y0, x1, y1) / area - m * m;
        if (v < best) { best = v; bx0 = x0; by0 = y0; bx1 = x1; by1 = y1; }
      }
      const area = (bx1 - bx0 + 1) * (by1 - by0 + 1);
      for (let c = 0; c < 3; c++) (out[c] as Float32Array)[y * width + x] = boxSum(sc[c] as Float64Array, w1, bx0, by0, bx1, by1) / area;
    }
  }
  return out;
}

/** Sobel gradient magnitude of a plane. */
function sobel(l: Float32Array, width: number, height: number): Float32Array {
  const g = new Float32Array(l.length);
  const at = (x: number, y: number) => l[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))] ?? 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1);
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1);
      g[y * width + x] = Math.hypot(gx, gy);
    }
  }
  return g;
}

// An oil-paint palette: earth tones, a few saturated pigments, near-black and near-white.
const PALETTE: readonly (readonly [number, number, number])[] = [
  [24, 20, 28], [62, 52, 60], [110, 98, 96], [170, 160, 150], [232, 224, 206], [250, 246, 232],
  [120, 62, 40], [178, 104, 58], [216, 160, 90], [240, 206, 120],
  [60, 84, 52], [104, 140, 74], [170, 190, 110],
  [36, 60, 110], [70, 112, 160], [140, 176, 206],
  [150, 40, 40], [206, 80, 60], [110, 60, 110], [200, 150, 170],
  // Darks and skin tones, so dim scenes keep their hues instead of collapsing to black.
  [50, 32, 26], [44, 30, 54], [74, 32, 32], [28, 40, 62], [40, 52, 36], [92, 70, 52],
  [156, 118, 96], [222, 180, 148],
];

function nearest(r: number, g: number, b: number): readonly [number, number, number] {
  let best = PALETTE[0] as readonly [number, number, number];
  let bd = Infinity;
  for (const p of PALETTE) {
    // Weighted RGB distance: green differences show most.
    const d = 2 * (r - p[0]) ** 2 + 4 * (g - p[1]) ** 2 + 3 * (b - p[2]) ** 2;
    if (d < bd) { bd = d; best = p; }
  }
  return best;
}

function paint(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const s = scaleOf(width, height);
  const n = width * height;
  const [r, g, b] = kuwahara(rgb, width, height, Math.max(1, Math.round(4 * s))) as [Float32Array, Float32Array, Float32Array];
  const smooth = new Float32Array(n);
  for (let p = 0; p < n; p++) smooth[p] = 0.299 * (r[p] ?? 0) + 0.587 * (g[p] ?? 0) + 0.114 * (b[p] ?? 0);
  // Edges of the smoothed image, softened so the outline is a brush stroke, not a pixel line.
  const edge = gaussian(sobel(smooth, width, height), width, height, Math.max(0.5, 0.8 * s));
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const c = nearest(r[p] ?? 0, g[p] ?? 0, b[p] ?? 0);
    const dark = 1 - 0.6 * Math.min(1, Math.max(0, ((edge[p] ?? 0) - 40) / 120));
    for (let k = 0; k < 3; k++) out[p * 3 + k] = Math.round((c[k] ?? 0) * dark);
  }
  return out;
}

function ink(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const s = scaleOf(width, height);
  const n = width * height;
  const l = luma(rgb, n);
  // Difference of Gaussians, soft-thresholded (XDoG-like): dark where the fine blur is darker.
  const g1 = gaussian(l, width, height, 1.0 * s);
  const g2 = gaussian(l, width, height, 1.6 * s);
  // Flat wash: heavily blurred colour, luma banded into three tones, mixed towards paper.
  const wash = [0, 1, 2].map((c) => gaussian(channel(rgb, n, c), width, height, 4 * s)) as [Float32Array, Float32Array, Float32Array];
  const paper = [246, 238, 218];
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const d = (g1[p] ?? 0) - 0.98 * (g2[p] ?? 0);
    const line = d >= 0 ? 1 : Math.max(0, 1 + Math.tanh(d * 0.25));
    const wl = 0.299 * (wash[0][p] ?? 0) + 0.587 * (wash[1][p] ?? 0) + 0.114 * (wash[2][p] ?? 0);
    const band = wl < 70 ? 0.55 : wl < 150 ? 0.78 : 1;
    for (let k = 0; k < 3; k++) {
      const tint = 0.35 * ((wash[k] as Float32Array)[p] ?? 0) + 0.65 * (paper[k] ?? 0);
      out[p * 3 + k] = Math.round(Math.min(255, tint * band) * (0.1 + 0.9 * line));
    }
  }
  return out;
}

function posterize(rgb: Uint8Array): Uint8Array {
  const ramp = [[30, 20, 60], [120, 40, 90], [220, 90, 60], [250, 190, 90], [255, 250, 210]];
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const l = (0.299 * (rgb[i] ?? 0) + 0.587 * (rgb[i + 1] ?? 0) + 0.114 * (rgb[i + 2] ?? 0)) / 255;
    const f = (Math.round(l * 8) / 8) * (ramp.length - 1);
    const k = Math.min(ramp.length - 2, Math.floor(f));
    for (let c = 0; c < 3; c++) {
      const lo = ramp[k]?.[c] ?? 0, hi = ramp[k + 1]?.[c] ?? 0;
      out[i + c] = Math.round(lo + (f - k) * (hi - lo));
    }
  }
  return out;
}

/** Styles one RGB frame; the result is a new array of the same size. */
export function applyStyle(name: string, rgb: Uint8Array, width: number, height: number): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`width and height must be positive integers, got ${String(width)}x${String(height)}`);
  }
  if (!(rgb instanceof Uint8Array) || rgb.length !== width * height * 3) {
    throw new RangeError(`rgb must be ${width * height * 3} bytes (${width}x${height} RGB), got ${rgb instanceof Uint8Array ? rgb.length : typeof rgb}`);
  }
  switch (name) {
    case 'paint': return paint(rgb, width, height);
    case 'ink': return ink(rgb, width, height);
    case 'posterize': return posterize(rgb);
    default: throw new RangeError(`unknown style ${JSON.stringify(name)}; one of ${STYLE_NAMES.join(', ')}`);
  }
}
