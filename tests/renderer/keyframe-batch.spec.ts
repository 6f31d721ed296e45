// The "Key frames…" dialog's field checks and preview lines, and the file browser's folder mode.
import { describe, expect, it } from 'vitest';
import type { DirectoryListing } from '../../src-main/api/contract.ts';
import { etaText, inSteps, markerPercent, planFromInput, planSummary, removedWithEdits } from '../../src-renderer/lib/keyframes.ts';
import { activate, browserReducer, chooseTarget, initialBrowserState } from '../../src-renderer/lib/file-browser.ts';

describe('key-frame plan fields', () => {
  const input = { kind: 'every' as const, every: '10', min: '5', max: '20' };
  it('reads every N frames, refusing what is not a whole number in the clip', () => {
    expect(planFromInput(input, 100)).toEqual({ plan: { every: 10 } });
    expect(planFromInput({ ...input, every: '0' }, 100)).toHaveProperty('error');
    expect(planFromInput({ ...input, every: '2.5' }, 100)).toHaveProperty('error');
    expect(planFromInput({ ...input, every: '' }, 100)).toHaveProperty('error');
    expect(planFromInput({ ...input, every: '101' }, 100)).toEqual({ error: 'The clip has 100 frames: choose at most 100.' });
  });
  it('reads the automatic gaps, the longest at least twice the closest', () => {
    expect(planFromInput({ ...input, kind: 'auto' }, 100)).toEqual({ plan: { auto: { min: 5, max: 20 } } });
    expect(planFromInput({ ...input, kind: 'auto', max: '9' }, 100)).toEqual({ error: 'The longest gap must be at least twice the closest (10 or more).' });
    expect(planFromInput({ ...input, kind: 'auto', min: 'x' }, 100)).toHaveProperty('error');
  });
  it('places markers and names what a replace would lose', () => {
    expect(markerPercent(0, 11)).toBe(0);
    expect(markerPercent(10, 11)).toBe(100);
    expect(markerPercent(5, 11)).toBe(50);
    expect(markerPercent(0, 1)).toBe(0);
    expect(removedWithEdits([{ frame: 3, edits: [] }, { frame: 12, edits: ['image', 'mask'] }])).toEqual(['Frame 12: image, mask']);
    expect(planSummary({ frames: [0, 10], added: [10], removed: [{}, {}] })).toBe('2 key frames (1 new, 2 removed)');
    expect(planSummary({ frames: [0], added: [], removed: [] })).toBe('1 key frame (0 new)');
  });
});

describe('export steps', () => {
  it('splits the key frames into steps and says how long is left', () => {
    expect(inSteps([0, 6, 12, 18, 24], 2)).toEqual([[0, 6], [12, 18], [24]]);
    expect(inSteps([], 4)).toEqual([]);
    expect(() => inSteps([1], 0)).toThrow(RangeError);
    expect(etaText(4000, 2, 10)).toBe('about 16 s left');
    expect(etaText(60_000, 1, 10)).toBe('about 9 min left');
    expect(etaText(1000, 0, 10)).toBeNull();
    expect(etaText(1000, 10, 10)).toBeNull();
  });
});

describe('file browser folder mode', () => {
  const listing: DirectoryListing = {
    path: '/home/me/painted', parent: '/home/me', roots: ['/'], truncated: false,
    entries: [
      { name: 'sub', path: '/home/me/painted/sub', kind: 'dir', size: null, modifiedAt: '', matches: false },
      { name: '00012.png', path: '/home/me/painted/00012.png', kind: 'file', size: 10, modifiedAt: '', matches: true },
    ],
  };
  it('chooses the folder shown, enters folders, and never chooses a file', () => {
    let s = browserReducer(initialBrowserState('image', 'folder'), { type: 'loaded', listing });
    expect(chooseTarget(s)).toBe('/home/me/painted');
    expect(activate(s, 0)).toEqual({ kind: 'enter', path: '/home/me/painted/sub' });
    s = browserReducer(s, { type: 'select', index: 1 });
    expect(activate(s)).toBeNull();
    expect(chooseTarget(s)).toBe('/home/me/painted');
    const open = browserReducer(browserReducer(initialBrowserState('image', 'open'), { type: 'loaded', listing }), { type: 'select', index: 1 });
    expect(chooseTarget(open)).toBe('/home/me/painted/00012.png');
  });
});
