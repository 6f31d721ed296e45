// Cancellation (AbortSignal -> AbortError, promptly) and resumption (done frames are skipped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { propagateVideo } from '../../src-main/propagate/propagate.ts';
import { addon, movingFrame, stylise } from './helpers.ts';

const W = 96, H = 96;

test('aborting mid-synthesis rejects with an AbortError, quickly', async () => {
  const a = addon();
  const src = { data: movingFrame(0, W, H, 0, 0), width: W, height: H, channels: 3 };
  const ctl = new AbortController();
  let abortedAt = 0;
  const p = a.synthesize(src, [{ source: src, target: src, weight: 1 }], { searchVoteIters: 400, threads: 1 }, ctl.signal, (f) => {
    if (f > 0.01 && !abortedAt) {
      abortedAt = performance.now();
      ctl.abort();
    }
  });
  await assert.rejects(p, (e: Error) => e.name === 'AbortError');
  assert.ok(abortedAt > 0, 'progress was reported before the abort');
  // 400 iterations take tens of seconds; stopping within one PatchMatch pass takes milliseconds.
  assert.ok(performance.now() - abortedAt < 1500, `took ${(performance.now() - abortedAt).toFixed(0)} ms to stop`);
});

test('aborting propagateVideo rejects with an AbortError and writes nothing after', async () => {
  const N = 12;
  const frames = Array.from({ length: N }, (_, t) => movingFrame(t, W, H, 1, 0));
  const ctl = new AbortController();
  const written: number[] = [];
  const p = propagateVideo({
    frameCount: N, width: W, height: H, addon: addon(), signal: ctl.signal,
    sourceFrame: async (i) => frames[i] as Uint8Array,
    keyframes: [{ frame: 0, image: stylise(frames[0] as Uint8Array) }],
    writeFrame: async (i) => { written.push(i); if (i === 2) ctl.abort(); },
  }, { threads: 2 });
  await assert.rejects(p, (e: Error) => e.name === 'AbortError');
  assert.deepEqual(written, [0, 1, 2]);
});

test('an already aborted signal rejects before any work', async () => {
  const ctl = new AbortController();
  ctl.abort();
  let loads = 0;
  await assert.rejects(propagateVideo({
    frameCount: 3, width: W, height: H, addon: addon(), signal: ctl.signal,
    sourceFrame: async () => { loads++; return new Uint8Array(W * H * 3); },
    keyframes: [{ frame: 0, image: new Uint8Array(W * H * 3) }],
    writeFrame: async () => {},
  }), (e: Error) => e.name === 'AbortError');
  assert.equal(loads, 0);
});

test('resume: with frames 0..4 done only the rest is computed and written', async () => {
  const N = 9;
  const frames = Array.from({ length: N }, (_, t) => movingFrame(t, 64, 64, 1, 1));
  const keys = [0, 4, 8].map((k) => ({ frame: k, image: stylise(frames[k] as Uint8Array) }));
  const deps = (isDone: (i: number) => boolean, written: number[], loaded: Set<number>) => ({
    frameCount: N, width: 64, height: 64, addon: addon(), keyframes: keys, isDone,
    sourceFrame: async (i: number) => { loaded.add(i); return frames[i] as Uint8Array; },
    writeFrame: async (i: number) => { written.push(i); },
  });
  const full: number[] = [];
  const progress: { done: number; total: number }[] = [];
  const fullReport = await propagateVideo({ ...deps(() => false, full, new Set()), onProgress: (p) => progress.push(p) }, { searchVoteIters: 3 });
  // 3 key frames + 2 intervals x 3 frames x (2 syntheses + 1 blend)
  assert.equal(progress.at(-1)?.total, 21);
  assert.equal(progress.at(-1)?.done, 21);
  assert.ok(progress.every((p, i) => i === 0 || p.done > (progress[i - 1]?.done ?? 0)), 'progress only moves forward');
  assert.deepEqual([...full].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(fullReport.synthesisCount, 12);

  const written: number[] = [];
  const loaded = new Set<number>();
  const report = await propagateVideo(deps((i) => i <= 4, written, loaded), { searchVoteIters: 3 });
  assert.deepEqual([...written].sort((x, y) => x - y), [5, 6, 7, 8]);
  assert.equal(report.synthesisCount, 6, 'only the 4..8 interval is synthesised (3 frames, both ways)');
  assert.ok([...loaded].every((i) => i >= 4), `frames loaded: ${[...loaded].join(',')}`);
});
