// Cuts split propagation into shots; intervals stream (one direction spilled, frames and flows
// held only around the current one), and the spill folder never outlives a run.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { Handoff } from '../../src-main/propagate/handoff.ts';
import { planSegments, shotsOf } from '../../src-main/propagate/plan.ts';
import { propagateVideo } from '../../src-main/propagate/propagate.ts';
import { addon, movingFrame } from './helpers.ts';

const key = (frame: number) => ({ frame, image: new Uint8Array(3) });

test('shotsOf: cuts start shots; out-of-range, duplicate and unsorted cuts are ignored or sorted', () => {
  assert.deepEqual(shotsOf(10), [{ first: 0, last: 9 }]);
  assert.deepEqual(shotsOf(10, [7, 4, 4, 0, 10, -1, 2.5]), [{ first: 0, last: 3 }, { first: 4, last: 6 }, { first: 7, last: 9 }]);
});

test('planSegments never crosses a cut and reports shots without a key', () => {
  const plan = planSegments(12, [key(1), key(6)], [4, 9]);
  const span = plan.segments.map((s) => (s.kind === 'key' ? `key ${s.key.frame}` : `${s.kind} ${s.frames.join(',')}`));
  assert.deepEqual(span, ['head 0', 'key 1', 'tail 2,3', 'head 5,4', 'key 6', 'tail 7,8']);
  assert.deepEqual(plan.unkeyed, [{ first: 9, last: 11 }]);
  // Without cuts the same keys make one interval.
  assert.deepEqual(planSegments(12, [key(1), key(6)]).segments.map((s) => s.kind), ['head', 'key', 'interval', 'key', 'tail']);
});

