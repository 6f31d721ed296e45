// Gradient fusion hides the seam where the mask switches between differently coloured A and B,
// while the plain min-error selection shows a step there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addon, rgbImage, texture } from './helpers.ts';

const W = 64;
const H = 48;
const SEAM = 32;

/** Largest horizontal step, over rows and channels, between columns x-1 and x. */
function columnStep(img: Uint8Array, x: number): number {
  let m = 0;
  for (let y = 0; y < H; y++) {
    for (let c = 0; c < 3; c++) {
      m = Math.max(m, Math.abs(img[(y * W + x) * 3 + c]! - img[(y * W + x - 1) * 3 + c]!));
    }
  }
  return m;
}

function largestStepAwayFromSeam(img: Uint8Array): number {
  let m = 0;
  for (let x = 1; x < W; x++) if (Math.abs(x - SEAM) > 3) m = Math.max(m, columnStep(img, x));
  return m;
}

describe('seam between A and B', () => {
  const native = addon();
  const t = texture(21);
  // Same structure, different colour: a reddish and a bluish rendering.
  const a = rgbImage(W, H, (x, y) => [150 + 60 * t(x, y), 60 + 60 * t(x, y), 50]);
  const b = rgbImage(W, H, (x, y) => [50, 60 + 60 * t(x, y), 150 + 60 * t(x, y)]);
  // Errors that make the left half pick A and the right half pick B.
  const errA = Float32Array.from({ length: W * H }, (_, i) => (i % W < SEAM ? 0 : 10));
  const errB = Float32Array.from({ length: W * H }, (_, i) => (i % W < SEAM ? 10 : 0));

  for (const histogram of [true, false]) {
    it(`fusion leaves no step at the seam (${histogram ? 'histogram' : 'alpha'} data term) where selection has one`, async () => {
      const r = await native.blendFrame({ a, b, errA, errB, w: 0.5, width: W, height: H, options: { histogram } });
      for (let i = 0; i < W * H; i++) assert.equal(r.mask[i], i % W < SEAM ? 0 : 1);

      const selectionStep = columnStep(r.composite, SEAM);
      assert.ok(selectionStep > 5 * largestStepAwayFromSeam(r.composite), `selection step ${selectionStep}`);

      const fusedStep = columnStep(r.out, SEAM);
      const fusedElsewhere = largestStepAwayFromSeam(r.out);
      assert.ok(fusedStep <= 1.5 * fusedElsewhere + 2, `fused step ${fusedStep} vs ${fusedElsewhere} elsewhere`);
      assert.ok(fusedStep < selectionStep / 5, `fused step ${fusedStep} vs selection ${selectionStep}`);
    });
  }

  it('without fusion the data term is returned as is', async () => {
    const r = await native.blendFrame({ a, b, errA, errB, w: 0.5, width: W, height: H, options: { poisson: false, histogram: false, colorSpace: 'rgb' } });
    // Plain RGB cross-fade at w = 0.5.
    for (let i = 0; i < W * H * 3; i++) assert.ok(Math.abs(r.out[i]! - (a[i]! + b[i]!) / 2) <= 0.5 + 1e-9);
  });
});
