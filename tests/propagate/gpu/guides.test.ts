/// <reference types="@webgpu/types" />
// WebGPU guide kernels (gpu/guides.ts) against the native addon's occlusionMask, warp, fillHoles,
// edgeGuide and advectNnf on tiny frames. Runs in the WebGPU lane
// (node scripts/test-webgpu.js tests/propagate/gpu/guides.test.ts), on SwiftShader where there is no
// GPU; the CPU lane skips them. Without an adapter they skip with the reason, except under CI=1 in
// the WebGPU lane, where they fail.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { GpuGuides } from '../../../src-main/propagate/gpu/guides.ts';
import { createGpuSynthesizer } from '../../../src-main/propagate/gpu/synthesizer.ts';
import { loadPropagateAddon } from '../../../src-main/propagate/native.ts';
import type { ByteImage, FloatImage } from '../../../src-main/propagate/image.ts';
import { ON_WEBGPU } from '../../helpers/provider.ts';
import { movingFrame } from '../helpers.ts';

const created = ON_WEBGPU ? await createGpuSynthesizer() : null;
const synth = created && !('unavailable' in created) ? created : null;
const guides = synth ? await GpuGuides.create(synth.gpuDevice) : null;
const skip = guides ? false : created && 'unavailable' in created ? `no WebGPU adapter: ${created.unavailable}` : 'WebGPU lane only';
if (!guides && ON_WEBGPU && process.env.CI) throw new Error(`WebGPU guide tests must run under CI, but ${skip}`);
after(() => {
  guides?.destroy();
  synth?.close();
});

const STORAGE = 0x80, COPY_SRC = 0x4, COPY_DST = 0x8, MAP_READ = 0x1;
const SIZES = [[64, 48], [37, 29]] as const;

function dev(): GPUDevice {
  return (synth as NonNullable<typeof synth>).gpuDevice;
}

/** A storage buffer of `words` 32-bit words holding `parts` at their word offsets (the rest is 0). */
function buffer(words: number, parts: [number, Float32Array | Int32Array | Uint32Array][] = []): GPUBuffer {
  const b = dev().createBuffer({ size: Math.max(16, Math.ceil(words / 4) * 16), usage: STORAGE | COPY_SRC | COPY_DST });
  for (const [off, data] of parts) dev().queue.writeBuffer(b, off * 4, data.buffer, data.byteOffset, data.byteLength);
  return b;
}

/** RGB bytes as u32 words, zero-padded to a whole word. */
function packed(bytes: Uint8Array): Uint32Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  out.set(bytes);
  return new Uint32Array(out.buffer);
}

async function read(src: GPUBuffer, offset: number, words: number): Promise<ArrayBuffer> {
  const rb = dev().createBuffer({ size: Math.max(16, Math.ceil(words / 4) * 16), usage: MAP_READ | COPY_DST });
  const enc = dev().createCommandEncoder();
  enc.copyBufferToBuffer(src, offset * 4, rb, 0, words * 4);
  dev().queue.submit([enc.finish()]);
  await rb.mapAsync(MAP_READ, 0, words * 4);
  const copy = rb.getMappedRange(0, words * 4).slice(0);
  rb.unmap();
  rb.destroy();
  return copy;
}
const readF = async (b: GPUBuffer, off: number, n: number) => new Float32Array(await read(b, off, n));

/**
 * A smooth flow (drift and shear) with a discontinuity: right of x = 0.6 W the content moves the
 * other way; the left columns point out of the frame. `other` is the reverse flow, exact left of
 * the discontinuity but for an error growing down the frame, so the forward-backward check both
 * passes and fails, many pixels close to its threshold.
 */
function flows(W: number, H: number): { flow: Float32Array; other: Float32Array } {
  const flow = new Float32Array(W * H * 2), other = new Float32Array(W * H * 2);
  const cut = Math.floor(0.6 * W);
  const fAt = (x: number, y: number): [number, number] => (x < cut
    ? [1.3 + 0.6 * Math.sin(y / 7), 0.45 + 0.03 * (x - W / 2)]
    : [-2.7 + 0.02 * y, -0.8 + 0.4 * Math.cos(x / 5)]);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const [fx, fy] = fAt(x, y);
      flow[2 * i] = x < 3 ? -4.5 - x : fx;
      flow[2 * i + 1] = fy;
      // The reverse of the left motion everywhere: consistent there, wrong across the cut; an error
      // growing down the frame moves the round trip smoothly across the check's threshold.
      const [bx, by] = fAt(Math.max(0, x - 2), y);
      other[2 * i] = -(x < cut + 2 ? bx : 1.3) + (1.3 * y) / H;
      other[2 * i + 1] = -by;
    }
  }
  return { flow, other };
}

