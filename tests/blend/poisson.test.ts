// Screened-Poisson solver: exact recovery from an image's own gradients, the constant fixed by
// the screening term, gradient clipping, odd sizes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addon, channelStats, maxAbsDiff, texture } from './helpers.ts';

function image(width: number, height: number, seed: number, amplitude = 60): Float32Array {
  const t = texture(seed);
  return Float32Array.from({ length: width * height }, (_, i) => amplitude * t(i % width, Math.floor(i / width)));
}

describe('poissonFuse', () => {
  const native = addon();

  it('recovers an image from its gradients, the shift set by screening toward a shifted copy', async () => {
    const W = 64;
    const H = 48;
    const img = image(W, H, 1);
    const shifted = img.map((v) => v + 25);
    const u = await native.poissonFuse({ a: img, target: shifted, width: W, height: H, channels: 1, screening: 1e-4, gradClip: 1e6 });
    assert.ok(maxAbsDiff(u, shifted) < 1e-3, `max error ${maxAbsDiff(u, shifted)}`);
  });

  it('with a tiny screening toward a constant, keeps the structure and takes the level from the constant', async () => {
    const W = 64;
    const H = 48;
    const img = image(W, H, 2);
    const mean = channelStats(img, 1).mean[0]!;
    const level = 80;
    const u = await native.poissonFuse({ a: img, target: new Float32Array(W * H).fill(level), width: W, height: H, channels: 1, screening: 1e-6, gradClip: 1e6 });
    const expected = img.map((v) => v - mean + level);
    // Low frequencies are damped by lambda / (eigenvalue + lambda): about 4e-4 here.
    assert.ok(maxAbsDiff(u, expected) < 0.05, `max error ${maxAbsDiff(u, expected)}`);
    // A strong screening instead flattens the image toward the constant.
    const flat = await native.poissonFuse({ a: img, target: new Float32Array(W * H).fill(level), width: W, height: H, channels: 1, screening: 100, gradClip: 1e6 });
    assert.ok(channelStats(flat, 1).std[0]! < 0.1 * channelStats(img, 1).std[0]!);
  });

  it('is exact on odd and tiny sizes and per channel', async () => {
    for (const [W, H] of [[63, 47], [1, 1], [1, 9], [10, 1]] as const) {
      const n = W * H * 3;
      const img = Float32Array.from({ length: n }, (_, i) => 40 * Math.sin(i * 0.37) + (i % 3) * 20);
      const target = img.map((v, i) => v + [5, -3, 10][i % 3]!);
      const u = await native.poissonFuse({ a: img, target, width: W, height: H, channels: 3, screening: [0.05, 0.1, 0.2], gradClip: 1e6 });
      assert.ok(maxAbsDiff(u, target) < 1e-3, `${W}x${H}: max error ${maxAbsDiff(u, target)}`);
    }
  });

  it('clips target gradients to gradClip', async () => {
    const W = 32;
    const H = 8;
    const step = Float32Array.from({ length: W * H }, (_, i) => (i % W < 16 ? 0 : 100));
    const u = await native.poissonFuse({ a: step, target: new Float32Array(W * H).fill(50), width: W, height: H, channels: 1, screening: 1e-6, gradClip: 10 });
    const jump = u[16]! - u[15]!;
    assert.ok(jump > 9.9 && jump < 10.01, `step across the edge ${jump}`);
  });

  it('takes gradients from b where the mask is 1', async () => {
    const W = 40;
    const H = 30;
    const a = image(W, H, 3);
    const b = image(W, H, 4);
    const mask = Uint8Array.from({ length: W * H }, () => 1);
    const target = b.map((v) => v + 7);
    const u = await native.poissonFuse({ a, b, mask, target, width: W, height: H, channels: 1, screening: 0.01, gradClip: 1e6 });
    assert.ok(maxAbsDiff(u, target) < 1e-3);
  });

  it('follows A left of the seam and B right of it, not their cross-fade', async () => {
    const W = 64;
    const H = 32;
    const a = image(W, H, 5, 200);
    const b = image(W, H, 6, 200);
    const mask = Uint8Array.from({ length: W * H }, (_, i) => (i % W < 32 ? 0 : 1));
    const target = a.map((v, i) => 0.5 * (v + b[i]!));
    const u = await native.poissonFuse({ a, b, mask, target, width: W, height: H, channels: 1, screening: 1e-3, gradClip: 1e6 });
    // Horizontal differences some pixels from the seam match the selected source's.
    let worst = 0;
    let crossFadeGap = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 1; x < W; x++) {
        if (Math.abs(x - 32) <= 8) continue; // the mismatch of A and B along the seam spreads a little
        const i = y * W + x;
        const src = x < 32 ? a : b;
        worst = Math.max(worst, Math.abs(u[i]! - u[i - 1]! - (src[i]! - src[i - 1]!)));
        crossFadeGap = Math.max(crossFadeGap, Math.abs(target[i]! - target[i - 1]! - (src[i]! - src[i - 1]!)));
      }
    }
    assert.ok(worst < 0.1 * crossFadeGap, `gradient error ${worst} vs ${crossFadeGap} for the cross-fade`);
    assert.ok(crossFadeGap > 10, `fixture: the cross-fade's gradients differ by ${crossFadeGap}`);
  });
});
