// WebGPU patch synthesis against the CPU addon on tiny frames. Runs in the WebGPU lane
// (node scripts/test-webgpu.js tests/propagate/gpu/synth.test.ts), on SwiftShader where there is
// no GPU; the CPU lane skips them. Without an adapter they skip with the reason, except under CI=1
// in the WebGPU lane, where they fail.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createGpuSynthesizer } from '../../../src-main/propagate/gpu/synthesizer.ts';
import type { GpuSynthesizer } from '../../../src-main/propagate/gpu/synthesizer.ts';
import type { ByteImage, GuideInput, SynthOptions } from '../../../src-main/propagate/native.ts';
import { addon, movingFrame, stylise } from '../helpers.ts';
import { ON_WEBGPU } from '../../helpers/provider.ts';

const created = ON_WEBGPU ? await createGpuSynthesizer() : null;
const gpu: GpuSynthesizer | null = created && !('unavailable' in created) ? created : null;
const skip = gpu ? false : created && 'unavailable' in created ? `no WebGPU adapter: ${created.unavailable}` : 'WebGPU lane only';
if (!gpu && ON_WEBGPU && process.env.CI) throw new Error(`WebGPU synthesis tests must run under CI, but ${skip}`);
after(() => gpu?.close());

const W = 48, H = 40;
const rgb = (data: Uint8Array, w = W, h = H): ByteImage => ({ data, width: w, height: h, channels: 3 });

function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  return 10 * Math.log10((255 * 255) / Math.max(1e-9, s / a.length));
}

function mean(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

/** Key frame 0 stylised; frame 1 is the texture moved by (3, 2) px: the guide says where it went. */
function scene(): { style: ByteImage; guides: GuideInput[]; truth: Uint8Array } {
  const f0 = movingFrame(0, W, H, 0, 0), f1 = movingFrame(1, W, H, 3, 2);
  return { style: rgb(stylise(f0)), guides: [{ source: rgb(f0), target: rgb(f1), weight: 2 }], truth: stylise(f1) };
}

const OPTS: SynthOptions = { searchVoteIters: 6, patchMatchIters: 4, seed: 3 };

test('matches the CPU addon in quality on the same inputs', { skip }, async () => {
  const g = gpu as GpuSynthesizer;
  const { style, guides, truth } = scene();
  const [c, r] = [await addon().synthesize(style, guides, OPTS), await g.synthesize(style, guides, OPTS)];
  assert.equal(r.image.width, W);
  assert.equal(r.image.height, H);
  assert.ok(r.image.data instanceof Uint8Array);
  assert.equal(r.error.length, W * H);
  assert.equal(r.nnf.length, W * H * 2);
  // Both approximate the same optimum with different random streams and propagation orders: they
  // agree to ~34 dB here; 28 dB still fails on any systematic error (a one-pixel shift of the
  // whole field scores ~20 dB on this texture, a wrong channel order or scale far less).
  const agree = psnr(r.image.data, c.image.data);
  assert.ok(agree >= 28, `GPU vs CPU output PSNR ${agree.toFixed(2)} dB < 28`);
  const gpuTruth = psnr(r.image.data, truth), cpuTruth = psnr(c.image.data, truth);
  assert.ok(gpuTruth >= cpuTruth - 1, `GPU ${gpuTruth.toFixed(2)} dB vs CPU ${cpuTruth.toFixed(2)} dB against the truth`);
  // Same error definition (weighted SSD per pixel / patch area): the means agree within 25%.
  const ratio = mean(r.error) / mean(c.error);
  assert.ok(ratio > 0.75 && ratio < 1.25, `mean patch error GPU/CPU = ${ratio.toFixed(3)}`);
  for (let i = 0; i < r.nnf.length; i += 2) {
    assert.ok((r.nnf[i] as number) >= 2 && (r.nnf[i] as number) <= W - 3 && (r.nnf[i + 1] as number) >= 2 && (r.nnf[i + 1] as number) <= H - 3, `nnf entry ${i / 2} outside the source`);
  }
});

test('is deterministic: two runs give identical bytes', { skip }, async () => {
  const g = gpu as GpuSynthesizer;
  const { style, guides } = scene();
  const opts = { ...OPTS, searchVoteIters: 3 };
  const a = await g.synthesize(style, guides, opts);
  const b = await g.synthesize(style, guides, opts);
  assert.deepEqual(Buffer.from(a.image.data.buffer), Buffer.from(b.image.data.buffer));
  assert.deepEqual(Buffer.from(a.error.buffer), Buffer.from(b.error.buffer));
  assert.deepEqual(Buffer.from(a.nnf.buffer), Buffer.from(b.nnf.buffer));
  const other = await g.synthesize(style, guides, { ...opts, seed: 4 });
  assert.notDeepEqual(Buffer.from(a.nnf.buffer), Buffer.from(other.nnf.buffer), 'the seed must change the random streams');
});

test('a known translation reproduces the shifted style', { skip }, async () => {
  const g = gpu as GpuSynthesizer;
  const { style, guides, truth } = scene();
  const r = await g.synthesize(style, guides, { ...OPTS, uniformityWeight: 0 });
  assert.ok(psnr(r.image.data, truth) >= 24, `PSNR vs the shifted style ${psnr(r.image.data, truth).toFixed(2)} dB`);
  // Interior pixels should point 3 px left and 2 px up of themselves.
  let hits = 0, n = 0;
  for (let y = 6; y < H - 6; y++) {
    for (let x = 6; x < W - 6; x++) {
      const i = (y * W + x) * 2;
      n++;
      if (Math.abs((r.nnf[i] as number) - (x - 3)) <= 1 && Math.abs((r.nnf[i + 1] as number) - (y - 2)) <= 1) hits++;
    }
  }
  assert.ok(hits / n >= 0.8, `only ${(100 * hits / n).toFixed(0)}% of interior matches follow the motion`);
});

test('starts from initNnf and keeps float images as floats', { skip }, async () => {
  const g = gpu as GpuSynthesizer;
  const { style, guides, truth } = scene();
  const init = new Int32Array(W * H * 2);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) { init[(y * W + x) * 2] = x - 3; init[(y * W + x) * 2 + 1] = y - 2; }
  // No search at all: the output is the vote of the (clamped) starting field, i.e. the shifted style.
  const r = await g.synthesize(style, guides, { initNnf: init, pyramidLevels: 1, searchVoteIters: 1, patchMatchIters: 0 });
  assert.ok(psnr(r.image.data, truth) >= 24, `initNnf vote PSNR ${psnr(r.image.data, truth).toFixed(2)} dB`);
  assert.equal(r.nnf[(20 * W + 20) * 2], 17);
  assert.equal(r.nnf[(20 * W + 20) * 2 + 1], 18);
  const fstyle = { data: Float32Array.from(style.data, (v) => v / 255), width: W, height: H, channels: 3 };
  const f = await g.synthesize(fstyle, guides, { initNnf: init, pyramidLevels: 1, searchVoteIters: 1, patchMatchIters: 0 });
  assert.ok(f.image.data instanceof Float32Array);
  for (let i = 0; i < f.image.data.length; i += 97) {
    assert.ok(Math.abs((f.image.data[i] as number) * 255 - (r.image.data[i] as number)) <= 0.5 + 1e-3, `float output differs at ${i}`);
  }
});

