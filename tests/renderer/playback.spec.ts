import { describe, expect, it } from 'vitest';
import { frameStartMs } from '../../src-renderer/lib/frames.ts';
import { playbackStep, startClock, type PlaybackClock } from '../../src-renderer/lib/playback.ts';

const ntsc = { num: 30000, den: 1001 };
const all = () => true;

/** Runs the clock at a 60 Hz display from `start` until it ends or `maxMs`; returns the frames shown and when. */
function play(start: number, count: number, fps: { num: number; den: number }, isReady: (f: number, t: number) => boolean, maxMs = 60_000) {
  let clock: PlaybackClock = startClock(start, count, 0);
  let shown = clock.originFrame;
  const log: Array<[number, number]> = [[shown, 0]];
  let stalls = 0;
  let waiting = false;
  for (let t = 1000 / 60; t < maxMs; t += 1000 / 60) {
    const s = playbackStep(clock, shown, t, fps, count, (f) => isReady(f, t));
    clock = s.clock;
    if (s.waiting && !waiting) stalls++;
    waiting = s.waiting;
    if (s.frame !== shown) log.push([s.frame, t]);
    shown = s.frame;
    if (s.ended) return { log, stalls, endedAt: t };
  }
  return { log, stalls, endedAt: null };
}

describe('playback clock', () => {
  it('shows every frame at its exact rational start time when frames are ready', () => {
    const { log, stalls, endedAt } = play(0, 100, ntsc, all);
    expect(stalls).toBe(0);
    expect(log.map(([f]) => f)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // Each frame appears on the first display refresh at or after its start time.
    for (const [f, t] of log) {
      expect(t).toBeGreaterThanOrEqual(frameStartMs(f, ntsc) - 1e-9);
      expect(t - frameStartMs(f, ntsc)).toBeLessThan(1000 / 60);
    }
    expect(endedAt).toBeGreaterThanOrEqual(frameStartMs(100, ntsc));
  });

  it('starts over from frame 0 at the end of the clip', () => {
    expect(startClock(23, 24, 5)).toEqual({ originFrame: 0, originMs: 5 });
    expect(startClock(10, 24, 5)).toEqual({ originFrame: 10, originMs: 5 });
  });

  it('waits for a late frame instead of showing it before it is ready, then keeps the rate', () => {
    // Frame 5 becomes ready only at 1 s; the rest are ready at once.
    const fps = { num: 24, den: 1 };
    const { log, stalls } = play(0, 12, fps, (f, t) => f !== 5 || t >= 1000);
    expect(stalls).toBe(1);
    expect(log.map(([f]) => f)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const at = new Map(log);
    expect(at.get(5)!).toBeGreaterThanOrEqual(1000);
    // After the stall, frame 6 follows one frame duration (1/24 s) after frame 5, to a display refresh.
    expect(at.get(6)! - at.get(5)!).toBeGreaterThanOrEqual(1000 / 24 - 1e-9);
    expect(at.get(6)! - at.get(5)!).toBeLessThan(1000 / 24 + 1000 / 60);
  });

  it('does not advance on a tick before the next frame is due', () => {
    const clock = { originFrame: 3, originMs: 100 };
    const s = playbackStep(clock, 3, 100 + 40, { num: 24, den: 1 }, 10, all);
    expect(s).toEqual({ frame: 3, clock, waiting: false, ended: false });
    expect(playbackStep(clock, 3, 100 + 42, { num: 24, den: 1 }, 10, all).frame).toBe(4);
  });
});