function frameImage(W: number, H: number, t = 0): ByteImage {
  return { data: movingFrame(t, W, H, 1.3, 0.7, 0.05), width: W, height: H, channels: 3 };
}

function toFloat(a: Uint8Array): Float32Array {
  return Float32Array.from(a);
}

/** Max |a - b| and the share of equal values (after rounding a). */
function compare(gpu: Float32Array, cpu: ArrayLike<number>, where?: (i: number) => boolean): { max: number; same: number; n: number } {
  assert.equal(gpu.length, cpu.length);
  let max = 0, same = 0, n = 0;
  for (let i = 0; i < gpu.length; i++) {
    if (where && !where(i)) continue;
    const d = Math.abs((gpu[i] as number) - (cpu[i] as number));
    if (!(d <= max)) max = d; // NaN counts as a failure
    if (d === 0) same++;
    n++;
  }
  return { max, same: n ? same / n : 1, n };
}

const pct = (f: number) => `${(100 * f).toFixed(3)}%`;

for (const [W, H] of SIZES) {
  const N = W * H;

  test(`unpackRgb and edge match the addon's edgeGuide byte for byte at ${W}x${H}`, { skip }, async () => {
    const g = guides as GpuGuides;
    const img = frameImage(W, H);
    const words = packed(img.data);
    const src = buffer(words.length, [[0, words]]), dst = buffer(2 * N * 3);
    g.unpackRgb(src, dst, 0, W, H);
    g.edge(dst, 0, dst, N * 3, W, H, 3);
    g.submit();
    const unpacked = await readF(dst, 0, N * 3), edge = await readF(dst, N * 3, N * 3);
    assert.deepEqual(unpacked, toFloat(img.data));
    const cpu = (await loadPropagateAddon().edgeGuide(img)).data;
    const r = compare(edge, cpu);
    assert.equal(r.max, 0, `edge: max |diff| ${r.max}, ${pct(r.same)} equal`);
    // Not a flat 128: the texture has edges both ways, and some clamp.
    assert.ok(cpu.some((v) => v < 100) && cpu.some((v) => v > 160));
    src.destroy();
    dst.destroy();
  });

  test(`occlusion matches the addon's occlusionMask at ${W}x${H}`, { skip }, async () => {
    const g = guides as GpuGuides;
    const { flow, other } = flows(W, H);
    const fb = buffer(N * 2, [[0, flow]]), ob = buffer(N * 2, [[0, other]]), dst = buffer(N);
    g.occlusion(fb, ob, dst, 0, W, H);
    g.submit();
    const gpu = await readF(dst, 0, N);
    const cpu = await loadPropagateAddon().occlusionMask(flow, other, W, H);
    const r = compare(gpu, cpu);
    console.log(`occlusion ${W}x${H}: ${pct(r.same)} agree`);
    assert.ok(r.same >= 0.999, `occlusion agrees on ${pct(r.same)}`);
    const occluded = cpu.filter((v) => v === 255).length;
    assert.ok(occluded > N * 0.1 && occluded < N * 0.9, `${occluded}/${N} occluded`);
    for (const b of [fb, ob, dst]) b.destroy();
  });

  test(`warp (bilinear and nearest, u8 rounding; float; 1-channel mask) matches the addon at ${W}x${H}`, { skip }, async () => {
    const g = guides as GpuGuides;
    const a = loadPropagateAddon();
    const img = frameImage(W, H);
    const { flow } = flows(W, H);
    const mask = new Uint8Array(N).map((_, i) => ((i % W) * 7 + Math.floor(i / W) * 3) % 11 < 4 ? 255 : 0);
    const pos = new Float32Array(N * 2).map((_, i) => (i % 2 ? Math.floor(i / 2 / W) / H : ((i / 2) % W) / W));
    // Layout: image, mask, positional, then the four outputs.
    const o = { img: 0, mask: N * 3, pos: N * 4, bil: N * 6, near: N * 9, wm: N * 12, wp: N * 13 };
    const buf = buffer(N * 15, [[o.img, toFloat(img.data)], [o.mask, toFloat(mask)], [o.pos, pos.map((v) => v * 255)]]);
    const fb = buffer(N * 2, [[0, flow]]);
    g.warp(buf, o.img, fb, buf, o.bil, W, H, 3, { round: true });
    g.warp(buf, o.img, fb, buf, o.near, W, H, 3, { nearest: true, round: true });
    g.warp(buf, o.mask, fb, buf, o.wm, W, H, 1, { round: true });
    g.warp(buf, o.pos, fb, buf, o.wp, W, H, 2);
    g.submit();
    const bil = compare(await readF(buf, o.bil, N * 3), (await a.warp(img, flow)).data);
    const near = compare(await readF(buf, o.near, N * 3), (await a.warp(img, flow, { nearest: true })).data);
    const wm = compare(await readF(buf, o.wm, N), (await a.warp({ data: mask, width: W, height: H, channels: 1 }, flow)).data);
    const posCpu = (await a.warp<FloatImage>({ data: pos, width: W, height: H, channels: 2 }, flow)).data.map((v) => v * 255);
    const wp = compare(await readF(buf, o.wp, N * 2), posCpu);
    console.log(`warp ${W}x${H}: bilinear u8 ${pct(bil.same)} equal (max ${bil.max}), nearest ${pct(near.same)}, mask ${pct(wm.same)} (max ${wm.max}), float max |diff| ${wp.max.toExponential(2)} (0..255 scale)`);
    assert.ok(bil.max <= 1, `bilinear u8 max |diff| ${bil.max}`);
    assert.ok(bil.same >= 0.99, `bilinear u8 equal on ${pct(bil.same)}`);
    assert.equal(near.max, 0, 'nearest warp is a copy of the same source pixel');
    assert.ok(wm.max <= 1, `mask max |diff| ${wm.max}`);
    assert.ok(wp.max <= 1e-3, `float warp max |diff| ${wp.max}`);
    // Half-pixel shifts land on .5 averages of odd sums: the rounding rule (halves away from zero) shows.
    const half = new Float32Array(N * 2).map((_, i) => (i % 2 ? 0 : 0.5));
    const hb = buffer(N * 2, [[0, half]]);
    g.warp(buf, o.img, hb, buf, o.bil, W, H, 3, { round: true });
    g.submit();
    const halves = compare(await readF(buf, o.bil, N * 3), (await a.warp(img, half)).data);
    assert.equal(halves.max, 0, `half-pixel warp: max |diff| ${halves.max}, ${pct(halves.same)} equal`);
    for (const b of [buf, fb, hb]) b.destroy();
  });

  test(`fillHoles matches the addon's push-pull at ${W}x${H} (u8 rounded and float, dst = img too)`, { skip }, async () => {
    const g = guides as GpuGuides;
    const a = loadPropagateAddon();
    const img = frameImage(W, H, 2);
    // Holes: a big blob (several pyramid levels deep) plus scattered pixels and a border run.
    const mask = new Uint8Array(N);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const blob = (x - W * 0.4) ** 2 + (y - H * 0.55) ** 2 < (H * 0.3) ** 2;
        mask[y * W + x] = blob || (x * 13 + y * 7) % 17 === 0 || y === 0 ? 255 : 0;
      }
    }
    const o = { img: 0, mask: N * 3, u8: N * 4, f: N * 7, inPlace: N * 10 };
    const data = toFloat(img.data);
    const buf = buffer(N * 13, [[o.img, data], [o.mask, toFloat(mask)], [o.inPlace, data]]);
    g.fillHoles(buf, o.img, buf, o.mask, buf, o.u8, W, H, 3, { round: true });
    g.fillHoles(buf, o.img, buf, o.mask, buf, o.f, W, H, 3);
    g.fillHoles(buf, o.inPlace, buf, o.mask, buf, o.inPlace, W, H, 3, { round: true });
    g.submit();
    const cpu = (await a.fillHoles(img, mask)).data;
    const hole = (i: number) => mask[Math.floor(i / 3)] !== 0;
    const known = (i: number) => !hole(i);
    for (const [name, off] of [['u8', o.u8], ['in place', o.inPlace]] as const) {
      const got = await readF(buf, off, N * 3);
      const filled = compare(got, cpu, hole), kept = compare(got, cpu, known);
      console.log(`fillHoles ${W}x${H} ${name}: filled ${pct(filled.same)} equal (max ${filled.max}) over ${filled.n / 3} px`);
      assert.ok(filled.max <= 1, `${name}: filled max |diff| ${filled.max}`);
      assert.equal(kept.max, 0, `${name}: known pixels changed`);
    }
    // Float path: within rounding of the u8 result everywhere, and the holes really were filled.
    const f = await readF(buf, o.f, N * 3);
    assert.ok(compare(f, cpu).max <= 0.5 + 1e-3);
    assert.ok(compare(f, data, hole).max > 20, 'holes keep the original image');
    buf.destroy();
  });

  test(`advectNnf matches the addon exactly at ${W}x${H}`, { skip }, async () => {
    const g = guides as GpuGuides;
    const { flow } = flows(W, H);
    // Small positive integers are f32 denormals bit for bit: they must survive untouched.
    const nnf = new Int32Array(N * 2).map((_, i) => (i % 5 === 0 ? -(i * 7919) : i % 3 === 0 ? 0x7fffffff - i : (i * 31) % 97));
    const nb = buffer(N * 2, [[0, nnf]]), fb = buffer(N * 2, [[0, flow]]), dst = buffer(N * 2);
    g.advectNnf(nb, fb, dst, W, H);
    g.submit();
    const gpu = new Int32Array(await read(dst, 0, N * 2));
    const cpu = await loadPropagateAddon().advectNnf(nnf, flow, W, H);
    assert.deepEqual(gpu, cpu);
    assert.notDeepEqual(cpu, nnf);
    for (const b of [nb, fb, dst]) b.destroy();
  });
}

