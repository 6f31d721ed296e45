// The quality benchmark's own figures: SSIM and the occlusion-aware warping error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psnr, ssim, warpErrors, warpMae } from '../../bench/quality/metrics.ts';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';

const W = 64;
const H = 48;

/** A smooth colour pattern with some detail: SSIM has structure to compare. */
function pattern(shift = 0): Uint8Array {
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = 128 + 90 * Math.sin((x + shift) / 5) * Math.cos(y / 7);
      out.set([v, 255 - v, (x * 4) & 255], (y * W + x) * 3);
    }
  }
  return out;
}

function noisy(img: Uint8Array, amp: number, seed = 7): Uint8Array {
  let s = seed;
  return img.map((v) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return Math.max(0, Math.min(255, v + ((s >>> 16) / 65536 - 0.5) * 2 * amp));
  });
}

test('ssim is 1 for identical images and falls as the degradation grows', () => {
  const a = pattern();
  assert.equal(ssim(a, a, W, H), 1);
  const light = ssim(a, noisy(a, 10), W, H);
  const heavy = ssim(a, noisy(a, 60), W, H);
  assert.ok(light < 1 && light > 0.5, `light noise ${light}`);
  assert.ok(heavy < light, `heavy ${heavy} should be below light ${light}`);
  // A structural change (the pattern shifted) counts, not only noise.
  assert.ok(ssim(a, pattern(3), W, H) < 0.95);
});

test('ssim is symmetric and rejects bad sizes', () => {
  const a = pattern();
  const b = noisy(a, 30);
  assert.ok(Math.abs(ssim(a, b, W, H) - ssim(b, a, W, H)) < 1e-12);
  assert.throws(() => ssim(a, b.subarray(3), W, H), RangeError);
  assert.throws(() => ssim(new Uint8Array(8 * 8 * 3), new Uint8Array(8 * 8 * 3), 8, 8), /at least 11x11/);
});

test('psnr matches a hand-computed value', () => {
  const a = new Uint8Array(300).fill(100);
  const b = new Uint8Array(300).fill(110);
  assert.ok(Math.abs(psnr(a, b) - 10 * Math.log10((255 * 255) / 100)) < 1e-9);
  assert.equal(psnr(a, a), Infinity);
});

test('warpMae: zero for a static sequence, the step size for a uniform brightness change', async () => {
  const addon = loadPropagateAddon();
  const zero = new Float32Array(W * H * 2);
  const flows = [{ forward: zero, backward: zero }, { forward: zero, backward: zero }];
  const a = pattern();
  assert.equal(await warpMae(addon, [a, a, a], flows, W, H), 0);
  const b = a.map((v) => Math.min(255, v + 10));
  const e = await warpMae(addon, [a, b], flows, W, H);
  assert.ok(e > 8 && e <= 10, `expected about 10, got ${e}`);
  const per = await warpErrors(addon, [a, a, b], flows, W, H);
  assert.equal(per.length, 2);
  assert.equal(per[0], 0);
  assert.ok((per[1] ?? 0) > 8, `the step sits on the second pair: ${per.join(', ')}`);
  await assert.rejects(warpMae(addon, [a, a, a], flows.slice(1), W, H), RangeError);
});
