// Key-frame queries and how each state looks on the timeline.
import type { KeyframeInfo, KeyframeState } from '../../src-main/api/contract.ts';

export function keyframeAt(list: readonly KeyframeInfo[], frame: number): KeyframeInfo | undefined {
  return list.find((k) => k.frame === frame);
}

/** The first key frame after `frame`, or undefined. */
export function nextKeyframe(list: readonly KeyframeInfo[], frame: number): number | undefined {
  let best: number | undefined;
  for (const k of list) if (k.frame > frame && (best === undefined || k.frame < best)) best = k.frame;
  return best;
}

/** The last key frame before `frame`, or undefined. */
export function prevKeyframe(list: readonly KeyframeInfo[], frame: number): number | undefined {
  let best: number | undefined;
  for (const k of list) if (k.frame < frame && (best === undefined || k.frame > best)) best = k.frame;
  return best;
}

export interface StateStyle {
  label: string;
  description: string;
  fill: string;
  stroke: string;
  /** Marker shape: colour is not the only cue. */
  shape: 'diamond-outline' | 'diamond' | 'circle' | 'triangle';
}

export const KEYFRAME_STYLES: Record<KeyframeState, StateStyle> = {
  none: { label: 'Empty', description: 'key frame without an edited or translated image', fill: 'transparent', stroke: '#b8bfcc', shape: 'diamond-outline' },
  edited: { label: 'Edited', description: 'an image was imported for this key frame', fill: '#e7b944', stroke: '#f5d27a', shape: 'diamond' },
  translated: { label: 'Translated', description: 'translated by the engine', fill: '#46c480', stroke: '#8fe3b3', shape: 'circle' },
  stale: { label: 'Stale', description: 'settings or mask changed since translation', fill: '#e0605a', stroke: '#f39b96', shape: 'triangle' },
};

export const KEYFRAME_STATES: readonly KeyframeState[] = ['none', 'edited', 'translated', 'stale'];

/** Where a dragged marker lands: a free frame, or null when taken or unchanged. */
export function moveTarget(list: readonly KeyframeInfo[], from: number, to: number, frameCount: number): number | null {
  const t = Math.min(Math.max(0, Math.round(to)), frameCount - 1);
  if (t === from) return null;
  if (list.some((k) => k.frame === t)) return null;
  return t;
}

// The "Key frames…" dialog: what the artist typed, and what the preview shows.

export type PlanKind = 'every' | 'auto';

export interface PlanInput {
  kind: PlanKind;
  every: string;
  min: string;
  max: string;
}

export type PlanChoice = { every: number } | { auto: { min: number; max: number } };

function wholeNumber(text: string): number | null {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

/** The plan the fields ask for, or one plain line saying what to fix. */
export function planFromInput(input: PlanInput, frameCount: number): { plan: PlanChoice } | { error: string } {
  if (input.kind === 'every') {
    const n = wholeNumber(input.every);
    if (n === null || n < 1) return { error: 'Type how many frames apart the key frames go (a whole number, 1 or more).' };
    if (n > frameCount) return { error: `The clip has ${frameCount} frames: choose at most ${frameCount}.` };
    return { plan: { every: n } };
  }
  const min = wholeNumber(input.min);
  const max = wholeNumber(input.max);
  if (min === null || min < 1) return { error: 'The closest gap must be a whole number of frames, 1 or more.' };
  if (max === null || max < 2) return { error: 'The longest gap must be a whole number of frames, 2 or more.' };
  if (max < 2 * min) return { error: `The longest gap must be at least twice the closest (${2 * min} or more).` };
  return { plan: { auto: { min, max } } };
}

/** Left edge of a frame's marker on a mini timeline, in percent. */
export function markerPercent(frame: number, frameCount: number): number {
  return frameCount <= 1 ? 0 : (frame / (frameCount - 1)) * 100;
}

/** One line per removed key frame that holds the artist's work: "Frame 12: image, mask". */
export function removedWithEdits(removed: ReadonlyArray<{ frame: number; edits: readonly string[] }>): string[] {
  return removed.filter((r) => r.edits.length > 0).map((r) => `Frame ${r.frame}: ${r.edits.join(', ')}`);
}

/** "12 key frames (5 new, 3 removed)". */
export function planSummary(preview: { frames: readonly number[]; added: readonly number[]; removed: readonly unknown[] }): string {
  const parts = [`${preview.added.length} new`];
  if (preview.removed.length > 0) parts.push(`${preview.removed.length} removed`);
  return `${preview.frames.length} key frame${preview.frames.length === 1 ? '' : 's'} (${parts.join(', ')})`;
}

/** Frames in steps of `size` (the export for painting runs one request per step: progress, stopping). */
export function inSteps(frames: readonly number[], size: number): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`step size must be a whole number ≥ 1 (got ${size}).`);
  const out: number[][] = [];
  for (let i = 0; i < frames.length; i += size) out.push(frames.slice(i, i + size));
  return out;
}

/** "about 12 s left" from the time spent on `done` of `total` (null before the first step ends). */
export function etaText(elapsedMs: number, done: number, total: number): string | null {
  if (done <= 0 || done >= total) return null;
  const s = Math.ceil(((elapsedMs / done) * (total - done)) / 1000);
  return s < 60 ? `about ${s} s left` : `about ${Math.ceil(s / 60)} min left`;
}
