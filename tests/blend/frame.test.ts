// The whole per-frame pipeline on inputs whose answer is known.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addon, maxAbsDiff, rgbImage, texture } from './helpers.ts';

const W = 40;
const H = 30;

describe('blendFrame', () => {
  const native = addon();
  const t = texture(33);
  const img = rgbImage(W, H, (x, y) => [30 + 200 * t(x, y), 200 - 150 * t(y, x), 90 + 100 * t(x + y, x - y)]);
  const errA = Float32Array.from({ length: W * H }, (_, i) => (i * 37) % 11);
  const errB = Float32Array.from({ length: W * H }, (_, i) => (i * 53) % 7);

  for (const colorSpace of ['lab', 'rgb'] as const) {
    for (const histogram of [true, false]) {
      it(`returns the frame itself when A and B agree (${colorSpace}, ${histogram ? 'histogram' : 'alpha'})`, async () => {
        for (const w of [0, 0.4, 1]) {
          const r = await native.blendFrame({ a: img, b: img, errA, errB, w, width: W, height: H, options: { colorSpace, histogram } });
          assert.ok(maxAbsDiff(r.out, img) <= 1, `w=${w}: max difference ${maxAbsDiff(r.out, img)}`);
        }
      });
    }
  }

  it('at w = 0 reproduces A (the forward propagation from key k)', async () => {
    const other = rgbImage(W, H, (x, y) => [255 - 200 * t(y, x), 60, 120 + 100 * t(x, y)]);
    const r = await native.blendFrame({ a: img, b: other, errA, errB, w: 0, width: W, height: H });
    assert.ok(r.mask.every((m) => m === 0));
    assert.ok(maxAbsDiff(r.out, img) <= 1, `max difference ${maxAbsDiff(r.out, img)}`);
  });
});
