// Which frames become key frames. Frame indices are 0-based everywhere (as ffmpeg's `n`).
// Shot cuts split the video: nothing is propagated across a cut, so every shot gets its own key
// frame on its first frame, and the plans work inside each shot. A key on the last frame of a shot
// that a cut ends would only serve that one frame, so none is put there (unless it is the shot's
// only frame).
import { CodedError } from '../errors.ts';

export class KeyframePlanError extends CodedError<'BAD_KEYFRAMES'> {
  constructor(message: string) {
    super('BAD_KEYFRAMES', message);
  }
}

function checkCount(frameCount: number): void {
  if (!Number.isInteger(frameCount) || frameCount < 1) throw new KeyframePlanError(`the video has no frames (frame count ${frameCount})`);
}

export interface Shot {
  first: number;
  last: number;
  /** True when a cut follows the shot (false for the video's last shot). */
  cutAfter: boolean;
}

/** The shots that `cuts` (sorted frames, each 0 < c < frameCount, starting a new shot) make. */
export function shotsOf(frameCount: number, cuts: readonly number[] = []): Shot[] {
  checkCount(frameCount);
  const shots: Shot[] = [];
  let first = 0;
  for (const c of cuts) {
    if (!Number.isInteger(c) || c <= first || c >= frameCount) {
      throw new KeyframePlanError(`shot cuts must be increasing frames between 1 and ${frameCount - 1}, got ${cuts.join(', ')}`);
    }
    shots.push({ first, last: c - 1, cutAfter: true });
    first = c;
  }
  shots.push({ first, last: frameCount - 1, cutAfter: false });
  return shots;
}

/** The last frame a plan may put a key on inside `shot`. */
function lastKeyable(shot: Shot): number {
  return shot.cutAfter && shot.last > shot.first ? shot.last - 1 : shot.last;
}

/** Frames 0, n, 2n, … counted again from the first frame of each shot. */
export function everyNth(frameCount: number, n: number, cuts: readonly number[] = []): number[] {
  checkCount(frameCount);
  if (!Number.isInteger(n) || n < 1) throw new KeyframePlanError(`--every needs a whole number of frames ≥ 1, got ${n}`);
  const out: number[] = [];
  for (const shot of shotsOf(frameCount, cuts)) {
    const end = lastKeyable(shot);
    for (let f = shot.first; f <= end; f += n) out.push(f);
  }
  return out;
}

/** Parses "1,12,30" into sorted unique frame indices inside the video. */
export function parseFrameList(text: string, frameCount: number): number[] {
  checkCount(frameCount);
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new KeyframePlanError('no frame numbers given (expected e.g. 0,12,30)');
  const frames = new Set<number>();
  for (const p of parts) {
    if (!/^\d+$/.test(p)) throw new KeyframePlanError(`'${p}' is not a frame number (frames are 0-based whole numbers)`);
    const f = Number(p);
    if (f >= frameCount) throw new KeyframePlanError(`frame ${f} is past the end of the video (frames 0–${frameCount - 1})`);
    frames.add(f);
  }
  return [...frames].sort((a, b) => a - b);
}

export interface AutoOptions {
  min: number;
  max: number;
}

/**
 * Adaptive key frames, in each shot: starting from its first frame, repeatedly inserts the frame
 * that differs most from its predecessor (`diffs[i]` = difference between frame i and i-1) inside
 * any gap longer than `max`, never closer than `min` to the key frames around it, until no gap
 * exceeds `max`.
 */
export function autoKeyframes(diffs: ArrayLike<number>, opts: AutoOptions, cuts: readonly number[] = []): number[] {
  const n = diffs.length;
  checkCount(n);
  const { min, max } = opts;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < 1) throw new KeyframePlanError(`--min and --max must be whole numbers ≥ 1 (got ${min}, ${max})`);
  if (max < 2 * min) throw new KeyframePlanError(`--max (${max}) must be at least twice --min (${min}) so every long gap can be split`);
  for (let i = 0; i < n; i++) {
    const d = diffs[i];
    if (d === undefined || !Number.isFinite(d)) throw new KeyframePlanError(`frame difference ${i} is not a finite number`);
  }
  return shotsOf(n, cuts).flatMap((shot) => autoInShot(diffs, shot, min, max));
}

function autoInShot(diffs: ArrayLike<number>, shot: Shot, min: number, max: number): number[] {
  const keys = [shot.first];
  for (;;) {
    let best = -1;
    let bestDiff = -Infinity;
    for (let k = 0; k < keys.length; k++) {
      const a = keys[k]!;
      const next = keys[k + 1];
      // The tail after the last key frame ends at the shot's last frame and has no key frame to keep away from.
      const end = next ?? shot.last;
      if (end - a <= max) continue;
      const lo = a + min;
      const hi = next === undefined ? lastKeyable(shot) : next - min;
      for (let f = lo; f <= hi; f++) {
        const d = diffs[f]!;
        if (d > bestDiff) {
          bestDiff = d;
          best = f;
        }
      }
    }
    if (best < 0) return keys;
    keys.push(best);
    keys.sort((x, y) => x - y);
  }
}

/** Mean absolute difference of two equally sized 8-bit buffers (0..255). */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`frame buffers differ in size (${a.length} vs ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return a.length === 0 ? 0 : s / a.length;
}
