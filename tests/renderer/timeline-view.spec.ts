import { describe, expect, it } from 'vitest';
import { ensureVisible, fitView, frameToX, rulerStep, rulerTicks, xToFrame, zoomAround } from '../../src-renderer/lib/timeline-view.ts';

describe('timeline geometry', () => {
  it('maps x to the frame under it and back to the frame centre', () => {
    const v = { pxPerFrame: 10, scrollX: 0 };
    expect(xToFrame(v, 0, 24)).toBe(0);
    expect(xToFrame(v, 9.99, 24)).toBe(0);
    expect(xToFrame(v, 10, 24)).toBe(1);
    expect(xToFrame(v, 10000, 24)).toBe(23);
    expect(xToFrame(v, -50, 24)).toBe(0);
    for (let f = 0; f < 24; f++) expect(xToFrame(v, frameToX(v, f), 24)).toBe(f);
    const scrolled = { pxPerFrame: 4, scrollX: 100 };
    for (let f = 25; f < 200; f += 7) expect(xToFrame(scrolled, frameToX(scrolled, f), 1000)).toBe(f);
  });

  it('fits the clip and zooms around the anchor without drifting', () => {
    const fit = fitView(800, 200);
    expect(fit.pxPerFrame).toBe(4);
    const z = zoomAround(fit, 2, 400, 800, 200);
    expect(z.pxPerFrame).toBe(8);
    // The frame under x=400 stays under x=400.
    expect(xToFrame(z, 400, 200)).toBe(xToFrame(fit, 400, 200));
    // Zooming out never goes past the fit.
    expect(zoomAround(fit, 0.1, 400, 800, 200).pxPerFrame).toBe(4);
  });

  it('scrolls just enough to keep the playhead visible', () => {
    const v = { pxPerFrame: 20, scrollX: 0 };
    const moved = ensureVisible(v, 100, 800, 1000, 40);
    const x = frameToX(moved, 100);
    expect(x).toBeGreaterThanOrEqual(40);
    expect(x).toBeLessThanOrEqual(760);
    expect(ensureVisible(v, 5, 800, 1000)).toEqual(v);
  });

  it('chooses readable ruler steps', () => {
    expect(rulerStep(20)).toBe(5);
    expect(rulerStep(64)).toBe(1);
    expect(rulerStep(1)).toBe(100);
    expect(rulerStep(0.3)).toBe(500);
    const ticks = rulerTicks({ pxPerFrame: 10, scrollX: 0 }, 300, 24);
    expect(ticks).toEqual([0, 10, 20]);
  });
});

describe('fit', () => {
  it('fills the width even for a short clip', () => {
    expect(fitView(1440, 16).pxPerFrame).toBe(90);
    expect(fitView(1440, 4).pxPerFrame).toBe(360);
    expect(zoomAround(fitView(1440, 4), 2, 0, 1440, 4).pxPerFrame).toBe(360);
  });
});
