// Splits a clip into propagation segments around its key frames, shot by shot: nothing is ever
// carried across a shot cut (flow and patches from another shot would only smear it in).
import type { KeyFrame } from './sequence.ts';

export type Segment =
  | { kind: 'key'; key: KeyFrame }
  /** Frames before the shot's first key, propagated backward from it. */
  | { kind: 'head'; key: KeyFrame; frames: number[] }
  /** Frames after the shot's last key, propagated forward from it. */
  | { kind: 'tail'; key: KeyFrame; frames: number[] }
  /** Frames strictly between two keys: both directions, then blended. */
  | { kind: 'interval'; first: KeyFrame; last: KeyFrame; frames: number[] };

/** Frames first..last inclusive: one shot. */
export interface Shot {
  first: number;
  last: number;
}

export interface SegmentPlan {
  segments: Segment[];
  /** Shots with no key frame: nothing can be propagated into them. */
  unkeyed: Shot[];
}

function range(a: number, b: number, step: 1 | -1): number[] {
  const out: number[] = [];
  for (let i = a; step > 0 ? i <= b : i >= b; i += step) out.push(i);
  return out;
}

/**
 * The shots of a clip. `cuts` holds frames that start a new shot (0 < c < frameCount); others
 * are ignored, duplicates and order do not matter.
 */
export function shotsOf(frameCount: number, cuts: readonly number[] = []): Shot[] {
  const starts = [...new Set(cuts.filter((c) => Number.isInteger(c) && c > 0 && c < frameCount))].sort((a, b) => a - b);
  const bounds = [0, ...starts, frameCount];
  const shots: Shot[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) shots.push({ first: bounds[i] as number, last: (bounds[i + 1] as number) - 1 });
  return shots;
}

function planShot(shot: Shot, keys: readonly KeyFrame[], out: Segment[]): void {
  const first = keys[0];
  const last = keys[keys.length - 1];
  if (!first || !last) return;
  if (first.frame > shot.first) out.push({ kind: 'head', key: first, frames: range(first.frame - 1, shot.first, -1) });
  keys.forEach((k, i) => {
    out.push({ kind: 'key', key: k });
    const next = keys[i + 1];
    if (next && next.frame > k.frame + 1) {
      out.push({ kind: 'interval', first: k, last: next, frames: range(k.frame + 1, next.frame - 1, 1) });
    }
  });
  if (last.frame < shot.last) out.push({ kind: 'tail', key: last, frames: range(last.frame + 1, shot.last, 1) });
}

/** Keys must be sorted by frame and distinct. Segments come in time order. */
export function planSegments(frameCount: number, keys: readonly KeyFrame[], cuts: readonly number[] = []): SegmentPlan {
  const plan: SegmentPlan = { segments: [], unkeyed: [] };
  for (const shot of shotsOf(frameCount, cuts)) {
    const inShot = keys.filter((k) => k.frame >= shot.first && k.frame <= shot.last);
    if (inShot.length === 0) plan.unkeyed.push(shot);
    else planShot(shot, inShot, plan.segments);
  }
  return plan;
}

/** Work units of a segment: one per synthesis or blend (interval frames: two syntheses and a blend). */
export function segmentWork(s: Segment): number {
  if (s.kind === 'key') return 1;
  return s.kind === 'interval' ? s.frames.length * 3 : s.frames.length;
}
