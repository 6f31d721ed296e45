// Key-frame plans with shot cuts: a key on the first frame of every shot, the usual keys inside
// each shot, and none on the last frame before a cut (unless it is the shot's only frame).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoKeyframes, everyNth, KeyframePlanError, shotsOf } from '../../src-main/keyframes/plan.ts';

test('shotsOf splits the video at each cut and checks the cuts', () => {
  assert.deepEqual(shotsOf(10, [4, 7]), [
    { first: 0, last: 3, cutAfter: true },
    { first: 4, last: 6, cutAfter: true },
    { first: 7, last: 9, cutAfter: false },
  ]);
  assert.deepEqual(shotsOf(5), [{ first: 0, last: 4, cutAfter: false }]);
  assert.throws(() => shotsOf(10, [0]), KeyframePlanError);
  assert.throws(() => shotsOf(10, [10]), KeyframePlanError);
  assert.throws(() => shotsOf(10, [5, 5]), KeyframePlanError);
  assert.throws(() => shotsOf(10, [6, 3]), KeyframePlanError);
});

test('everyNth restarts at each cut and skips the last frame before a cut', () => {
  assert.deepEqual(everyNth(30, 10, [13]), [0, 10, 13, 23]);
  // 0..10 is a shot: 10 would be its last frame, just before the cut at 11.
  assert.deepEqual(everyNth(25, 5, [11]), [0, 5, 11, 16, 21]);
  assert.deepEqual(everyNth(21, 5, [6, 11]), [0, 6, 11, 16]);
  // A one-frame shot keeps its only frame; the video's last frame is kept as before.
  assert.deepEqual(everyNth(12, 5, [5, 6]), [0, 5, 6, 11]);
  assert.deepEqual(everyNth(25, 10, []), everyNth(25, 10));
});

test('autoKeyframes keys every shot at its cut and plans inside each shot', () => {
  const n = 100;
  const diffs = new Array<number>(n).fill(1);
  diffs[40] = 90; // the cut: a huge change, but the plan must not need it to find the cut
  diffs[20] = 30;
  diffs[75] = 30;
  const keys = autoKeyframes(diffs, { min: 5, max: 20 }, [40]);
  assert.equal(keys[0], 0);
  assert.ok(keys.includes(40), `the cut 40 in ${keys}`);
  assert.ok(!keys.includes(39), `no key on the last frame before the cut in ${keys}`);
  assert.ok(keys.includes(20) && keys.includes(75), `the strongest changes inside each shot in ${keys}`);
  for (let i = 1; i < keys.length; i++) {
    const gap = keys[i]! - keys[i - 1]!;
    if (keys[i] === 40) continue; // a cut may come at any distance from the key before it
    assert.ok(gap >= 5 && gap <= 20, `gap ${gap} in ${keys}`);
  }
});

test('autoKeyframes puts a key at a cut even where the picture barely changes', () => {
  const diffs = new Array<number>(60).fill(2);
  const keys = autoKeyframes(diffs, { min: 5, max: 20 }, [8, 33]);
  assert.ok(keys.includes(8) && keys.includes(33), `${keys}`);
  // Shot 8..32 (25 frames) needs one key inside it; never at 32, the frame before the cut.
  const inside = keys.filter((k) => k > 8 && k < 33);
  assert.equal(inside.length, 1, `${keys}`);
  assert.ok(inside[0]! <= 31);
  // Cut at a tail frame: the key before the end of shot 1 may not be its last frame.
  const tail = autoKeyframes(new Array<number>(30).fill(1).map((_, i) => (i === 24 ? 50 : 1)), { min: 2, max: 8 }, [25]);
  assert.ok(!tail.includes(24), `${tail}`);
  assert.ok(tail.includes(25));
});

test('keyed plans refuse cuts outside the video', () => {
  assert.throws(() => everyNth(10, 2, [12]), /shot cuts must be increasing/);
  assert.throws(() => autoKeyframes([0, 1, 2, 3], { min: 1, max: 2 }, [0]), /shot cuts/);
});
