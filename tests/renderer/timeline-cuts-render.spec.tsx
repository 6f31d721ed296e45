// The Timeline component draws a line at each shot cut and shows "Shot cut" when the pointer is
// on one. jsdom has no canvas, so a do-nothing 2D context stands in: Konva's node tree (what is
// drawn, where) is what the test reads.
import { describe, expect, it } from 'vitest';
import { act } from 'react';
import Konva from 'konva';
import { Timeline } from '../../src-renderer/components/Timeline.tsx';
import { render } from './render-harness.ts';
import { lastStage, useKonvaInJsdom } from './konva-jsdom.ts';

useKonvaInJsdom();
const stage = lastStage;

describe('Timeline shot cuts', () => {
  it('draws a thin line at each cut, publishes them, and names the one under the pointer', () => {
    const host = render(
      <Timeline frameCount={60} frame={0} keyframes={[]} thumbnailsUrl="" cuts={[12, 30]} onSeek={() => {}} onMoveKeyframe={() => {}} />,
    );
    expect(host.querySelector('[data-testid="timeline"]')!.getAttribute('data-cuts')).toBe('12 30');
    const s = stage();
    const lines = s.find('.shot-cut') as Konva.Line[];
    expect(lines).toHaveLength(2);
    const ppf = s.width() / 60;
    const xs = lines.map((l) => l.points()[0]!);
    expect(xs[0]).toBeCloseTo(12 * ppf, 5);
    expect(xs[1]).toBeCloseTo(30 * ppf, 5);
    expect(s.find('Label')).toHaveLength(0);
    expect(host.querySelector('[data-testid="cut-legend"]')?.textContent).toMatch(/Shot cut/);

    // Pointer on the first line, over the strip: the tooltip appears.
    act(() => {
      s.setPointersPositions({ clientX: xs[0]! + 1, clientY: 40 } as unknown as MouseEvent);
      s.fire('mousemove', { evt: new MouseEvent('mousemove') }, true);
    });
    const label = stage().find('Label');
    expect(label).toHaveLength(1);
    expect((label[0] as Konva.Label).getText().text()).toBe('Shot cut · 12');
    expect(host.querySelector('[data-testid="timeline"]')!.getAttribute('title')).toMatch(/^Shot cut: frame 12 starts a new shot/);

    // Away from any line: gone.
    act(() => {
      s.setPointersPositions({ clientX: (xs[0]! + xs[1]!) / 2, clientY: 40 } as unknown as MouseEvent);
      s.fire('mousemove', { evt: new MouseEvent('mousemove') }, true);
    });
    expect(stage().find('Label')).toHaveLength(0);
  });

  it('draws nothing without cuts', () => {
    const host = render(<Timeline frameCount={60} frame={0} keyframes={[]} thumbnailsUrl="" onSeek={() => {}} onMoveKeyframe={() => {}} />);
    expect(stage().find('.shot-cut')).toHaveLength(0);
    expect(host.querySelector('[data-testid="cut-legend"]')).toBeNull();
  });
});