test('images at odd element offsets inside one shared buffer give the same results', { skip }, async () => {
  const g = guides as GpuGuides;
  const [W, H] = [37, 29], N = W * H;
  const img = frameImage(W, H);
  const { flow, other } = flows(W, H);
  const words = packed(img.data);
  // Everything in one buffer at odd offsets: inputs are read through the output binding.
  const o = { img: 5601, edge: 9001, occ: 13003, warp: 14301, fill: 17703 };
  const buf = buffer(21100);
  // unpackRgb and the flows read from element 0 of their buffers: those come in buffers of their own.
  const src = buffer(words.length, [[0, words]]), fb = buffer(N * 2, [[0, flow]]), ob = buffer(N * 2, [[0, other]]);
  g.unpackRgb(src, buf, o.img, W, H);
  g.edge(buf, o.img, buf, o.edge, W, H, 3);
  g.occlusion(fb, ob, buf, o.occ, W, H);
  g.warp(buf, o.img, fb, buf, o.warp, W, H, 3, { round: true });
  g.fillHoles(buf, o.warp, buf, o.occ, buf, o.fill, W, H, 3, { round: true });
  g.submit();
  const a = loadPropagateAddon();
  assert.deepEqual(await readF(buf, o.img, N * 3), toFloat(img.data));
  assert.equal(compare(await readF(buf, o.edge, N * 3), (await a.edgeGuide(img)).data).max, 0);
  const occ = await readF(buf, o.occ, N);
  const cpuOcc = await a.occlusionMask(flow, other, W, H);
  assert.ok(compare(occ, cpuOcc).same >= 0.999);
  const warped = await readF(buf, o.warp, N * 3);
  assert.ok(compare(warped, (await a.warp(img, flow)).data).max <= 1);
  // The fill is checked against the CPU's fill of the GPU's own warp and mask, so only the fill differs.
  const cpuFill = (await a.fillHoles({ data: Uint8Array.from(warped), width: W, height: H, channels: 3 }, Uint8Array.from(occ))).data;
  assert.ok(compare(await readF(buf, o.fill, N * 3), cpuFill).max <= 1);
  for (const b of [buf, src, fb, ob]) b.destroy();
});

