// The timeline's shot-cut lines: placement, visibility with zoom and scroll, hover and tooltip.
// (Konva draws on a canvas jsdom lacks; the editor's e2e run shows them in Chromium.)
import { describe, expect, it } from 'vitest';
import { cutAt, cutMarks, cutTooltip, SHOT_CUT_LABEL } from '../../src-renderer/lib/shot-cuts.ts';
import { fitView, xToFrame } from '../../src-renderer/lib/timeline-view.ts';

describe('shot-cut markers', () => {
  it('sit on the boundary before the first frame of each new shot', () => {
    const view = { pxPerFrame: 10, scrollX: 0 };
    const marks = cutMarks(view, [12, 30], 800, 60);
    expect(marks).toEqual([{ frame: 12, x: 120 }, { frame: 30, x: 300 }]);
    // Just left of the line is the old shot's last frame, just right the new shot's first.
    expect(xToFrame(view, marks[0]!.x - 0.5, 60)).toBe(11);
    expect(xToFrame(view, marks[0]!.x + 0.5, 60)).toBe(12);
  });

  it('follow zoom and scroll, and only those in view or inside the clip are drawn', () => {
    const marks = cutMarks({ pxPerFrame: 20, scrollX: 500 }, [10, 30, 70], 400, 60);
    expect(marks).toEqual([{ frame: 30, x: 100 }]);
    expect(cutMarks(fitView(800, 40), [0, 40, 41, -1, 2.5], 800, 40)).toEqual([]);
  });

  it('are found under the pointer with some slack, the nearest first', () => {
    const marks = cutMarks({ pxPerFrame: 2, scrollX: 0 }, [10, 13], 800, 100);
    expect(cutAt(marks, 21)?.frame).toBe(10);
    expect(cutAt(marks, 25)?.frame).toBe(13);
    expect(cutAt(marks, 40)).toBeNull();
  });

  it('say what they are', () => {
    expect(cutTooltip(12)).toBe(`${SHOT_CUT_LABEL}: frame 12 starts a new shot (after frame 11)`);
    expect(SHOT_CUT_LABEL).toBe('Shot cut');
  });

});
