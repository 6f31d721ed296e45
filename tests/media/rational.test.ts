import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, approximate, parseDecimal, parseRational, rational, snapFrameRate } from '../../src-main/media/rational.ts';

test('parsing ffprobe rationals and decimals exactly', () => {
  assert.deepEqual(parseRational('24000/1001'), { num: 24000, den: 1001 });
  assert.deepEqual(parseRational('50/2'), { num: 25, den: 1 });
  assert.deepEqual(parseRational('30'), { num: 30, den: 1 });
  assert.equal(parseRational('0/0'), null);
  assert.equal(parseRational('N/A'), null);
  assert.deepEqual(parseDecimal('2.002000'), { num: 1001, den: 500 });
  assert.deepEqual(parseDecimal('-0.5'), { num: -1, den: 2 });
  assert.equal(parseDecimal('abc'), null);
});

test('arithmetic stays reduced', () => {
  assert.deepEqual(add(rational(1001, 30000), rational(1001, 30000)), { num: 1001, den: 15000 });
  assert.deepEqual(rational(4, -6), { num: -2, den: 3 });
});

test('measured average rates snap to the standard rate they approximate', () => {
  assert.deepEqual(snapFrameRate(rational(2997, 100)), { num: 30000, den: 1001 });
  assert.deepEqual(snapFrameRate(rational(1440000, 47990)), { num: 30, den: 1 });
  assert.deepEqual(snapFrameRate(rational(20, 1)), rational(20, 1));
  assert.deepEqual(snapFrameRate(rational(173, 10)), rational(173, 10));
  assert.deepEqual(approximate(Math.PI, 1000), { num: 355, den: 113 });
});
