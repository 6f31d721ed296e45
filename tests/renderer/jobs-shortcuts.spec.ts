import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src-main/api/contract.ts';
import { fellBackToCpu, formatEta, progressFraction, upsertJob } from '../../src-renderer/lib/jobs.ts';
import { actionForKey, SHORTCUTS } from '../../src-renderer/lib/shortcuts.ts';

const job = (id: string, over: Partial<JobInfo> = {}): JobInfo => ({
  id, kind: 'propagate', status: 'running', done: 0, total: 10, etaSeconds: null, device: null, note: null, error: null, output: null, ...over,
});

describe('jobs', () => {
  it('upserts by id, newest first', () => {
    let l = upsertJob([], job('a'));
    l = upsertJob(l, job('b'));
    l = upsertJob(l, job('a', { done: 5 }));
    expect(l.map((j) => [j.id, j.done])).toEqual([['b', 0], ['a', 5]]);
  });
  it('formats ETA and progress', () => {
    expect(formatEta(null)).toBe('—');
    expect(formatEta(42.4)).toBe('42s');
    expect(formatEta(125)).toBe('2m 05s');
    expect(formatEta(7260)).toBe('2h 01m');
    expect(progressFraction(job('x', { done: 3, total: 12 }))).toBe(0.25);
    expect(progressFraction(job('x', { done: 0, total: 0, status: 'done' }))).toBe(1);
  });
  it('flags a CPU fallback only when the services say so', () => {
    expect(fellBackToCpu(job('x', { device: 'cpu', note: 'CUDA unavailable: fell back to CPU' }))).toBe(true);
    expect(fellBackToCpu(job('x', { device: 'cpu', note: null }))).toBe(false);
    expect(fellBackToCpu(job('x', { device: 'cuda:0', note: 'fast' }))).toBe(false);
  });
});

describe('shortcuts', () => {
  const key = (k: string, mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) =>
    actionForKey({ key: k, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, ...mods });
  it('maps the documented keys', () => {
    expect(key('ArrowLeft')).toBe('prev-frame');
    expect(key('ArrowRight', { shiftKey: true })).toBe('next-frame-10');
    expect(key('Home')).toBe('first-frame');
    expect(key('End')).toBe('last-frame');
    expect(key('k')).toBe('add-keyframe');
    expect(key('Delete')).toBe('remove-keyframe');
    expect(key('[')).toBe('prev-keyframe');
    expect(key(']')).toBe('next-keyframe');
    expect(key('z', { ctrlKey: true })).toBe('undo');
    expect(key('Z', { ctrlKey: true, shiftKey: true })).toBe('redo');
    expect(key('z', { metaKey: true })).toBe('undo');
    expect(key('?', { shiftKey: true })).toBe('help');
    expect(key('k', { altKey: true })).toBeNull();
    expect(key('x')).toBeNull();
  });
  it('documents every action it lists', () => {
    for (const s of SHORTCUTS) expect(s.description.length).toBeGreaterThan(3);
  });
});
