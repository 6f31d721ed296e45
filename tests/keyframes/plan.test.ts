import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoKeyframes, everyNth, parseFrameList, KeyframePlanError } from '../../src-main/keyframes/plan.ts';

test('everyNth starts at frame 0 and stays inside the video', () => {
  assert.deepEqual(everyNth(25, 10), [0, 10, 20]);
  assert.deepEqual(everyNth(1, 10), [0]);
  assert.throws(() => everyNth(25, 0), KeyframePlanError);
});

test('parseFrameList sorts, dedupes and rejects bad frames', () => {
  assert.deepEqual(parseFrameList('30, 1,12,1', 40), [1, 12, 30]);
  assert.throws(() => parseFrameList('1,x', 40), /not a frame number/);
  assert.throws(() => parseFrameList('40', 40), /past the end/);
  assert.throws(() => parseFrameList('-3', 40), /not a frame number/);
  assert.throws(() => parseFrameList(' , ', 40), /no frame numbers/);
});

test('autoKeyframes picks the frames that change most and bounds every gap', () => {
  const n = 100;
  const diffs = new Array<number>(n).fill(1);
  diffs[37] = 50; // a cut
  diffs[70] = 20;
  const keys = autoKeyframes(diffs, { min: 5, max: 20 });
  assert.equal(keys[0], 0);
  assert.ok(keys.includes(37), `expected the cut at 37 in ${keys}`);
  assert.ok(keys.includes(70), `expected 70 in ${keys}`);
  for (let i = 1; i < keys.length; i++) {
    const gap = keys[i]! - keys[i - 1]!;
    assert.ok(gap >= 5 && gap <= 20, `gap ${gap} in ${keys}`);
  }
  assert.ok(n - 1 - keys[keys.length - 1]! <= 20, `tail too long in ${keys}`);
});

test('autoKeyframes respects min even next to a strong change', () => {
  const diffs = new Array<number>(30).fill(0);
  diffs[2] = 99; // too close to frame 0 for min 5
  const keys = autoKeyframes(diffs, { min: 5, max: 10 });
  assert.ok(!keys.includes(2));
  for (let i = 1; i < keys.length; i++) assert.ok(keys[i]! - keys[i - 1]! >= 5);
});

test('autoKeyframes validates its options', () => {
  assert.throws(() => autoKeyframes([0, 1, 2], { min: 5, max: 8 }), /at least twice/);
  assert.throws(() => autoKeyframes([0, Number.NaN], { min: 1, max: 4 }), /finite/);
  assert.deepEqual(autoKeyframes([0, 1, 2], { min: 1, max: 4 }), [0]);
});
