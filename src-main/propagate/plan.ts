// Splits a clip into propagation segments around its key frames.
import type { KeyFrame } from './sequence.ts';

export type Segment =
  | { kind: 'key'; key: KeyFrame }
  /** Frames before the first key, propagated backward from it. */
  | { kind: 'head'; key: KeyFrame; frames: number[] }
  /** Frames after the last key, propagated forward from it. */
  | { kind: 'tail'; key: KeyFrame; frames: number[] }
  /** Frames strictly between two keys: both directions, then blended. */
  | { kind: 'interval'; first: KeyFrame; last: KeyFrame; frames: number[] };

function range(a: number, b: number, step: 1 | -1): number[] {
  const out: number[] = [];
  for (let i = a; step > 0 ? i <= b : i >= b; i += step) out.push(i);
  return out;
}

/** Keys must be sorted by frame and distinct. Segments come in time order. */
export function planSegments(frameCount: number, keys: readonly KeyFrame[]): Segment[] {
  const first = keys[0];
  const last = keys[keys.length - 1];
  if (!first || !last) return [];
  const out: Segment[] = [];
  if (first.frame > 0) out.push({ kind: 'head', key: first, frames: range(first.frame - 1, 0, -1) });
  keys.forEach((k, i) => {
    out.push({ kind: 'key', key: k });
    const next = keys[i + 1];
    if (next && next.frame > k.frame + 1) {
      out.push({ kind: 'interval', first: k, last: next, frames: range(k.frame + 1, next.frame - 1, 1) });
    }
  });
  if (last.frame < frameCount - 1) out.push({ kind: 'tail', key: last, frames: range(last.frame + 1, frameCount - 1, 1) });
  return out;
}

/** Work units of a segment: one per synthesis or blend (interval frames: two syntheses and a blend). */
export function segmentWork(s: Segment): number {
  if (s.kind === 'key') return 1;
  return s.kind === 'interval' ? s.frames.length * 3 : s.frames.length;
}
