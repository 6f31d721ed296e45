import { describe, expect, it } from 'vitest';
import type { KeyframeInfo } from '../../src-main/api/contract.ts';
import { KEYFRAME_STATES, KEYFRAME_STYLES, keyframeAt, moveTarget, nextKeyframe, prevKeyframe } from '../../src-renderer/lib/keyframes.ts';

const kf = (frame: number, state: KeyframeInfo['state'] = 'none'): KeyframeInfo => ({ frame, state, hasMask: false, prompt: null, updatedAt: 't' });
const list = [kf(12, 'edited'), kf(0), kf(30, 'stale')];

describe('key frames', () => {
  it('jumps to the previous / next key frame in frame order', () => {
    expect(nextKeyframe(list, 0)).toBe(12);
    expect(nextKeyframe(list, 12)).toBe(30);
    expect(nextKeyframe(list, 30)).toBeUndefined();
    expect(prevKeyframe(list, 30)).toBe(12);
    expect(prevKeyframe(list, 5)).toBe(0);
    expect(prevKeyframe(list, 0)).toBeUndefined();
    expect(keyframeAt(list, 12)?.state).toBe('edited');
    expect(keyframeAt(list, 13)).toBeUndefined();
  });

  it('moves a marker only onto a free frame inside the clip', () => {
    expect(moveTarget(list, 12, 20, 40)).toBe(20);
    expect(moveTarget(list, 12, 30, 40)).toBeNull();
    expect(moveTarget(list, 12, 12, 40)).toBeNull();
    expect(moveTarget(list, 12, 99, 40)).toBe(39);
    expect(moveTarget(list, 12, 20.6, 40)).toBe(21);
  });

  it('gives each state a distinct colour and shape', () => {
    const fills = new Set(KEYFRAME_STATES.map((s) => `${KEYFRAME_STYLES[s].fill}/${KEYFRAME_STYLES[s].shape}`));
    expect(fills.size).toBe(4);
    const shapes = new Set(KEYFRAME_STATES.map((s) => KEYFRAME_STYLES[s].shape));
    expect(shapes.size).toBe(4);
  });
});