test('Handoff: a put resolves only once taken, in order; a mismatch or failure rejects both sides', async () => {
  const h = new Handoff<string>();
  let taken = false;
  const put = h.put(3, 'three').then(() => { taken = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(taken, false);
  assert.equal(await h.take(3), 'three');
  await put;
  assert.equal(taken, true);
  const waiting = h.take(4);
  await assert.rejects(h.put(5, 'five'), /frame 5 was produced while frame 4/);
  await assert.rejects(waiting, /frame 5 was produced while frame 4/);
  const h2 = new Handoff<string>();
  const pending = h2.put(1, 'one');
  h2.fail(new Error('gone'));
  await assert.rejects(pending, /gone/);
  await assert.rejects(h2.take(1), /gone/);
});

const W = 48, H = 40;
function scene(n: number) {
  return Array.from({ length: n }, (_, t) => movingFrame(t, W, H, 1, 0.5));
}

test('a key on each side of a cut: the second shot takes nothing from the first key', async () => {
  const n = 10, cut = 5;
  const frames = scene(n);
  const red = new Uint8Array(W * H * 3).map((_, i) => (i % 3 === 0 ? 230 : 20));
  const blue = new Uint8Array(W * H * 3).map((_, i) => (i % 3 === 2 ? 230 : 20));
  const out: Uint8Array[] = [];
  const report = await propagateVideo({
    frameCount: n, width: W, height: H, addon: addon(), cuts: [cut],
    keyframes: [{ frame: 0, image: red }, { frame: cut, image: blue }],
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async (i, rgb) => { out[i] = rgb; },
  }, { searchVoteIters: 2, patchMatchIters: 2 });
  assert.deepEqual(report.unkeyedShots, []);
  const meanChannel = (img: Uint8Array, c: number) => img.reduce((s, v, i) => (i % 3 === c ? s + v : s), 0) / (W * H);
  for (let t = 0; t < n; t++) {
    const img = out[t];
    assert.ok(img, `frame ${t} written`);
    const [r, b] = [meanChannel(img, 0), meanChannel(img, 2)];
    if (t < cut) assert.ok(r > 200 && b < 40, `frame ${t} is red (r ${r.toFixed(0)}, b ${b.toFixed(0)})`);
    else assert.ok(b > 200 && r < 40, `frame ${t} is blue (r ${r.toFixed(0)}, b ${b.toFixed(0)})`);
  }
});

test('a shot without a key frame is left unwritten and reported', async () => {
  const n = 8;
  const frames = scene(n);
  const written: number[] = [];
  const report = await propagateVideo({
    frameCount: n, width: W, height: H, addon: addon(), cuts: [3],
    keyframes: [{ frame: 1, image: frames[1] as Uint8Array }],
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async (i) => { written.push(i); },
  }, { searchVoteIters: 1, patchMatchIters: 1 });
  assert.deepEqual(written.sort((a, b) => a - b), [0, 1, 2]);
  assert.deepEqual(report.unkeyedShots, [{ first: 3, last: 7 }]);
});

test('a range inside a long tail stops at its end: frames past it are not synthesised, the range is as in a full run', async () => {
  const n = 12;
  const frames = scene(n);
  const run = async (isDone?: (i: number) => boolean) => {
    const out = new Map<number, Uint8Array>();
    const report = await propagateVideo({
      frameCount: n, width: W, height: H, addon: addon(),
      keyframes: [{ frame: 6, image: frames[6] as Uint8Array }],
      sourceFrame: async (i) => frames[i] as Uint8Array,
      writeFrame: async (i, rgb) => { out.set(i, rgb); },
      ...(isDone ? { isDone } : {}),
    }, { searchVoteIters: 1, patchMatchIters: 1, seed: 3 });
    return { out, report };
  };
  const full = await run();
  // Frames 3 and 8 only: the head walks 5, 4, 3 and the tail 7, 8; nothing beyond either.
  const part = await run((i) => i !== 3 && i !== 8);
  assert.deepEqual([...part.out.keys()].sort((a, b) => a - b), [3, 8]);
  assert.equal(part.report.synthesisCount, 5);
  assert.equal(full.report.synthesisCount, 11);
  for (const f of [3, 8]) assert.ok(Buffer.from(part.out.get(f)!).equals(Buffer.from(full.out.get(f)!)), `frame ${f} differs from the full run's`);
});

test('a long interval streams: interior frames are released between directions, B is spilled and freed, the folder removed', async () => {
  const n = 24;
  const frames = scene(n);
  const spillDir = mkdtempSync(path.join(tmpdir(), 'rr-spill-test-'));
  // Each source frame is a fresh buffer; a FinalizationRegistry cannot be relied on, so count
  // requests instead: a frame asked for again means it was released in between.
  const asked = new Map<number, number>();
  let spilledSeen = 0;
  const report = await propagateVideo({
    frameCount: n, width: W, height: H, addon: addon(), spillDir,
    keyframes: [{ frame: 0, image: frames[0] as Uint8Array }, { frame: n - 1, image: frames[n - 1] as Uint8Array }],
    sourceFrame: async (i) => {
      asked.set(i, (asked.get(i) ?? 0) + 1);
      return (frames[i] as Uint8Array).slice();
    },
    writeFrame: async () => {
      const inner = readdirSync(spillDir);
      if (inner.length === 1) spilledSeen = Math.max(spilledSeen, readdirSync(path.join(spillDir, inner[0] as string)).length);
    },
  }, { searchVoteIters: 1, patchMatchIters: 1 });
  assert.equal(report.framesWritten, n);
  // B was spilled whole before A's first blended frame; each blended frame frees its B file.
  assert.ok(spilledSeen >= n - 3 && spilledSeen <= n - 2, `spilled frames seen: ${spilledSeen}`);
  // Interior frames are released after each direction's step and asked for again later.
  const again = [...asked.entries()].filter(([i, c]) => i > 1 && i < n - 2 && c >= 2).length;
  assert.ok(again >= n - 6, `interior frames fetched again (released in between): ${again}`);
  assert.deepEqual(readdirSync(spillDir), []);
});

test('a failing write removes the spill folder too', async () => {
  const n = 8;
  const frames = scene(n);
  const spillDir = mkdtempSync(path.join(tmpdir(), 'rr-spill-test-'));
  await assert.rejects(propagateVideo({
    frameCount: n, width: W, height: H, addon: addon(), spillDir,
    keyframes: [{ frame: 0, image: frames[0] as Uint8Array }, { frame: n - 1, image: frames[n - 1] as Uint8Array }],
    sourceFrame: async (i) => frames[i] as Uint8Array,
    writeFrame: async (i) => { if (i === 3) throw new Error('disk full'); },
  }, { searchVoteIters: 1, patchMatchIters: 1 }), /disk full/);
  assert.deepEqual(readdirSync(spillDir), []);
});
