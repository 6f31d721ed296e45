import { describe, expect, it } from 'vitest';
import { FrameCache, framesToPreload, lookaheadFrames, type LoadedFrame } from '../../src-renderer/lib/frame-cache.ts';

/** A loader whose loads the test settles by hand. */
function manualLoader() {
  const pending = new Map<string, { ok(): void; fail(): void; signal: AbortSignal }>();
  const released: string[] = [];
  const started: string[] = [];
  const load = (url: string, signal: AbortSignal) =>
    new Promise<LoadedFrame>((resolve, reject) => {
      started.push(url);
      pending.set(url, {
        ok: () => resolve({ display: `blob:${url}`, release: () => released.push(url) }),
        fail: () => reject(new Error('404')),
        signal,
      });
    });
  const settle = async (url: string, ok = true) => {
    const p = pending.get(url);
    if (!p) throw new Error(`${url} is not loading`);
    pending.delete(url);
    if (ok) p.ok();
    else p.fail();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { load, pending, released, started, settle };
}

describe('frame cache', () => {
  it('loads the wanted frames in order, a few at a time', async () => {
    const l = manualLoader();
    let changes = 0;
    const cache = new FrameCache({ load: l.load, capacity: 10, concurrency: 2, onChange: () => changes++ });
    cache.want(['f0', 'f1', 'f2', 'f3']);
    expect(l.started).toEqual(['f0', 'f1']);
    expect(cache.status('f0')).toBe('loading');
    expect(cache.status('f2')).toBe('missing');
    await l.settle('f0');
    expect(cache.status('f0')).toBe('ready');
    expect(cache.displayUrl('f0')).toBe('blob:f0');
    expect(l.started).toEqual(['f0', 'f1', 'f2']);
    await l.settle('f1', false);
    expect(cache.status('f1')).toBe('failed');
    expect(cache.settled('f1')).toBe(true);
    expect(cache.displayUrl('f1')).toBeNull();
    expect(l.started).toEqual(['f0', 'f1', 'f2', 'f3']);
    expect(changes).toBe(2);
    // Asking again for what is there loads nothing new.
    cache.want(['f0', 'f1']);
    expect(l.started.length).toBe(4);
  });

  it('stops loads that are no longer wanted and starts the new ones', async () => {
    const l = manualLoader();
    const cache = new FrameCache({ load: l.load, capacity: 10, concurrency: 2 });
    cache.want(['a', 'b', 'c']);
    cache.want(['x', 'y']);
    expect(l.pending.get('a')?.signal.aborted).toBe(true);
    expect(l.pending.get('b')?.signal.aborted).toBe(true);
    expect(cache.status('a')).toBe('missing');
    // The aborted loads still hold their slots until they settle; then the new ones start.
    await l.settle('a');
    await l.settle('b', false);
    expect(l.released).toEqual(['a']);
    expect(l.started).toEqual(['a', 'b', 'x', 'y']);
    expect(cache.inFlight).toBe(2);
  });

  it('evicts the least recently wanted frames beyond its capacity and frees them', async () => {
    const l = manualLoader();
    const cache = new FrameCache({ load: l.load, capacity: 3, concurrency: 4 });
    cache.want(['1', '2', '3']);
    for (const u of ['1', '2', '3']) await l.settle(u);
    cache.want(['3', '4']);
    await l.settle('4');
    expect(cache.size).toBe(3);
    // '1' and '2' were unwanted; '2' was wanted less long ago... both older than 3 and 4: the oldest goes.
    expect(cache.status('1')).toBe('missing');
    expect(cache.status('2')).toBe('ready');
    expect(l.released).toEqual(['1']);
    cache.dispose();
    expect(l.released.sort()).toEqual(['1', '2', '3', '4']);
  });

  it('keeps about a second ahead of the playhead', () => {
    expect(lookaheadFrames({ num: 24, den: 1 })).toBe(24);
    expect(lookaheadFrames({ num: 30000, den: 1001 })).toBe(30);
    expect(lookaheadFrames({ num: 1, den: 1 })).toBe(8);
    expect(lookaheadFrames({ num: 240, den: 1 })).toBe(48);
    expect(framesToPreload(5, 3, 100)).toEqual([5, 6, 7, 8, 4]);
    expect(framesToPreload(0, 3, 2)).toEqual([0, 1]);
  });
});
