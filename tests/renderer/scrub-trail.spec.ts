import { describe, expect, it } from 'vitest';
import { FrameCache, pushTrail, type LoadedFrame } from '../../src-renderer/lib/frame-cache.ts';
import { preparingLabel, preparingPreview } from '../../src-renderer/lib/proxy-status.ts';
import type { JobInfo } from '../../src-main/api/contract.ts';

describe('scrub trail', () => {
  it('keeps the newest positions first, without repeats, and drops the stale ones', () => {
    let t: number[] = [];
    for (const f of [3, 4, 5, 6]) t = pushTrail(t, f, 3);
    expect(t).toEqual([6, 5, 4]);
    expect(pushTrail(t, 6, 3)).toEqual([6, 5, 4]); // the same frame again changes nothing
    expect(pushTrail(t, 4, 3)).toEqual([4, 6, 5]);
  });

  it('keeps the loads of passed positions going and finds the newest that landed', async () => {
    const resolvers = new Map<string, () => void>();
    const aborted: string[] = [];
    const load = (url: string, signal: AbortSignal) =>
      new Promise<LoadedFrame>((resolve) => {
        signal.addEventListener('abort', () => aborted.push(url));
        resolvers.set(url, () => resolve({ display: `blob:${url}`, release: () => {} }));
      });
    const cache = new FrameCache({ load, capacity: 20, concurrency: 4 });
    cache.want(['f1']);
    cache.want(['f2'], ['f1']); // the drag moved on: f1's load goes on behind f2
    cache.want(['f3'], ['f2', 'f1', 'f0']);
    expect(aborted).toEqual([]);
    expect(cache.status('f0')).toBe('missing'); // a passed position is never started late
    expect(cache.firstReady(['f3', 'f2', 'f1'])).toBeNull();
    resolvers.get('f1')!();
    await new Promise((r) => setTimeout(r, 0));
    expect(cache.firstReady(['f3', 'f2', 'f1'])).toBe('f1');
    resolvers.get('f2')!();
    await new Promise((r) => setTimeout(r, 0));
    expect(cache.firstReady(['f3', 'f2', 'f1'])).toBe('f2');
    cache.want(['f9']); // positions older than the trail are dropped
    expect(aborted).toEqual(['f3']);
  });

  it('a wanted frame takes the slot of the least urgent passed position', () => {
    const started: string[] = [];
    const aborted: string[] = [];
    const load = (url: string, signal: AbortSignal) =>
      new Promise<LoadedFrame>(() => {
        started.push(url);
        signal.addEventListener('abort', () => aborted.push(url));
      });
    const cache = new FrameCache({ load, capacity: 20, concurrency: 2 });
    cache.want(['a']);
    cache.want(['b'], ['a']);
    expect(started).toEqual(['a', 'b']);
    cache.want(['c'], ['b', 'a']); // both slots busy with passed positions: the older one yields
    expect(aborted).toEqual(['a']);
    expect(started).toEqual(['a', 'b', 'c']);
    expect(cache.status('b')).toBe('loading');
  });
});

describe('fast preview progress', () => {
  const job = (p: Partial<JobInfo>): JobInfo => ({
    id: 'j', kind: 'proxy', status: 'running', done: 0, total: 100, etaSeconds: null, device: null, note: null, error: null, output: null, ...p,
  });
  it('shows the running proxy job only', () => {
    expect(preparingPreview([job({ kind: 'thumbnails' }), job({ done: 40 })])).toEqual({ done: 40, total: 100 });
    expect(preparingPreview([job({ status: 'done', done: 100 })])).toBeNull();
    expect(preparingPreview([])).toBeNull();
  });
  it('says it in whole percents, never 100% before it is done', () => {
    expect(preparingLabel({ done: 40, total: 100 })).toBe('Preparing fast preview 40%');
    expect(preparingLabel({ done: 999, total: 1000 })).toBe('Preparing fast preview 99%');
    expect(preparingLabel({ done: 0, total: 0 })).toBe('Preparing fast preview 0%');
  });
});
