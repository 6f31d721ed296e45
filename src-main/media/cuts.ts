// Shot-cut detection: where the picture jumps to another shot, so propagation never carries a look
// (or flow) across it. One ffmpeg pass decodes tiny colour thumbnails; each frame is compared with
// its predecessor by a colour-histogram distance (chi-square on soft joint-RGB and luma
// histograms) and a pixel difference (mean luma difference). A cut is a change, in either measure,
// that stands far above the same measure around it (an adaptive threshold: the local median over
// a window, and each side's median over the nearest frames), so fast motion and noise, which raise
// every neighbouring difference alike, and fades and dissolves, whose steps come in a run, do not
// trigger; a flash (a frame after the change looks like one before it) is not a cut; shots are
// never shorter than `minShot`.
import { MediaError, fileLabel, throwIfAborted } from './errors.ts';
import { decodeFrames, type DecodeGeometry, type DecodeSource } from './decode.ts';
import type { MediaTools } from './locate.ts';

/** Thumbnail size: large enough for a pixel difference to see a new framing, small enough to cost nothing next to decoding. */
export const CUT_THUMB_WIDTH = 64;
export const CUT_THUMB_HEIGHT = 36;

export interface CutDetectorOptions {
  /** Fewest frames a shot may have (default 8: a third of a second at 24 fps). */
  minShot?: number;
  /** A cut's histogram distance or pixel difference must be at least this many times the local median of the same measure (default 3). */
  ratio?: number;
  /** …and the histogram distance or pixel difference that makes it a cut at least this (0..1) whatever its surroundings (default 0.12). */
  minScore?: number;
  /** Frames either side whose measures make the local median (default 10). */
  window?: number;
  /** A change that comes back within this many frames is a flash, not a cut (default 4). */
  flashFrames?: number;
}

interface ResolvedOptions {
  minShot: number;
  ratio: number;
  minScore: number;
  window: number;
  flashFrames: number;
}

const DEFAULTS: ResolvedOptions = { minShot: 8, ratio: 3, minScore: 0.12, window: 10, flashFrames: 4 };

/** Names the detector and its defaults in the project's record, so cuts found by an older one can be told apart. */
export const CUT_METHOD = `hist+pixel-v1 (${CUT_THUMB_WIDTH}x${CUT_THUMB_HEIGHT}, ratio ${DEFAULTS.ratio}, min score ${DEFAULTS.minScore}, min shot ${DEFAULTS.minShot})`;

function resolveOptions(o: CutDetectorOptions): ResolvedOptions {
  const r = { ...DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as ResolvedOptions;
  const int = (name: keyof ResolvedOptions, lo: number, hi: number): void => {
    const v = r[name];
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`cut detection: ${name} must be a whole number from ${lo} to ${hi}, got ${String(v)}`);
  };
  int('minShot', 1, 10_000);
  int('window', 1, 1000);
  int('flashFrames', 0, 100);
  if (typeof r.ratio !== 'number' || !(r.ratio >= 1 && r.ratio <= 100)) throw new RangeError(`cut detection: ratio must be a number from 1 to 100, got ${String(r.ratio)}`);
  if (typeof r.minScore !== 'number' || !(r.minScore >= 0 && r.minScore <= 1)) throw new RangeError(`cut detection: minScore must be a number from 0 to 1, got ${String(r.minScore)}`);
  return r;
}

// Joint colour histogram: 4 levels per channel (64 bins). Coarse on purpose: with ~2300 pixels a
// finer one is mostly noise. Soft bins (each value shared between the two nearest bin centres):
// with hard ones, a fade moves whole regions across a bin edge in one step, and its smooth change
// would look like a jump.
const LEVELS = 4;
const BINS = LEVELS * LEVELS * LEVELS;
// Luma histogram alongside, finer, since dark footage puts most colours in the first joint bin.
const LUMA_BINS = 32;

/** Soft bin of an 8-bit value among `levels` bins: the lower bin and the weight of the upper one. */
function softBin(v: number, levels: number): [number, number] {
  const width = 256 / levels;
  const p = Math.min(levels - 1, Math.max(0, (v - width / 2) / width));
  const lo = Math.min(levels - 2, Math.floor(p));
  return [lo, p - lo];
}

