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
