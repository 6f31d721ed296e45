// Error-based selection: the end points of the interval, the decision rule, and masks that once
// switched to B stay switched (also when the carried mask is moved by the flow).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blendSequence } from '../../src-main/propagate/blend.ts';
import type { BlendFrameResult, SequenceFrame } from '../../src-main/propagate/blend.ts';
import { addon, filled, rgbImage, rng } from './helpers.ts';

const W = 24;
const H = 16;
const N = W * H;

function randomErrors(seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: N }, () => r() * 10);
}

describe('selectMask / blendFrame selection', () => {
  const native = addon();
  const a = rgbImage(W, H, () => [200, 40, 40]);
  const b = rgbImage(W, H, () => [40, 40, 200]);

  it('w = 0 keeps A everywhere and w = 1 takes B everywhere, given equal errors', async () => {
    const err = filled(new Float32Array(N), 3);
    const at0 = await native.blendFrame({ a, b, errA: err, errB: err, w: 0, width: W, height: H });
    assert.deepEqual([...new Set(at0.mask)], [0]);
    assert.deepEqual(at0.composite, a);
    const at1 = await native.blendFrame({ a, b, errA: err, errB: err, w: 1, width: W, height: H });
    assert.deepEqual([...new Set(at1.mask)], [1]);
    assert.deepEqual(at1.composite, b);
  });

  it('w = 0 and w = 1 hold at the key frames even when the errors disagree (and are zero)', async () => {
    const zero = new Float32Array(N);
    const errs = randomErrors(1);
    assert.ok((await native.selectMask({ errA: errs, errB: zero, w: 0, width: W, height: H })).every((m) => m === 0));
    assert.ok((await native.selectMask({ errA: zero, errB: errs, w: 1, width: W, height: H })).every((m) => m === 1));
  });

  it('chooses B exactly where w*errA > (1-w)*errB mid-interval', async () => {
    const errA = randomErrors(2);
    const errB = randomErrors(3);
    for (const w of [0.25, 0.5, 0.8]) {
      const mask = await native.selectMask({ errA, errB, w, width: W, height: H });
      let switched = 0;
      for (let i = 0; i < N; i++) {
        const expected = w * errA[i]! > (1 - w) * errB[i]! ? 1 : 0;
        assert.equal(mask[i], expected, `pixel ${i} at w=${w}`);
        switched += expected;
      }
      assert.ok(switched > 0 && switched < N, 'the fixture exercises both sides');
    }
  });

  // The 'carry' rule (hysteresis, the default, is tested in levers.test.ts).
  const carry = { selection: 'carry' as const };

  it('carries the previous mask, moved by the backward flow, and ORs the new decision in', async () => {
    const prevMask = new Uint8Array(N);
    for (let y = 4; y < 8; y++) for (let x = 4; x < 8; x++) prevMask[y * W + x] = 1;
    // Every pixel came from 3 px to its left: the carried block moves 3 px right.
    const flow = new Float32Array(N * 2);
    for (let i = 0; i < N; i++) flow[2 * i] = -3;
    const never = filled(new Float32Array(N), 1);
    const mask = await native.selectMask({ errA: new Float32Array(N), errB: never, w: 0.5, prevMask, flow, width: W, height: H, options: carry });
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const inBlock = y >= 4 && y < 8 && x >= 7 && x < 11;
        assert.equal(mask[y * W + x], inBlock ? 1 : 0, `(${x}, ${y})`);
      }
    }
  });

  it('masks over a sequence never switch back from B to A', async () => {
    const frames = 8;
    let prevMask: Uint8Array | null = null;
    const flow = new Float32Array(N * 2); // static scene
    for (let t = 0; t < frames; t++) {
      const w = t / (frames - 1);
      // Errors redrawn every frame, so without the carry pixels would flip back and forth.
      const mask: Uint8Array = await native.selectMask({ errA: randomErrors(10 + t), errB: randomErrors(50 + t), w, prevMask, flow, width: W, height: H, options: carry });
      if (prevMask) {
        for (let i = 0; i < N; i++) assert.ok(mask[i]! >= prevMask[i]!, `pixel ${i} switched back at frame ${t}`);
      }
      prevMask = mask;
    }
    assert.ok(prevMask?.every((m) => m === 1), 'the last frame is all B');
  });
});

describe('blendSequence', () => {
  const native = addon();
  const frameFor = (t: number): SequenceFrame => ({
    a: rgbImage(W, H, (x, y) => [(x * 9 + t) % 256, y * 15, 90]),
    b: rgbImage(W, H, (x, y) => [(x * 9 + t) % 256, y * 15, 150]),
    errA: randomErrors(100 + t),
    errB: randomErrors(200 + t),
    flow: new Float32Array(N * 2),
  });

  it('walks the interval in order, carrying the mask, and reports progress', async () => {
    const seen: number[] = [];
    const masks: Uint8Array[] = [];
    const progress: string[] = [];
    const last = await blendSequence(native, {
      first: 10,
      last: 15,
      width: W,
      height: H,
      options: { selection: 'carry' },
      loadFrame: async (t) => frameFor(t),
      saveFrame: async (t, r: BlendFrameResult) => {
        seen.push(t);
        masks.push(r.mask);
        assert.equal(r.out.length, N * 3);
      },
      onProgress: (p) => progress.push(`${p.done}/${p.total}`),
    });
    assert.deepEqual(seen, [10, 11, 12, 13, 14, 15]);
    assert.deepEqual(progress, ['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']);
    assert.ok(masks[0]!.every((m) => m === 0), 'frame k is A');
    assert.ok(last.every((m) => m === 1), "frame k' is B");
    for (let f = 1; f < masks.length; f++) {
      for (let i = 0; i < N; i++) assert.ok(masks[f]![i]! >= masks[f - 1]![i]!);
    }

    // Resuming at frame 13 from the saved mask of 12 reproduces the remaining masks.
    const resumed: Uint8Array[] = [];
    await blendSequence(native, {
      first: 10,
      last: 15,
      width: W,
      height: H,
      options: { selection: 'carry' },
      loadFrame: async (t) => frameFor(t),
      saveFrame: async (_t, r) => {
        resumed.push(r.mask);
      },
      resume: { from: 13, prevMask: masks[2]! },
    });
    assert.deepEqual(resumed, masks.slice(3));
  });

  it('stops with CANCELLED when the signal fires between frames', async () => {
    const controller = new AbortController();
    const saved: number[] = [];
    await assert.rejects(
      blendSequence(native, {
        first: 0,
        last: 5,
        width: W,
        height: H,
        loadFrame: async (t) => frameFor(t),
        saveFrame: async (t) => {
          saved.push(t);
          if (t === 1) controller.abort();
        },
        signal: controller.signal,
      }),
      { name: 'BlendError', code: 'CANCELLED' },
    );
    assert.deepEqual(saved, [0, 1]);
  });

  it('rejects an empty interval and a resume point outside it', async () => {
    const base = { width: W, height: H, loadFrame: async (t: number) => frameFor(t), saveFrame: async () => {} };
    await assert.rejects(blendSequence(native, { ...base, first: 4, last: 4 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(blendSequence(native, { ...base, first: 0, last: 4, resume: { from: 0, prevMask: new Uint8Array(N) } }), { code: 'INVALID_ARGUMENT' });
  });
});
