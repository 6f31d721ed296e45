// Render status in the editor: the timeline's band (one block per run of frames in a state, a
// legend with counts, a tooltip on hover), the Output view's badge, and the pure helpers behind
// them. jsdom has no canvas: a do-nothing 2D context stands in, and Konva's node tree is read.
import { describe, expect, it } from 'vitest';
import { act } from 'react';
import Konva from 'konva';
import type { RenderSpan, RenderStatus } from '../../src-main/api/contract.ts';
import { Timeline } from '../../src-renderer/components/Timeline.tsx';
import { OutputStateBadge } from '../../src-renderer/components/OutputStateBadge.tsx';
import { exportReadiness, formatSpans, RENDER_STATE_STYLES, spanTooltip, stateAt, statusOf } from '../../src-renderer/lib/render-status.ts';
import { runRects } from '../../src-renderer/lib/timeline-view.ts';
import { render } from './render-harness.ts';
import { lastStage, useKonvaInJsdom } from './konva-jsdom.ts';

useKonvaInJsdom();
const stage = lastStage;

const spans: RenderSpan[] = [
  { start: 0, end: 19, state: 'rendered' },
  { start: 20, end: 39, state: 'stale' },
  { start: 40, end: 40, state: 'rendered' },
  { start: 41, end: 59, state: 'missing' },
];
const status: RenderStatus = { counts: { rendered: 21, stale: 20, missing: 19, rendering: 0 }, spans };

describe('render status helpers', () => {
  it('finds any frame\'s state', () => {
    const want = (f: number) => (f < 20 ? 'rendered' : f < 40 ? 'stale' : f === 40 ? 'rendered' : 'missing');
    for (let f = 0; f < 60; f++) expect(stateAt(spans, f)).toBe(want(f));
    expect(stateAt(spans, 99)).toBe('missing');
    expect(stateAt([], 0)).toBe('missing');
  });

  it('older services without a status: renders count as up to date', () => {
    const s = statusOf({ renderedFrames: 10, source: { frameCount: 24 } as never });
    expect(s.counts).toEqual({ rendered: 10, stale: 0, missing: 14, rendering: 0 });
  });

  it('blocks are at least a pixel wide, and off-screen ones are dropped', () => {
    const view = { pxPerFrame: 0.1, scrollX: 0 };
    const r = runRects(view, spans, 800);
    expect(r.map((x) => x.state)).toEqual(['rendered', 'stale', 'rendered', 'missing']);
    expect(r[2]!.w).toBe(1); // one frame: 0.1 px, drawn 1 px wide
    expect(r[3]!.w).toBeCloseTo(1.9, 9);
    // Frames 25..39 in view (x 0..300): the first run ends at 19, the last starts at x 320.
    expect(runRects({ pxPerFrame: 20, scrollX: 500 }, spans, 300).map((x) => x.start)).toEqual([20, 40]);
    expect(runRects({ pxPerFrame: 20, scrollX: 500 }, spans, 330).map((x) => x.start)).toEqual([20, 40, 41]);
  });

  it('says what an export writes', () => {
    const r = exportReadiness({ renderStatus: { counts: { rendered: 1, stale: 1, missing: 2, rendering: 0 }, spans: [] }, renderedFrames: 2, source: { frameCount: 4 } as never }, []);
    expect(r.lines).toEqual(['1 frame out of date: a key frame or a setting changed since they were rendered.', '2 frames not rendered yet.']);
    expect(r.needsWarning).toBe(true);
    expect(exportReadiness({ renderStatus: status, renderedFrames: 0, source: { frameCount: 60 } as never }, []).lines).toHaveLength(2);
    expect(spanTooltip(spans[1]!)).toBe(`Frames 20–39: Out of date. ${RENDER_STATE_STYLES.stale.description}.`);
    expect(spanTooltip(spans[2]!)).toMatch(/^Frame 40: Rendered/);
  });
});

describe('Timeline render-status band', () => {
  it('draws a block per run in its colour, publishes the spans, and names the run under the pointer', () => {
    const host = render(<Timeline frameCount={60} frame={0} keyframes={[]} thumbnailsUrl="" renderStatus={status} onSeek={() => {}} onMoveKeyframe={() => {}} />);
    expect(host.querySelector('[data-testid="timeline"]')!.getAttribute('data-render-status')).toBe(formatSpans(spans));
    const s = stage();
    const rects = s.find('.render-status') as Konva.Rect[];
    expect(rects.map((r) => r.fill())).toEqual(['rendered', 'stale', 'rendered', 'missing'].map((k) => RENDER_STATE_STYLES[k as 'rendered'].colour));
    const ppf = s.width() / 60;
    expect(rects[1]!.x()).toBeCloseTo(20 * ppf, 5);
    expect(rects[1]!.width()).toBeCloseTo(20 * ppf, 5);
    const legend = host.querySelector('[data-testid="render-legend"]')!;
    expect(legend.textContent).toContain('Out of date 20');
    expect(legend.textContent).toContain('Not rendered 19');
    expect(legend.textContent).not.toContain('Rendering');

    // Pointer on the band over frame 30: its run's tooltip.
    act(() => {
      s.setPointersPositions({ clientX: 30.5 * ppf, clientY: rects[1]!.y() + 1 } as unknown as MouseEvent);
      s.fire('mousemove', { evt: new MouseEvent('mousemove') }, true);
    });
    expect(host.querySelector('[data-testid="timeline"]')!.getAttribute('title')).toMatch(/^Frames 20–39: Out of date/);
    // Over the thumbnails: no band tooltip.
    act(() => {
      s.setPointersPositions({ clientX: 30.5 * ppf, clientY: 40 } as unknown as MouseEvent);
      s.fire('mousemove', { evt: new MouseEvent('mousemove') }, true);
    });
    expect(host.querySelector('[data-testid="timeline"]')!.getAttribute('title')).toBeNull();
  });

  it('no status, no band', () => {
    const host = render(<Timeline frameCount={60} frame={0} keyframes={[]} thumbnailsUrl="" onSeek={() => {}} onMoveKeyframe={() => {}} />);
    expect(stage().find('.render-status')).toHaveLength(0);
    expect(host.querySelector('[data-testid="render-legend"]')).toBeNull();
  });
});

describe('Output view badge', () => {
  it('shows "Out of date" on a stale frame only', () => {
    let el = render(<OutputStateBadge project={{ renderStatus: status }} frame={25} />);
    expect(el.querySelector('[data-testid="output-state"]')?.textContent).toBe('Out of date');
    el = render(<OutputStateBadge project={{ renderStatus: status }} frame={5} />);
    expect(el.querySelector('[data-testid="output-state"]')).toBeNull();
    el = render(<OutputStateBadge project={{ renderStatus: status }} frame={50} />);
    expect(el.querySelector('[data-testid="output-state"]')).toBeNull();
  });
});
