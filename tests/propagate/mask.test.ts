// Painted key-frame masks: outside the mask the output is the source frame; the mask follows
// the motion, with a feathered edge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { propagateVideo } from '../../src-main/propagate/propagate.ts';
import { addon, movingFrame, psnrRect, stylise } from './helpers.ts';

test('a key-frame mask is carried along the flow and composited over the source', async () => {
  const W = 96, H = 64, N = 5, v = 3;
  const frames = Array.from({ length: N }, (_, t) => movingFrame(t, W, H, v, 0));
  const mask = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W / 2; x++) mask[y * W + x] = 255;
  const out = new Map<number, Uint8Array>();
  await propagateVideo({
    frameCount: N, width: W, height: H, addon: addon(),
    sourceFrame: async (i) => frames[i] as Uint8Array,
    keyframes: [{ frame: 0, image: stylise(frames[0] as Uint8Array), mask }],
    writeFrame: async (i, rgb) => { out.set(i, rgb); },
  }, { maskFeather: 4 });
  const feather = 3 * 4 + 1; // three box passes of radius 4
  for (let t = 0; t < N; t++) {
    const o = out.get(t) as Uint8Array;
    const edge = W / 2 + v * t; // the mask edge moves with the content
    assert.equal(psnrRect(o, frames[t] as Uint8Array, W, edge + feather, 0, W, H), Infinity, `frame ${t}: right of the mask is the source`);
    const inside = psnrRect(o, stylise(frames[t] as Uint8Array), W, 6 + v * t, 6, edge - feather, H - 6);
    assert.ok(inside > 25, `frame ${t}: inside the mask is stylised (${inside.toFixed(1)} dB)`);
    // Past the moved edge (but before the feather), the pixel is a mix, neither pure source nor style.
    const mid = ((H / 2) * W + Math.round(edge)) * 3;
    assert.notEqual(o[mid], (frames[t] as Uint8Array)[mid]);
  }
});
