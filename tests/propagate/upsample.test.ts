// Guided upsampling on tiny synthetic frames: a step edge stays sharp where bicubic blurs it, a
// constant output stays constant, the model extends outside the rendered rectangle, bad inputs fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadUpsampler, UPSAMPLE_METHODS, type UpsampleMethod } from '../../src-main/propagate/upsample.ts';
import type { ByteImage } from '../../src-main/propagate/image.ts';

const up = loadUpsampler();
const W = 64, H = 48, S = 4;
const EDGE = 33; // not on the 4-pixel grid, so the low-resolution output has a mixed column
const DARK = [200, 30, 30], BRIGHT = [20, 20, 220];

function image(width: number, height: number, px: (x: number, y: number) => number[]): ByteImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(px(x, y), (y * width + x) * 3);
  return { data, width, height, channels: 3 };
}

/** Full-size source: a vertical step; its "style": the step with other colours (the truth). */
const guide = image(W, H, (x) => (x < EDGE ? [40, 40, 40] : [200, 200, 200]).map((v) => v));
const truthAt = (x: number) => (x < EDGE ? DARK : BRIGHT);

/** The working-size output: the truth averaged over each 4x4 block (as a downscale makes it). */
function lowOf(gx0: number, gy0: number, lw: number, lh: number): ByteImage {
  return image(lw, lh, (x) => {
    const acc = [0, 0, 0];
    for (let d = 0; d < S; d++) truthAt(gx0 + x * S + d).forEach((v, c) => (acc[c] = (acc[c] ?? 0) + v));
    return acc.map((v) => Math.round(v / S));
  });
}
const low = lowOf(0, 0, W / S, H / S);

/** Pixels of row y, channel 0, strictly between 10% and 90% of the edge's transition. */
function edgeWidth(out: Uint8Array, y: number): number {
  const lo = DARK[0]! - 0.9 * (DARK[0]! - BRIGHT[0]!), hi = DARK[0]! - 0.1 * (DARK[0]! - BRIGHT[0]!);
  let n = 0;
  for (let x = 0; x < W; x++) {
    const v = out[(y * W + x) * 3]!;
    if (v > lo && v < hi) n++;
  }
  return n;
}

function meanAbsError(out: Uint8Array): number {
  let e = 0;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) e += Math.abs(out[(y * W + x) * 3 + c]! - truthAt(x)[c]!);
  return e / (W * H * 3);
}

test('a step edge: guided methods keep it sharp where bicubic blurs it', async () => {
  const bicubic = await up(low, guide, { method: 'bicubic' });
  // At 4x, bicubic spreads the one mixed low-resolution column over about a low pixel each side:
  // several full-size pixels in the transition.
  assert.ok(edgeWidth(bicubic, 20) >= 3, `bicubic edge width ${edgeWidth(bicubic, 20)}`);
  for (const method of ['joint-bilateral', 'guided', 'guided-luma', 'detail'] as const) {
    const out = await up(low, guide, { method });
    // The guide's step is one pixel wide: at most one in-between pixel allows for rounding.
    for (const y of [0, 20, H - 1]) assert.ok(edgeWidth(out, y) <= 1, `${method}: edge width ${edgeWidth(out, y)} at row ${y}`);
    assert.ok(meanAbsError(out) < meanAbsError(bicubic) / 2, `${method}: error ${meanAbsError(out).toFixed(2)} vs bicubic ${meanAbsError(bicubic).toFixed(2)}`);
  }
});

test('a constant output stays constant whatever the guide', async () => {
  let seed = 7;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 255;
  const noisy = image(W, H, () => [rand(), rand(), rand()]);
  const flat = image(W / S, H / S, () => [100, 150, 200]);
  for (const method of UPSAMPLE_METHODS) {
    const out = await up(flat, noisy, { method });
    assert.equal(out.length, W * H * 3);
    let worst = 0;
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - [100, 150, 200][i % 3]!));
    assert.ok(worst <= 1, `${method}: off by ${worst}`);
  }
});

test('outside the rendered rectangle the fitted model is extrapolated from the source', async () => {
  // The output shows only x 16..47 (the step inside it), y 8..39 of the guide.
  const rect = { x: 16, y: 8, width: 32, height: 32 };
  const part = lowOf(16, 8, 8, 8);
  for (const method of ['guided', 'guided-luma', 'detail'] as const) {
    const out = await up(part, guide, { method, rect });
    // Far outside, left and right of the step: the colours the model maps dark and bright to.
    for (const [x, y] of [[0, 0], [2, 47], [63, 0], [60, 47]] as const) {
      const got = Array.from(out.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
      const want = truthAt(x);
      assert.ok(got.every((v, c) => Math.abs(v - want[c]!) <= 8), `${method} at (${x},${y}): ${got} vs ${want}`);
    }
    assert.ok(edgeWidth(out, 0) <= 1, `${method}: the edge stays sharp outside the rectangle too`);
  }
  // Bicubic has no model: it repeats the rectangle's edge pixels (the step keeps its blur).
  const bic = await up(part, guide, { method: 'bicubic', rect });
  assert.ok(edgeWidth(bic, 0) >= 3);
});

test('bad inputs are refused with an error naming the argument', async () => {
  const cases: [string, () => Promise<unknown>, RegExp, ErrorConstructor][] = [
    ['short data', () => up({ ...low, data: low.data.subarray(1) }, guide), /low\.data has/, RangeError],
    ['4 channels', () => up({ ...low, channels: 4 }, guide), /low\.channels/, RangeError],
    ['float data', () => up(low, { ...guide, data: new Float32Array(W * H * 3) as unknown as Uint8Array }), /guide\.data must be a Uint8Array/, TypeError],
    ['zero width', () => up({ ...low, width: 0 }, guide), /low\.width/, RangeError],
    ['unknown method', () => up(low, guide, { method: 'lanczos' as UpsampleMethod }), /options\.method/, RangeError],
    ['rect outside', () => up(low, guide, { rect: { x: 40, y: 0, width: 32, height: 48 } }), /options\.rect\.width/, RangeError],
    ['fractional rect', () => up(low, guide, { rect: { x: 0.5, y: 0, width: 32, height: 48 } }), /options\.rect\.x/, RangeError],
    ['eps out of range', () => up(low, guide, { eps: -1 }), /eps/, RangeError],
    ['radius out of range', () => up(low, guide, { radius: 0 }), /radius/, RangeError],
  ];
  for (const [name, call, message, type] of cases) {
    await assert.rejects(call, (e: Error) => e instanceof type && message.test(e.message), name);
  }
});

test('an aborted signal rejects with an AbortError', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(up(low, guide, {}, ac.signal), (e: Error) => e.name === 'AbortError');
});
