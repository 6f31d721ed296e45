import { describe, expect, it } from 'vitest';
import { clampFrame, formatFrameTime, frameAtElapsed, frameStartMs, stepFrame } from '../../src-renderer/lib/frames.ts';

describe('frame arithmetic', () => {
  it('clamps and steps inside the clip', () => {
    expect(clampFrame(-3, 24)).toBe(0);
    expect(clampFrame(30, 24)).toBe(23);
    expect(clampFrame(5.9, 24)).toBe(5);
    expect(stepFrame(20, 10, 24)).toBe(23);
    expect(stepFrame(3, -10, 24)).toBe(0);
    expect(stepFrame(3, 1, 24)).toBe(4);
  });

  it('plays at the exact rational rate: floor(elapsed * num / den)', () => {
    const ntsc = { num: 30000, den: 1001 };
    // Frame n starts at n * 1001/30000 s: just before and at the boundary of frame 1000.
    const t1000 = frameStartMs(1000, ntsc);
    expect(t1000).toBeCloseTo(33366.667, 2);
    expect(frameAtElapsed(0, t1000 - 0.01, ntsc, 5000)).toBe(999);
    expect(frameAtElapsed(0, t1000 + 0.01, ntsc, 5000)).toBe(1000);
    // A float step of 1/29.97 would drift; the rational formula lands exactly on whole seconds at 24 fps.
    expect(frameAtElapsed(10, 1000, { num: 24, den: 1 }, 100)).toBe(34);
    expect(frameAtElapsed(10, 999.9, { num: 24, den: 1 }, 100)).toBe(33);
    expect(frameAtElapsed(0, 5000, { num: 24, den: 1 }, 24)).toBeNull();
    expect(frameAtElapsed(0, -5, { num: 24, den: 1 }, 24)).toBe(0);
  });

  it('formats the frame start time from the rational rate', () => {
    expect(formatFrameTime(0, { num: 24, den: 1 })).toBe('0:00.000');
    expect(formatFrameTime(36, { num: 24, den: 1 })).toBe('0:01.500');
    expect(formatFrameTime(1800, { num: 30000, den: 1001 })).toBe('1:00.060');
  });
});
