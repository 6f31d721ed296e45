import { describe, expect, it } from 'vitest';
import { fitPanes } from '../../src-renderer/components/use-fit.ts';

describe('preview pane fitting', () => {
  it('keeps the aspect and fits the tighter side', () => {
    expect(fitPanes(800, 600, 128, 64, 1, 10)).toEqual({ w: 800, h: 400 });
    expect(fitPanes(800, 200, 128, 64, 1, 10)).toEqual({ w: 400, h: 200 });
    expect(fitPanes(810, 600, 256, 192, 2, 10)).toEqual({ w: 400, h: 300 });
  });
});