// Lookup tables: every 8-bit value's soft bin, once.
const COLOUR_BIN = Array.from({ length: 256 }, (_, v) => softBin(v, LEVELS));
const LUMA_BIN = Array.from({ length: 256 }, (_, v) => softBin(v, LUMA_BINS));

/** What is kept per frame: its histograms (normalised) and its luma thumbnail. */
interface FrameSig {
  hist: Float64Array;
  luma: Uint8Array;
}

function signature(rgb: Uint8Array, pixels: number): FrameSig {
  const hist = new Float64Array(BINS + LUMA_BINS);
  const luma = new Uint8Array(pixels);
  for (let p = 0, i = 0; p < pixels; p++, i += 3) {
    const r = rgb[i]!;
    const g = rgb[i + 1]!;
    const b = rgb[i + 2]!;
    const [r0, rw] = COLOUR_BIN[r]!;
    const [g0, gw] = COLOUR_BIN[g]!;
    const [b0, bw] = COLOUR_BIN[b]!;
    for (let dr = 0; dr < 2; dr++) {
      const wr = dr === 0 ? 1 - rw : rw;
      for (let dg = 0; dg < 2; dg++) {
        const wg = wr * (dg === 0 ? 1 - gw : gw);
        const base = (r0 + dr) * LEVELS * LEVELS + (g0 + dg) * LEVELS + b0;
        hist[base]! += wg * (1 - bw);
        hist[base + 1]! += wg * bw;
      }
    }
    // BT.601 luma in integers.
    const y = (77 * r + 150 * g + 29 * b) >> 8;
    luma[p] = y;
    const [y0, yw] = LUMA_BIN[y]!;
    hist[BINS + y0]! += 1 - yw;
    hist[BINS + y0 + 1]! += yw;
  }
  for (let k = 0; k < hist.length; k++) hist[k]! /= pixels;
  return { hist, luma };
}

/** Chi-square distance of two normalised histograms, halved so it lies in 0..1. */
function chiSquare(a: Float64Array, b: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let k = from; k < to; k++) {
    const x = a[k]!;
    const y = b[k]!;
    const sum = x + y;
    if (sum > 0) s += ((x - y) * (x - y)) / sum;
  }
  return s / 2;
}

/** How different two frames look, 0..1: the histogram distance and the pixel difference, averaged. */
export function frameDistance(a: FrameSig, b: FrameSig): { hist: number; pixel: number; score: number } {
  const hist = (chiSquare(a.hist, b.hist, 0, BINS) + chiSquare(a.hist, b.hist, BINS, BINS + LUMA_BINS)) / 2;
  let d = 0;
  const n = a.luma.length;
  for (let i = 0; i < n; i++) d += Math.abs(a.luma[i]! - b.luma[i]!);
  // A mean luma difference of 64 (a quarter of the range) already means a different picture.
  const pixel = Math.min(1, d / n / 64);
  return { hist, pixel, score: (hist + pixel) / 2 };
}

/** Per-frame measurements the decision is made from (index i compares frame i with frame i-1; index 0 is 0). */
export interface CutFeatures {
  hist: Float32Array;
  pixel: Float32Array;
  /** (hist + pixel) / 2: how strong the change is, for ranking. */
  score: Float32Array;
  /**
   * The smallest score between a frame before i and a frame from i on, a few frames apart either
   * way (never the pair i-1, i itself): low when the picture after the change looks like the one
   * before it (a flash, or a blip of another picture), high at a true cut.
   */
  crossScore: Float32Array;
}

/**
 * Streaming analysis: push each thumbnail in order, then `cuts()`. Keeps only the last few
 * thumbnails and a handful of numbers per frame, so memory stays small for long videos.
 */
export class CutAnalyser {
  readonly frameCount: number;
  readonly #pixels: number;
  readonly #opts: ResolvedOptions;
  readonly #features: CutFeatures;
  /** Signatures of the last flashFrames + 2 frames, by index modulo its length. */
  readonly #ring: (FrameSig | null)[];
  #next = 0;

