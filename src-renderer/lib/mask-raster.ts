// Mask painting at the project's working resolution: a grey buffer (0 = keep, 255 = masked),
// brush dabs with a feathered edge. Dabs combine with max (paint) / min (erase), so stamping
// the same spot twice changes nothing and stroke spacing never shows.

export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface Brush {
  mode: 'paint' | 'erase';
  /** Diameter in mask pixels. */
  size: number;
  /** 0 = all feather, 1 = hard edge. */
  hardness: number;
}

export interface Point {
  x: number;
  y: number;
}

export function createMask(width: number, height: number): Mask {
  return { width, height, data: new Uint8Array(width * height) };
}

export function cloneMask(m: Mask): Mask {
  return { width: m.width, height: m.height, data: m.data.slice() };
}

/** A mask from decoded image samples (first channel of each pixel). */
export function maskFromSamples(width: number, height: number, samples: ArrayLike<number>, channels: number, depth = 8): Mask {
  const m = createMask(width, height);
  const shift = depth > 8 ? depth - 8 : 0;
  for (let i = 0; i < width * height; i++) m.data[i] = (samples[i * channels] ?? 0) >> shift;
  return m;
}

/** Brush coverage at normalised distance t = d / radius: 1 inside the hard core, smooth falloff to 0 at the rim. */
export function coverage(t: number, hardness: number): number {
  const h = Math.min(1, Math.max(0, hardness));
  if (t >= 1) return 0;
  if (t <= h) return 1;
  const u = (t - h) / (1 - h);
  return 1 - u * u * (3 - 2 * u);
}

export function stampDab(mask: Mask, cx: number, cy: number, brush: Brush): void {
  const r = Math.max(0.5, brush.size / 2);
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(mask.width - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(mask.height - 1, Math.ceil(cy + r));
  const d = mask.data;
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      const c = coverage(Math.sqrt(dx * dx + dy * dy) / r, brush.hardness);
      if (c <= 0) continue;
      const i = y * mask.width + x;
      const cur = d[i] ?? 0;
      if (brush.mode === 'paint') {
        const v = Math.round(255 * c);
        if (v > cur) d[i] = v;
      } else {
        const v = Math.round(255 * (1 - c));
        if (v < cur) d[i] = v;
      }
    }
  }
}

/** Dab centres from a to b (b included), spaced a quarter of the brush radius apart. */
export function segmentDabs(a: Point, b: Point, size: number): Point[] {
  const spacing = Math.max(0.5, size / 8);
  const len = Math.hypot(b.x - a.x, b.y - a.y);
  const n = Math.max(1, Math.ceil(len / spacing));
  const out: Point[] = [];
  for (let i = 1; i <= n; i++) out.push({ x: a.x + ((b.x - a.x) * i) / n, y: a.y + ((b.y - a.y) * i) / n });
  return out;
}

/** Paints a polyline stroke (points in mask pixels). */
export function paintStroke(mask: Mask, points: readonly Point[], brush: Brush): void {
  const first = points[0];
  if (!first) return;
  stampDab(mask, first.x, first.y, brush);
  for (let i = 1; i < points.length; i++) {
    for (const p of segmentDabs(points[i - 1]!, points[i]!, brush.size)) stampDab(mask, p.x, p.y, brush);
  }
}

/** RGBA pixels of the overlay: the mask as a tinted, semi-transparent layer. */
export function maskToRgba(mask: Mask, rgb: readonly [number, number, number], opacity: number, out?: Uint8ClampedArray): Uint8ClampedArray {
  const px = out ?? new Uint8ClampedArray(mask.width * mask.height * 4);
  const o = Math.min(1, Math.max(0, opacity));
  for (let i = 0; i < mask.data.length; i++) {
    const j = i * 4;
    px[j] = rgb[0];
    px[j + 1] = rgb[1];
    px[j + 2] = rgb[2];
    px[j + 3] = Math.round((mask.data[i] ?? 0) * o);
  }
  return px;
}

/** Maps a point on the displayed image (display pixels) to mask pixels. */
export function toMaskPoint(p: Point, displayWidth: number, displayHeight: number, mask: Mask): Point {
  return { x: (p.x * mask.width) / displayWidth, y: (p.y * mask.height) / displayHeight };
}

export function isEmptyMask(mask: Mask): boolean {
  for (const v of mask.data) if (v !== 0) return false;
  return true;
}