test('rejects bad input with the same errors as the addon, and honours an aborted signal', { skip }, async () => {
  const g = gpu as GpuSynthesizer;
  const { style, guides } = scene();
  await assert.rejects(g.synthesize(style, guides, { patchSize: 4 }), { name: 'RangeError', message: /patchSize must be odd/ });
  await assert.rejects(g.synthesize(style, [{ ...guides[0] as GuideInput, source: rgb(new Uint8Array(10 * 10 * 3), 10, 10) }]), { name: 'RangeError', message: /guides\[0\]\.source is 10x10 but the style image is 48x40/ });
  await assert.rejects(g.synthesize(style, guides, { initNnf: new Int32Array(5) }), { name: 'RangeError', message: /initNnf must hold width\*height\*2 = 3840/ });
  await assert.rejects(g.synthesize({ ...style, data: new Uint8Array(7) }, guides), { name: 'RangeError', message: /style\.data has 7 elements/ });
  await assert.rejects(g.synthesize(style, guides, { voteMode: 'median' as 'plain' }), { name: 'TypeError', message: /voteMode/ });
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(g.synthesize(style, guides, OPTS, ac.signal), { name: 'AbortError' });
  // Aborted mid-run (from the first progress report): stops between batches.
  const mid = new AbortController();
  const seen: number[] = [];
  await assert.rejects(g.synthesize(style, guides, OPTS, mid.signal, (f) => { seen.push(f); mid.abort(); }), { name: 'AbortError' });
  assert.equal(seen.length, 1);
  assert.ok((seen[0] as number) > 0 && (seen[0] as number) < 1);
  // Still usable afterwards.
  const ok = await g.synthesize(style, guides, { ...OPTS, searchVoteIters: 1, patchMatchIters: 1 });
  assert.equal(ok.image.data.length, W * H * 3);
});