  constructor(frameCount: number, width: number, height: number, options: CutDetectorOptions = {}) {
    if (!Number.isSafeInteger(frameCount) || frameCount < 1) throw new RangeError(`cut detection needs at least one frame, got ${frameCount}`);
    if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
      throw new RangeError(`cut detection: bad thumbnail size ${width}×${height}`);
    }
    this.frameCount = frameCount;
    this.#pixels = width * height;
    this.#opts = resolveOptions(options);
    this.#features = {
      hist: new Float32Array(frameCount),
      pixel: new Float32Array(frameCount),
      score: new Float32Array(frameCount),
      crossScore: new Float32Array(frameCount).fill(1),
    };
    this.#ring = new Array<FrameSig | null>(this.#opts.flashFrames + 2).fill(null);
  }

  get framesSeen(): number {
    return this.#next;
  }

  /** The next frame's RGB24 thumbnail (width*height*3 bytes). */
  push(rgb: Uint8Array): void {
    if (this.#next >= this.frameCount) throw new RangeError(`cut detection: more than the ${this.frameCount} frames announced`);
    if (rgb.length !== this.#pixels * 3) throw new RangeError(`cut detection: a thumbnail has ${rgb.length} bytes, expected ${this.#pixels * 3}`);
    const b = this.#next++;
    const sig = signature(rgb, this.#pixels);
    const ring = this.#ring;
    const f = this.#features;
    const prev = b > 0 ? ring[(b - 1) % ring.length]! : null;
    if (prev) {
      const d = frameDistance(prev, sig);
      f.hist[b] = d.hist;
      f.pixel[b] = d.pixel;
      f.score[b] = d.score;
    }
    // Pairs (a, b) two to flashFrames + 1 frames apart: each stands for every change c with a < c <= b.
    for (let a = b - 2; a >= Math.max(0, b - this.#opts.flashFrames - 1); a--) {
      const s = frameDistance(ring[a % ring.length]!, sig).score;
      for (let c = a + 1; c <= b; c++) if (s < f.crossScore[c]!) f.crossScore[c] = s;
    }
    ring[b % ring.length] = sig;
  }

  features(): CutFeatures {
    const f = this.#features;
    return { hist: f.hist.slice(), pixel: f.pixel.slice(), score: f.score.slice(), crossScore: f.crossScore.slice() };
  }

  /** The cuts among the frames pushed so far: sorted frame indices, each the first frame of a new shot. */
  cuts(): number[] {
    return decideCuts(this.#features, this.#next, this.#opts);
  }
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  const m = values.length >> 1;
  return values.length % 2 === 1 ? values[m]! : (values[m - 1]! + values[m]!) / 2;
}

/**
 * Each measure against its own surroundings: the median over `window` frames either side, leaving
 * out the frame itself and the one either side (so a cut split over two frames, a blended or
 * interlaced transition frame, does not raise its own baseline), and never below `floor`, so on a
 * still picture a small change is not a large ratio.
 */
function localRatio(x: Float32Array, i: number, n: number, window: number, floor: number): number {
  const around: number[] = [];
  for (let j = Math.max(1, i - window); j <= Math.min(n - 1, i + window); j++) {
    if (Math.abs(j - i) > 1) around.push(x[j]!);
  }
  return x[i]! / Math.max(floor, median(around));
}

/**
 * A cut is one change, so it must also stand well above the changes just before it and just after
 * it (2..NEAR_FRAMES frames away, each side's median, so a second cut nearby does not hide it).
 * A fade or a dissolve changes every frame about as much as the last: at its ends, one side is
 * calm and the wider median alone would let the first or last step pass for a cut.
 */
const NEAR_FRAMES = 4;
const NEAR_RATIO = 2;

function standsAlone(x: Float32Array, i: number, n: number): boolean {
  const before: number[] = [];
  const after: number[] = [];
  for (let d = 2; d <= NEAR_FRAMES; d++) {
    if (i - d >= 1) before.push(x[i - d]!);
    if (i + d < n) after.push(x[i + d]!);
  }
  return x[i]! >= NEAR_RATIO * Math.max(median(before), median(after));
}

function qualifies(x: Float32Array, i: number, n: number, o: ResolvedOptions, floor: number): boolean {
  return x[i]! >= o.minScore && localRatio(x, i, n, o.window, floor) >= o.ratio && standsAlone(x, i, n);
}

// Floors of the local baselines: a histogram distance of 0.01 and a pixel difference of 0.02
// (a mean luma change of about one grey level) are what compression noise alone gives.
const HIST_FLOOR = 0.01;
const PIXEL_FLOOR = 0.02;

/** The decision, on features of frames 0..n-1 (exported for tests and benchmarks). */
export function decideCuts(f: CutFeatures, n: number, options: CutDetectorOptions | ResolvedOptions = {}): number[] {
  const o = resolveOptions(options);
  const s = f.score;
  const candidates: { frame: number; score: number }[] = [];
  for (let i = 1; i < n; i++) {
    const si = s[i]!;
    // The colours change (a cut between differently lit shots, even in fast motion), or the
    // picture does (a cut between two framings of one scene, same palette): either, large in
    // itself and far above its surroundings.
    if (!qualifies(f.hist, i, n, o, HIST_FLOOR) && !qualifies(f.pixel, i, n, o, PIXEL_FLOOR)) continue;
    // The strongest change of a burst is the cut; of two equal ones in a row, the first.
    if ((i > 1 && s[i - 1]! >= si) || (i + 1 < n && s[i + 1]! > si)) continue;
    // A flash: a frame after the change looks like one before it.
    if (o.flashFrames > 0 && f.crossScore[i]! < si / 2) continue;
    candidates.push({ frame: i, score: si });
  }
  // Shortest shot: strongest candidates first; one too close to a kept cut or either end is dropped.
  candidates.sort((a, b) => b.score - a.score || a.frame - b.frame);
  const kept: number[] = [];
  for (const c of candidates) {
    if (c.frame < o.minShot || n - c.frame < o.minShot) continue;
    if (kept.some((k) => Math.abs(k - c.frame) < o.minShot)) continue;
    kept.push(c.frame);
  }
  return kept.sort((a, b) => a - b);
}

export interface DetectCutsOptions extends CutDetectorOptions {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number }) => void;
  /** Receives the per-frame measurements (benchmarks, debugging). */
  onFeatures?: (features: CutFeatures) => void;
}

/** The thumbnail geometry: the whole picture squeezed to 64×36 (aspect does not matter for comparing frames). */
export function cutThumbGeometry(): DecodeGeometry {
  // Area averaging: every source pixel counts, so grain and compression noise average out.
  return { width: CUT_THUMB_WIDTH, height: CUT_THUMB_HEIGHT, filter: `scale=${CUT_THUMB_WIDTH}:${CUT_THUMB_HEIGHT}:flags=area,setsar=1` };
}

/**
 * Decodes the whole video once as thumbnails and returns its shot cuts (sorted frame indices,
 * each the first frame of a new shot; 0 < cut < frameCount). CANCELLED when `signal` fires.
 */
export async function detectShotCuts(file: string, source: DecodeSource, opts: DetectCutsOptions): Promise<number[]> {
  const what = `Finding the shot cuts of ${fileLabel(file)}`;
  throwIfAborted(opts.signal, what);
  const geometry = cutThumbGeometry();
  const analyser = new CutAnalyser(source.frameCount, geometry.width, geometry.height, opts);
  const total = source.frameCount;
  // Progress every ~1% (at least every frame for short clips): one callback per frame would cost more than the analysis.
  const step = Math.max(1, Math.floor(total / 100));
  await decodeFrames(file, source, geometry, { start: 0, count: total }, {
    tools: opts.tools,
    signal: opts.signal,
    onFrame: (_index, rgb) => {
      analyser.push(rgb);
      const done = analyser.framesSeen;
      if (done % step === 0 || done === total) opts.onProgress?.({ done, total });
    },
  });
  if (analyser.framesSeen !== total) {
    throw new MediaError('CORRUPT', `${fileLabel(file)} gave ${analyser.framesSeen} of its ${total} frames while finding shot cuts.`);
  }
  opts.onFeatures?.(analyser.features());
  return analyser.cuts();
}
