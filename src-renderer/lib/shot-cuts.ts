// Shot-cut markers on the timeline: where each cut's line goes (the boundary between the last
// frame of one shot and the first of the next), which are in view, and which one the pointer is on.
import type { TimelineView } from './timeline-view.ts';

export const SHOT_CUT_COLOUR = '#4fd1e8';
export const SHOT_CUT_LABEL = 'Shot cut';

export interface CutMark {
  /** The first frame of the new shot. */
  frame: number;
  /** Canvas x of the boundary before `frame`. */
  x: number;
}

/** The cuts inside the clip whose boundary lies within the visible width (a pixel of slack either side). */
export function cutMarks(view: TimelineView, cuts: readonly number[], width: number, frameCount: number): CutMark[] {
  const marks: CutMark[] = [];
  for (const frame of cuts) {
    if (!Number.isInteger(frame) || frame <= 0 || frame >= frameCount) continue;
    const x = frame * view.pxPerFrame - view.scrollX;
    if (x >= -1 && x <= width + 1) marks.push({ frame, x });
  }
  return marks;
}

/** The mark within `tolerance` pixels of `x` (the nearest), or null: lines are thin, so hovering is forgiving. */
export function cutAt(marks: readonly CutMark[], x: number, tolerance = 4): CutMark | null {
  let best: CutMark | null = null;
  for (const m of marks) {
    const d = Math.abs(m.x - x);
    if (d <= tolerance && (best === null || d < Math.abs(best.x - x))) best = m;
  }
  return best;
}

/** The tooltip: what the line is, and the frames either side. */
export function cutTooltip(frame: number): string {
  return `${SHOT_CUT_LABEL}: frame ${frame} starts a new shot (after frame ${frame - 1})`;
}