test('without guides: output size from the options, plain vote, extra 3x3 pass', { skip }, async () => {
  const g = gpu as GpuSynthesizer;
  const { style } = scene();
  const opts: SynthOptions = { width: 40, height: 32, voteMode: 'plain', extraPass3x3: true, searchVoteIters: 2, patchMatchIters: 2 };
  const [c, r] = [await addon().synthesize(style, [], opts), await g.synthesize(style, [], opts)];
  assert.equal(r.image.width, 40);
  assert.equal(r.image.height, 32);
  assert.equal(r.image.data.length, 40 * 32 * 3);
  // The final pass uses 3x3 patches: matches may reach one pixel from the border.
  let nearBorder = false;
  for (let i = 0; i < r.nnf.length; i += 2) {
    const x = r.nnf[i] as number, y = r.nnf[i + 1] as number;
    assert.ok(x >= 1 && x <= W - 2 && y >= 1 && y <= H - 2, `nnf entry ${i / 2} outside the source`);
    if (x === 1 || y === 1 || x === W - 2 || y === H - 2) nearBorder = true;
  }
  assert.ok(nearBorder, 'no match uses the 3x3 pass border range');
  // Texture synthesis from the style alone: the per-pixel error (per patch area) is on the CPU's scale.
  const ratio = mean(r.error) / mean(c.error);
  assert.ok(ratio > 0.5 && ratio < 2, `mean patch error GPU/CPU = ${ratio.toFixed(3)}`);
});

test("occupancyRefresh 'iteration' recounts patch usage once per search-vote iteration: fewer dispatches, the same result quality", { skip }, async () => {
  const g = gpu as GpuSynthesizer;
  const { style, guides, truth } = scene();
  const pass = await g.synthesize(style, guides, OPTS);
  const perPass = g.lastDispatches;
  const once = await g.synthesize(style, guides, { ...OPTS, occupancyRefresh: 'iteration' });
  const perIteration = g.lastDispatches;
  // 3 occupancy dispatches before each of the 4 Jacobi passes, or before the first only: 9 fewer
  // per search-vote iteration on every level.
  const levels = (perPass - perIteration) / (9 * (OPTS.searchVoteIters as number));
  assert.ok(Number.isInteger(levels) && levels >= 1, `${perPass} dispatches per pass, ${perIteration} per iteration`);
  assert.ok(!Buffer.from(pass.nnf.buffer).equals(Buffer.from(once.nnf.buffer)), 'the option changed nothing');
  assert.ok(psnr(once.image.data, truth) >= psnr(pass.image.data, truth) - 1, `vs the moved style: ${psnr(once.image.data, truth).toFixed(2)} dB per iteration, ${psnr(pass.image.data, truth).toFixed(2)} dB per pass`);
  await assert.rejects(g.synthesize(style, guides, { ...OPTS, occupancyRefresh: 'never' as 'pass' }), { name: 'TypeError', message: /occupancyRefresh must be 'pass' or 'iteration'/ });
});

test('convergence and stopDilate as on the CPU: a level stops early on the GPU, and dilation keeps more pixels searching', { skip }, async () => {
  const g = gpu as GpuSynthesizer;
  const { style, guides, truth } = scene();
  const opts: SynthOptions = { ...OPTS, searchVoteIters: 12, pyramidLevels: 2 };
  const full = await g.synthesize(style, guides, { ...opts, stopThreshold: 0 });
  assert.equal(g.lastIterations, 24, 'without a stop rule every iteration of both levels runs');
  const converged = await g.synthesize(style, guides, { ...opts, stopThreshold: 0, convergence: 0.01 });
  const ranConverged = g.lastIterations;
  assert.ok(ranConverged >= 2 && ranConverged < 24, `${ranConverged} iterations with convergence 0.01`);
  assert.ok(psnr(converged.image.data, truth) >= psnr(full.image.data, truth) - 1, `converged ${psnr(converged.image.data, truth).toFixed(2)} dB, full ${psnr(full.image.data, truth).toFixed(2)} dB`);
  // A tighter bound runs at least as many iterations.
  await g.synthesize(style, guides, { ...opts, stopThreshold: 0, convergence: 0.0001 });
  assert.ok(g.lastIterations >= ranConverged, `${g.lastIterations} iterations at 0.0001 vs ${ranConverged} at 0.01`);
  // Frozen pixels: dilation unfreezes a patch radius around moving ones, so the field differs.
  const plain = await g.synthesize(style, guides, { ...opts, stopThreshold: 5 });
  const dilated = await g.synthesize(style, guides, { ...opts, stopThreshold: 5, stopDilate: true });
  assert.ok(!Buffer.from(plain.nnf.buffer).equals(Buffer.from(dilated.nnf.buffer)), 'stopDilate changed nothing');
  assert.ok(psnr(dilated.image.data, truth) >= psnr(plain.image.data, truth) - 1);
  await assert.rejects(g.synthesize(style, guides, { ...opts, stopDilate: 1 as unknown as boolean }), { name: 'TypeError', message: /stopDilate must be a boolean/ });
  await assert.rejects(g.synthesize(style, guides, { ...opts, convergence: 2 }), { name: 'RangeError', message: /convergence/ });
});
