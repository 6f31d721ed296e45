// Timeline geometry: a zoom (pixels per frame) and a horizontal scroll, both in pixels.
export interface TimelineView {
  pxPerFrame: number;
  scrollX: number;
}

export const MIN_PX_PER_FRAME = 0.05;
export const MAX_PX_PER_FRAME = 120;

export function frameToX(view: TimelineView, frame: number): number {
  return (frame + 0.5) * view.pxPerFrame - view.scrollX;
}

/** The frame under x (clamped to the clip). */
export function xToFrame(view: TimelineView, x: number, frameCount: number): number {
  const f = Math.floor((x + view.scrollX) / view.pxPerFrame);
  return Math.min(Math.max(0, f), Math.max(0, frameCount - 1));
}

export function contentWidth(view: TimelineView, frameCount: number): number {
  return view.pxPerFrame * frameCount;
}

export function clampScroll(view: TimelineView, width: number, frameCount: number): TimelineView {
  const max = Math.max(0, contentWidth(view, frameCount) - width);
  return { ...view, scrollX: Math.min(max, Math.max(0, view.scrollX)) };
}

/** The zoom at which the whole clip fills `width` (short clips too: no upper cap here). */
export function fitView(width: number, frameCount: number): TimelineView {
  const px = Math.max(MIN_PX_PER_FRAME, width / Math.max(1, frameCount));
  return { pxPerFrame: px, scrollX: 0 };
}

/** Zoom by `factor`, keeping the frame under `anchorX` where it is. Never zooms out past the fit. */
export function zoomAround(view: TimelineView, factor: number, anchorX: number, width: number, frameCount: number): TimelineView {
  const fit = fitView(width, frameCount).pxPerFrame;
  const px = Math.min(Math.max(MAX_PX_PER_FRAME, fit), Math.max(fit, view.pxPerFrame * factor));
  const anchorFrame = (anchorX + view.scrollX) / view.pxPerFrame;
  return clampScroll({ pxPerFrame: px, scrollX: anchorFrame * px - anchorX }, width, frameCount);
}

/** Scrolls the least needed so `frame` is inside [margin, width - margin]. */
export function ensureVisible(view: TimelineView, frame: number, width: number, frameCount: number, margin = 40): TimelineView {
  const x = frameToX(view, frame);
  let scrollX = view.scrollX;
  if (x < margin) scrollX += x - margin;
  else if (x > width - margin) scrollX += x - (width - margin);
  return clampScroll({ ...view, scrollX }, width, frameCount);
}

/** A "nice" ruler step (1, 2, 5 × 10^k frames) with labels at least `minPx` apart. */
export function rulerStep(pxPerFrame: number, minPx = 64): number {
  const raw = minPx / pxPerFrame;
  let base = 1;
  for (;;) {
    for (const m of [1, 2, 5]) {
      if (base * m >= raw) return base * m;
    }
    base *= 10;
  }
}

/** The frames to label between the visible edges. */
export function rulerTicks(view: TimelineView, width: number, frameCount: number, minPx = 64): number[] {
  const step = rulerStep(view.pxPerFrame, minPx);
  const first = Math.max(0, Math.floor(view.scrollX / view.pxPerFrame / step) * step);
  const ticks: number[] = [];
  for (let f = first; f < frameCount; f += step) {
    const x = frameToX(view, f);
    if (x > width + minPx) break;
    if (x >= -minPx) ticks.push(f);
  }
  return ticks;
}

/** A block of the render-status band: frames start..end (inclusive) in one state, at canvas x, w wide. */
export interface RunRect<S extends string> {
  x: number;
  w: number;
  state: S;
  start: number;
  end: number;
}

/**
 * The visible blocks of `runs` in canvas pixels. Each is at least `minPx` wide, so a single out of
 * date frame still shows when the whole clip is fitted (a frame can be a tenth of a pixel).
 */
export function runRects<S extends string>(view: TimelineView, runs: readonly { start: number; end: number; state: S }[], width: number, minPx = 1): RunRect<S>[] {
  const out: RunRect<S>[] = [];
  for (const r of runs) {
    const x = r.start * view.pxPerFrame - view.scrollX;
    const w = Math.max(minPx, (r.end - r.start + 1) * view.pxPerFrame);
    if (x + w < 0 || x > width) continue;
    out.push({ x, w, state: r.state, start: r.start, end: r.end });
  }
  return out;
}