test('two runs give identical results', { skip }, async () => {
  const g = guides as GpuGuides;
  const [W, H] = [64, 48], N = W * H;
  const img = frameImage(W, H);
  const { flow, other } = flows(W, H);
  const run = async () => {
    const buf = buffer(N * 10, [[0, toFloat(img.data)]]), fb = buffer(N * 2, [[0, flow]]), ob = buffer(N * 2, [[0, other]]);
    g.occlusion(fb, ob, buf, N * 3, W, H);
    g.warp(buf, 0, fb, buf, N * 4, W, H, 3);
    g.fillHoles(buf, N * 4, buf, N * 3, buf, N * 7, W, H, 3);
    g.submit();
    const out = new Uint8Array(await read(buf, 0, N * 10));
    for (const b of [buf, fb, ob]) b.destroy();
    return out;
  };
  const first = await run(), second = await run();
  assert.ok(Buffer.from(first).equals(Buffer.from(second)), 'runs differ');
});

test('bad arguments are refused before anything is recorded', { skip }, async () => {
  const g = guides as GpuGuides;
  const [W, H] = [16, 8], N = W * H;
  const buf = buffer(N * 6), fb = buffer(N * 2), small = buffer(N);
  assert.throws(() => g.warp(buf, 0, fb, buf, N * 3, 0, H, 3), RangeError);
  assert.throws(() => g.warp(buf, 0, fb, buf, N * 3, 15.5, H, 3), /width must be an integer/);
  assert.throws(() => g.edge(buf, 0, buf, N * 3, W, H, 0), /channels/);
  assert.throws(() => g.edge(buf, -1, buf, N * 3, W, H, 3), /offset/);
  assert.throws(() => g.edge(buf, 0, buf, N * 3 + 1, W, H, 3), /holds/);
  assert.throws(() => g.occlusion(fb, small, buf, 0, W, H), /other needs/);
  assert.throws(() => g.warp(buf, 0, fb, buf, 10, W, H, 3), /overlaps/);
  assert.throws(() => g.fillHoles(buf, 0, buf, N * 3, buf, N * 3 - 5, W, H, 3), /overlaps/);
  assert.throws(() => g.advectNnf({} as GPUBuffer, fb, small, W, H), TypeError);
  assert.throws(() => g.edge(buf, 0, buf, N * 3, W, H, '3' as unknown as number), TypeError);
  // Nothing was recorded by the refused calls: a submit now sends nothing and the device stays valid.
  dev().pushErrorScope('validation');
  g.submit();
  assert.equal(await dev().popErrorScope(), null);
  for (const b of [buf, fb, small]) b.destroy();
});

