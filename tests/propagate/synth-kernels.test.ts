// Synthesis internals that must not change results: the SIMD kernel choice, the quantised
// feature range, and the synthesis settings' validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolveSettings } from '../../src-main/propagate/settings.ts';
import type { FloatImage } from '../../src-main/propagate/native.ts';
import { addon, movingFrame, psnr, stylise } from './helpers.ts';

const W = 64, H = 48;
const rgb = (data: Uint8Array) => ({ data, width: W, height: H, channels: 3 });

function hasAvx2(): boolean {
  try {
    return /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

function scene() {
  const src = movingFrame(0, W, H, 0, 0);
  const tgt = movingFrame(2, W, H, 1.5, -1, 0.02);
  return { style: rgb(stylise(src)), guides: [{ source: rgb(src), target: rgb(tgt), weight: 6 }], truth: stylise(tgt) };
}

test('SSE2 and AVX2 patch kernels give identical image, error and field', { skip: hasAvx2() ? false : 'this CPU has no AVX2' }, async () => {
  const { style, guides } = scene();
  const opts = { seed: 5, threads: 2, extraPass3x3: true, stopDilate: true, convergence: 0.002 };
  process.env.RERENDER_SYNTH_SIMD = 'sse2';
  let sse2;
  try {
    sse2 = await addon().synthesize(style, guides, opts);
  } finally {
    delete process.env.RERENDER_SYNTH_SIMD;
  }
  const avx2 = await addon().synthesize(style, guides, opts);
  assert.deepEqual(avx2.image.data, sse2.image.data);
  assert.deepEqual(avx2.error, sse2.error);
  assert.deepEqual(avx2.nnf, sse2.nnf);
});

test('float guides far outside 0..1 are quantised without overflow', async () => {
  // A guide worth 1000x the style's range: features are scaled to fit int16 from the inputs'
  // largest value, so the search still follows the guide instead of wrapping around.
  const { style, guides, truth } = scene();
  const big = (b: Uint8Array): FloatImage => ({ data: Float32Array.from(b, (v) => v * 1000 / 255), width: W, height: H, channels: 3 });
  const g = guides[0];
  assert.ok(g);
  const r = await addon().synthesize(style, [{ source: big(g.source.data as Uint8Array), target: big(g.target.data as Uint8Array), weight: 6 }], { seed: 1 });
  const ref = await addon().synthesize(style, guides, { seed: 1 });
  const p = psnr(r.image.data as Uint8Array, truth, W, H, 4), pRef = psnr(ref.image.data as Uint8Array, truth, W, H, 4);
  // A wrapped (overflowed) distance makes matches random: ~12 dB here.
  assert.ok(p > pRef - 1, `scaled guide ${p.toFixed(2)} dB vs ${pRef.toFixed(2)} dB`);
  assert.ok(r.error.every((e) => Number.isFinite(e) && e >= 0));
});

test('stop dilation and the convergence stop are honoured and keep the quality', async () => {
  const { style, guides, truth } = scene();
  const base = { seed: 2, patchMatchIters: 2, searchVoteIters: 8 };
  const strict = await addon().synthesize(style, guides, { ...base, stopDilate: false, convergence: 0 });
  const dilated = await addon().synthesize(style, guides, { ...base, stopDilate: true, convergence: 0 });
  const converged = await addon().synthesize(style, guides, { ...base, stopDilate: true, convergence: 0.5 });
  assert.notDeepEqual(dilated.nnf, strict.nnf, 'stopDilate is ignored');
  assert.notDeepEqual(converged.nnf, dilated.nnf, 'convergence is ignored');
  const q = (r: { image: { data: unknown } }) => psnr(r.image.data as Uint8Array, truth, W, H, 4);
  assert.ok(q(dilated) > q(strict) - 0.5, `dilated ${q(dilated).toFixed(2)} dB vs strict ${q(strict).toFixed(2)} dB`);
});

test('synthesis settings are validated', () => {
  assert.throws(() => resolveSettings({ convergence: -0.1 }), /convergence must be a finite number in \[0, 1\]/);
  assert.throws(() => resolveSettings({ convergence: Number.NaN }), RangeError);
  assert.throws(() => resolveSettings({ stopDilate: 1 as unknown as boolean }), /stopDilate must be a boolean/);
  assert.throws(() => resolveSettings({ voteMode: 'median' as unknown as 'plain' }), /voteMode must be 'weighted' or 'plain'/);
  const s = resolveSettings({ voteMode: 'plain', convergence: 0 });
  assert.equal(s.voteMode, 'plain');
  assert.equal(s.convergence, 0);
});
