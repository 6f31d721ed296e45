// The playback clock: which frame to show at a given moment, from the exact rational rate.
// A frame is shown only once its image is ready; when one is late the clock waits for it
// (and counts a stall) instead of showing a frame number over another frame's picture.
import type { Rational } from '../../src-main/api/contract.ts';
import { frameAtElapsed } from './frames.ts';

export interface PlaybackClock {
  /** The frame shown at `originMs`; later frames follow at the video's rate. */
  originFrame: number;
  originMs: number;
}

export interface PlaybackStep {
  /** The frame to show now. */
  frame: number;
  clock: PlaybackClock;
  /** The frame that is due is not loaded yet. */
  waiting: boolean;
  /** The last frame has been shown for its whole duration. */
  ended: boolean;
}

export function startClock(frame: number, frameCount: number, nowMs: number): PlaybackClock {
  // Play from the start when the playhead sits on the last frame.
  return { originFrame: frame >= frameCount - 1 ? 0 : frame, originMs: nowMs };
}

/**
 * One tick: `shown` is the frame on screen. The due frame is origin + floor(elapsed · num / den);
 * if it is not ready the clock restarts at that frame when it becomes ready, so timing resumes from
 * there at the proper rate.
 */
export function playbackStep(
  clock: PlaybackClock,
  shown: number,
  nowMs: number,
  fps: Rational,
  frameCount: number,
  isReady: (frame: number) => boolean,
): PlaybackStep {
  const due = frameAtElapsed(clock.originFrame, nowMs - clock.originMs, fps, frameCount);
  if (due === null && shown >= frameCount - 1) return { frame: shown, clock, waiting: false, ended: true };
  const target = due ?? frameCount - 1;
  if (target === shown) return { frame: shown, clock, waiting: false, ended: false };
  if (isReady(target)) {
    // After a wait (the clock was restarted at this frame) and past the end, the frame gets its
    // full duration from now, the moment it actually appears.
    const next = due === null || target === clock.originFrame ? { originFrame: target, originMs: nowMs } : clock;
    return { frame: target, clock: next, waiting: false, ended: false };
  }
  return { frame: shown, clock: { originFrame: target, originMs: nowMs }, waiting: true, ended: false };
}