test('1x1 and single-row images fill as the addon does', { skip }, async () => {
  const g = guides as GpuGuides;
  const a = loadPropagateAddon();
  for (const [W, H] of [[1, 1], [9, 1], [1, 6]] as const) {
    const N = W * H;
    const img = frameImage(W, H);
    const mask = new Uint8Array(N).map((_, i) => (i % 3 === 1 || N === 1 ? 255 : 0));
    const buf = buffer(N * 7, [[0, toFloat(img.data)], [N * 3, toFloat(mask)]]);
    g.fillHoles(buf, 0, buf, N * 3, buf, N * 4, W, H, 3, { round: true });
    g.submit();
    const r = compare(await readF(buf, N * 4, N * 3), (await a.fillHoles(img, mask)).data);
    assert.ok(r.max <= 1, `${W}x${H}: max |diff| ${r.max}`);
    buf.destroy();
  }
});

test('the fill pyramid grows between calls of one submit without disturbing the recorded ones', { skip }, async () => {
  const g = await GpuGuides.create(dev());
  const a = loadPropagateAddon();
  const cases = [[9, 7], [64, 48]] as const;
  const bufs = cases.map(([W, H]) => {
    const N = W * H;
    const img = frameImage(W, H, 1);
    const mask = new Uint8Array(N).map((_, i) => ((i * 5) % 7 < 3 ? 255 : 0));
    const buf = buffer(N * 7, [[0, toFloat(img.data)], [N * 3, toFloat(mask)]]);
    // The second call needs a bigger pyramid than the first, which is recorded but not yet sent.
    g.fillHoles(buf, 0, buf, N * 3, buf, N * 4, W, H, 3, { round: true });
    return { W, H, N, img, mask, buf };
  });
  g.submit();
  for (const { W, H, N, img, mask, buf } of bufs) {
    const r = compare(await readF(buf, N * 4, N * 3), (await a.fillHoles(img, mask)).data);
    assert.ok(r.max <= 1, `${W}x${H}: max |diff| ${r.max}`);
    buf.destroy();
  }
  g.destroy();
  assert.throws(() => g.submit(), /destroyed/);
});
