// Optical flow, occlusion check, warping, hole filling, edge guide and field advection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addon, movingFrame, psnr } from './helpers.ts';
import { temporalConsistency, keyFramePsnr, styleFidelity } from '../../src-main/propagate/quality.ts';

const W = 96, H = 80;
const f0 = movingFrame(0, W, H, 3, 2);
const f1 = movingFrame(1, W, H, 3, 2);
const rgb = (data: Uint8Array) => ({ data, width: W, height: H, channels: 3 });

test('flow recovers a known translation both ways; the check flags pixels leaving the frame', async () => {
  const a = addon();
  for (const method of ['dis-medium', 'farneback'] as const) {
    const { forward, backward } = await a.computeFlow(rgb(f0), rgb(f1), method);
    const err: number[] = [];
    for (let y = 10; y < H - 10; y++) {
      for (let x = 10; x < W - 10; x++) {
        const i = (y * W + x) * 2;
        err.push(Math.hypot((forward[i] ?? 0) - 3, (forward[i + 1] ?? 0) - 2), Math.hypot((backward[i] ?? 0) + 3, (backward[i + 1] ?? 0) + 2));
      }
    }
    err.sort((p, q) => p - q);
    assert.ok((err[Math.floor(err.length / 2)] ?? 99) < 0.25, `${method}: median end-point error ${err[Math.floor(err.length / 2)]}`);
    const occ = await a.occlusionMask(forward, backward, W, H);
    let edge = 0, inner = 0;
    for (let y = 5; y < H - 5; y++) {
      edge += (occ[y * W + W - 1] ?? 0) / 255;
      for (let x = 10; x < W - 10; x++) inner += (occ[y * W + x] ?? 0) / 255;
    }
    assert.ok(edge > (H - 10) * 0.9, `${method}: last column should be occluded (${edge})`);
    assert.ok(inner < (H - 10) * (W - 20) * 0.05, `${method}: interior mostly visible (${inner})`);
  }
});

test('warp carries frame 1 back onto frame 0 along the forward flow', async () => {
  const a = addon();
  const { forward } = await a.computeFlow(rgb(f0), rgb(f1));
  const warped = await a.warp(rgb(f1), forward);
  const crop = (d: Uint8Array) => d.filter((_, i) => { const p = Math.floor(i / 3); const x = p % W, y = Math.floor(p / W); return x >= 8 && x < W - 8 && y >= 8 && y < H - 8; });
  assert.ok(psnr(crop(warped.data), crop(f0), W - 16, H - 16) > 30);
  const shift = new Float32Array(W * H * 2).fill(1);
  const moved = await a.warp(rgb(f0), shift, { nearest: true });
  assert.equal(moved.data[0], f0[(W + 1) * 3]);
});

test('fillHoles fills masked pixels from their surroundings only', async () => {
  const a = addon();
  const img = new Uint8Array(W * H * 3).fill(90);
  const mask = new Uint8Array(W * H);
  for (let y = 20; y < 40; y++) for (let x = 30; x < 60; x++) { mask[y * W + x] = 255; img.fill(250, (y * W + x) * 3, (y * W + x) * 3 + 3); }
  const out = await a.fillHoles(rgb(img), mask);
  assert.ok(out.data.every((v) => v === 90));
});

test('edge guide is flat (128) on flat input and responds to edges', async () => {
  const a = addon();
  const flat = await a.edgeGuide(rgb(new Uint8Array(W * H * 3).fill(77)));
  assert.ok(flat.data.every((v) => v === 128));
  const step = new Uint8Array(W * H * 3);
  for (let p = 0; p < W * H; p++) if (p % W >= W / 2) step.fill(200, p * 3, p * 3 + 3);
  const e = await a.edgeGuide(rgb(step));
  assert.equal(e.data[(10 * W + W / 2) * 3], 255);
  assert.equal(e.data[(10 * W + W / 2 - 1) * 3], 0);
});

test('advectNnf moves each match along the flow', async () => {
  const a = addon();
  const nnf = new Int32Array(W * H * 2).map((_, i) => i);
  const flow = new Float32Array(W * H * 2);
  for (let i = 0; i < flow.length; i += 2) flow[i] = 1;
  const out = await a.advectNnf(nnf, flow, W, H);
  assert.equal(out[0], nnf[2]);
  assert.equal(out[(W - 1) * 2], nnf[(W - 1) * 2], 'clamped at the border');
});

test('quality figures rank a steady sequence above a flickering one', async () => {
  const a = addon();
  const sources = [0, 1, 2].map((t) => movingFrame(t, W, H, 3, 2));
  const steady = await temporalConsistency(a, { width: W, height: H, outputs: sources, sources });
  const flicker = await temporalConsistency(a, { width: W, height: H, outputs: sources.map((s, t) => s.map((v) => Math.min(255, v + 25 * t))), sources });
  assert.equal(steady.pairs, 2);
  assert.ok(steady.psnr > flicker.psnr + 5, `${steady.psnr} vs ${flicker.psnr}`);
  assert.equal(keyFramePsnr(f0, f0), Infinity);
  const same = await styleFidelity(a, f0, f0, W, H);
  const other = await styleFidelity(a, new Uint8Array(W * H * 3).fill(128), f0, W, H);
  assert.ok(same < 1, `an image matches itself: ${same}`);
  assert.ok(other > 20, `a flat grey image is far from a texture: ${other}`);
});
