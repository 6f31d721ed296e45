// Job progress in units fixed from the start: the total never changes mid-job, done never goes
// back, and the ETA waits for a few measured units and then moves smoothly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StableProgress } from '../../src-main/jobs/stable-progress.ts';
import type { Progress } from '../../src-main/jobs/progress.ts';

test('inner stages with their own (late, changing) totals map onto one fixed total', () => {
  let t = 0;
  const seen: Progress[] = [];
  const p = new StableProgress({ stage: 'propagate', total: 217, now: () => t, onProgress: (x) => seen.push(x) });
  p.emit();
  // Finding cuts (its own units) moves nothing; then 20 frames turn out to be rendered already.
  for (let i = 0; i < 5; i++) p.mark('cuts');
  p.resume(20);
  // The propagator counts 3 units per interval frame: 591 for the remaining 197 frames.
  for (let u = 1; u <= 591; u += 7) {
    t += 100;
    p.work('synthesis', u, 591);
  }
  t += 100;
  p.work('write', 591, 591);
  assert.ok(seen.length > 80);
  assert.deepEqual([...new Set(seen.map((x) => x.total))], [217], 'the total never changes');
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.done >= seen[i - 1]!.done, `done went back at ${i}`);
  assert.equal(seen[0]!.done, 0);
  assert.equal(seen.find((x) => x.stage === 'cuts')!.done, 0);
  assert.equal(seen.find((x) => x.stage === 'synthesis')!.done >= 20, true, 'resumed frames count as done');
  assert.equal(seen.at(-1)!.done, 217);
  assert.equal(seen.at(-1)!.etaSeconds, 0);
});

test('no ETA before two units are measured; then it follows the rate, smoothed', () => {
  let t = 0;
  const p = new StableProgress({ stage: 'translate', total: 3, now: () => t });
  // Loading the model (60 s) is not work: the rate starts at the first step.
  t += 60_000;
  assert.equal(p.work('translate', 1, 100).etaSeconds, null);
  t += 1000;
  assert.equal(p.work('translate', 2, 100).etaSeconds, null, 'one measured unit is not enough');
  t += 1000;
  const first = p.work('translate', 3, 100).etaSeconds;
  assert.ok(first !== null && Math.abs(first - 97) < 0.5, `1 s per step, 97 left: ${first}`);
  // One step ten times slower moves the ETA by far less than the raw rate would.
  t += 10_000;
  const after = p.work('translate', 4, 100).etaSeconds!;
  const raw = (12 / 3) * 96;
  assert.ok(after > 90 && after < raw * 0.6, `smoothed ${after} (raw ${raw})`);
});

test('the count is the lesser of the units finished and the work done, and never goes back', () => {
  let t = 0;
  const p = new StableProgress({ stage: 'translate', total: 4, now: () => t });
  assert.equal(p.work('translate', 50, 100, 1).done, 1);
  assert.equal(p.work('translate', 60, 100, 0).done, 1);
  assert.equal(p.work('translate', 100, 100, 4).done, 4);
  // A range inside a longer shot: its 120 frames are stored while most of the work is still ahead.
  const range = new StableProgress({ stage: 'propagate', total: 120, now: () => t });
  for (let u = 1; u <= 40; u++) {
    t += 1000;
    range.work('synthesis', u, 400, Math.min(120, u * 3));
  }
  const mid = range.snapshot();
  assert.equal(mid.done, 12, 'the bar follows the work, not the early stores');
  assert.equal(mid.fraction, 0.1, 'the finer share of the work, for displays that want it');
  assert.ok(mid.etaSeconds !== null && Math.abs(mid.etaSeconds - 360) < 1, `ETA ${mid.etaSeconds}`);
  t += 360_000;
  assert.deepEqual([range.work('write', 400, 400, 120).done, range.snapshot().etaSeconds], [120, 0]);
  assert.throws(() => new StableProgress({ stage: 'x', total: 1.5 }), RangeError);
});
