// Frame arithmetic. Time is a frame index or an exact rational rate, never a float second.
import type { Rational } from '../../src-main/api/contract.ts';

export function clampFrame(frame: number, frameCount: number): number {
  if (frameCount <= 0) return 0;
  return Math.min(frameCount - 1, Math.max(0, Math.trunc(frame)));
}

export function stepFrame(frame: number, delta: number, frameCount: number): number {
  return clampFrame(frame + delta, frameCount);
}

/**
 * The frame to show `elapsedMs` after playback started at `startFrame`:
 * start + floor(elapsed * num / den), elapsed in seconds, computed from the exact rate.
 * Returns null once past the last frame (the caller stops or loops).
 */
export function frameAtElapsed(startFrame: number, elapsedMs: number, fps: Rational, frameCount: number): number | null {
  if (fps.num <= 0 || fps.den <= 0) return null;
  const advanced = Math.floor((Math.max(0, elapsedMs) * fps.num) / (fps.den * 1000));
  const frame = startFrame + advanced;
  return frame < frameCount ? frame : null;
}

/** Start time (ms, relative to frame 0) of a frame: frame * den / num seconds. */
export function frameStartMs(frame: number, fps: Rational): number {
  return (frame * fps.den * 1000) / fps.num;
}

/**
 * The frame's start in whole milliseconds, rounded to the nearest (halves up): frame * den / num
 * seconds computed in exact integers (BigInt), so no float error can tip the rounding
 * (frame 7 at 24 fps is 291.67 ms → 292).
 */
export function frameStartMsRounded(frame: number, fps: Rational): number {
  const num = BigInt(fps.num);
  const twice = 2n * BigInt(Math.trunc(frame)) * BigInt(fps.den) * 1000n;
  return Number((twice + num) / (2n * num));
}

/** "m:ss.mmm" of the frame's start, for display next to the frame index. */
export function formatFrameTime(frame: number, fps: Rational): string {
  if (fps.num <= 0 || fps.den <= 0) return '–';
  const ms = frameStartMsRounded(frame, fps);
  const m = Math.floor(ms / 60000);
  const s = Math.floor((ms % 60000) / 1000);
  return `${m}:${String(s).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}

export function formatFps(fps: Rational): string {
  const v = fps.num / fps.den;
  return fps.den === 1 ? `${fps.num} fps` : `${fps.num}/${fps.den} (${v.toFixed(3)} fps)`;
}
