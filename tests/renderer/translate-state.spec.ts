import { describe, expect, it } from 'vitest';
import type { Capabilities, JobInfo, KeyframeInfo } from '../../src-main/api/contract.ts';
import { CHECKING_ENGINE, countStates, engineReason, formatStateCounts, keptNote, translateBlocker } from '../../src-renderer/lib/translate.ts';

const caps = (available: boolean, message: string | null = null): Capabilities => ({
  ffmpeg: { available: true, message: null },
  propagate: { available: true, message: null },
  translate: { available, message },
});
const kf = (frame: number, state: KeyframeInfo['state']): KeyframeInfo => ({ frame, state, hasMask: false, prompt: null, updatedAt: 't' });
const job = (kind: JobInfo['kind'], status: JobInfo['status']): JobInfo => ({
  id: `${kind}-${status}`, kind, status, done: 0, total: 2, etaSeconds: null, device: 'cpu', note: null, error: null, output: null,
});
const ready = { keyframes: [kf(0, 'none'), kf(8, 'translated')], settings: { model: '/m/sd', controlnetModel: '/m/cn' } };

describe('translate availability', () => {
  it("shows the engine's own reason first, exactly", () => {
    expect(engineReason(null)).toBe(CHECKING_ENGINE);
    expect(translateBlocker(null, ready, [])).toBe(CHECKING_ENGINE);
    expect(translateBlocker(caps(false, 'ControlNet model /x not found'), ready, [])).toBe('ControlNet model /x not found');
    expect(translateBlocker(caps(false), ready, [])).toBe('The translation engine is not available.');
  });

  it('then what the project lacks: models, key frames, a free engine', () => {
    expect(translateBlocker(caps(true), ready, [])).toBeNull();
    expect(translateBlocker(caps(true), ready, [], [8])).toBeNull();
    expect(translateBlocker(caps(true), ready, [], [3])).toBe('Only key frames can be translated.');
    expect(translateBlocker(caps(true), { ...ready, settings: { controlnetModel: '/m/cn' } }, [])).toMatch(/checkpoint/);
    expect(translateBlocker(caps(true), { ...ready, settings: { model: '/m/sd', controlnetModel: null } }, [])).toMatch(/ControlNet/);
    expect(translateBlocker(caps(true), { ...ready, keyframes: [] }, [])).toBe('Add a key frame first (K).');
    expect(translateBlocker(caps(true), ready, [job('translate', 'running')])).toBe('A translation is already running.');
    expect(translateBlocker(caps(true), ready, [job('translate', 'done'), job('propagate', 'running')])).toBeNull();
  });

  it('says when translation would keep every asked key frame as the artist edited it', () => {
    const mixed = { ...ready, keyframes: [kf(0, 'edited'), kf(8, 'translated')] };
    expect(translateBlocker(caps(true), mixed, [], [0])).toMatch(/^This key frame holds an imported image/);
    expect(translateBlocker(caps(true), mixed, [], [8])).toBeNull();
    expect(translateBlocker(caps(true), mixed, [])).toBeNull();
    expect(translateBlocker(caps(true), { ...ready, keyframes: [kf(0, 'edited'), kf(8, 'edited')] }, [])).toMatch(/^Every key frame holds an imported image/);
    expect(keptNote(mixed.keyframes)).toBe('edited ones keep their imported image and guide the others');
    expect(keptNote(ready.keyframes)).toBeNull();
  });

  it('counts key-frame states', () => {
    const list = [kf(0, 'translated'), kf(4, 'stale'), kf(8, 'translated'), kf(12, 'none')];
    expect(countStates(list)).toEqual({ none: 1, edited: 0, translated: 2, stale: 1 });
    expect(formatStateCounts(list)).toBe('2 translated · 1 stale · 1 empty');
    expect(formatStateCounts([])).toBe('');
  });
});
