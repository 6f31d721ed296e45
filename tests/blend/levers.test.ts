// The blend's quality levers on inputs whose answer is known: the selection rules, picking
// instead of mixing (no ghost of the other direction), and the temporal de-flicker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlendError, blendSequence, validateBlendOptions } from '../../src-main/propagate/blend.ts';
import type { BlendFrameResult, BlendOptions, SequenceFrame } from '../../src-main/propagate/blend.ts';
import { addon, filled, maxAbsDiff, rgbImage, rng, texture } from './helpers.ts';

const W = 32;
const H = 24;
const N = W * H;

function randomErrors(seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: N }, () => 1 + r() * 10);
}

/** Runs blendSequence over 0..last on frames from `frame`, returning every result. */
async function walk(last: number, frame: (t: number) => SequenceFrame, options: BlendOptions): Promise<BlendFrameResult[]> {
  const out: BlendFrameResult[] = [];
  await blendSequence(addon(), {
    first: 0, last, width: W, height: H, options,
    loadFrame: async (t) => frame(t),
    saveFrame: async (t, r) => {
      out[t] = r;
    },
  });
  return out;
}

describe('selection rules', () => {
  const native = addon();

  it("'nearest' takes A up to the middle and B after it, whatever the errors", async () => {
    const errA = randomErrors(1);
    const errB = randomErrors(2);
    const options = { selection: 'nearest' as const };
    for (const [w, side] of [[0, 0], [4 / 9, 0], [0.5, 0], [5 / 9, 1], [1, 1]] as const) {
      const mask = await native.selectMask({ errA, errB, w, width: W, height: H, options });
      assert.ok(mask.every((m) => m === side), `w=${w} should be all ${side ? 'B' : 'A'}`);
    }
    // Over a 10-frame interval the switch is between frames 4 and 5, and with the composite picked
    // unfused the output is A's or B's frame itself.
    const a = rgbImage(W, H, () => [200, 30, 30]);
    const b = rgbImage(W, H, () => [30, 30, 200]);
    const results = await walk(9, () => ({ a, b, errA, errB, flow: null }), { ...options, mix: 'pick', poisson: false });
    results.forEach((r, t) => {
      assert.ok(r.mask.every((m) => m === (t <= 4 ? 0 : 1)), `frame ${t}`);
      assert.ok(maxAbsDiff(r.out, t <= 4 ? a : b) <= 1, `frame ${t} output`);
    });
  });

  it("'carry' never switches back, 'hysteresis' switches back only past its margin", async () => {
    const prevMask = filled(new Uint8Array(N), 1);
    const errB = filled(new Float32Array(N), 10);
    // At w = 0.5 the weighted errors are errA/2 vs errB/2: A is better by 10 % on the left half
    // and by 50 % on the right half.
    const errA = Float32Array.from({ length: N }, (_, i) => (i % W < W / 2 ? 9 : 5));
    const carry = await native.selectMask({ errA, errB, w: 0.5, prevMask, width: W, height: H, options: { selection: 'carry' } });
    assert.ok(carry.every((m) => m === 1));
    const hyst = await native.selectMask({ errA, errB, w: 0.5, prevMask, width: W, height: H, options: { selection: 'hysteresis', hysteresis: 0.25 } });
    for (let i = 0; i < N; i++) assert.equal(hyst[i], i % W < W / 2 ? 1 : 0, `pixel ${i}`);
    // From A, B must also win by the margin: 10 % better is not enough, 50 % is.
    const fromA = await native.selectMask({ errA: errB, errB: errA, w: 0.5, prevMask: new Uint8Array(N), width: W, height: H, options: { selection: 'hysteresis', hysteresis: 0.25 } });
    for (let i = 0; i < N; i++) assert.equal(fromA[i], i % W < W / 2 ? 0 : 1, `pixel ${i}`);
    // The key frames hold whatever was carried.
    const atEnd = await native.selectMask({ errA: new Float32Array(N), errB: new Float32Array(N), w: 1, prevMask: new Uint8Array(N), width: W, height: H, options: { selection: 'hysteresis' } });
    assert.ok(atEnd.every((m) => m === 1));
  });

  it('selectionRadius switches regions, not single pixels', async () => {
    const errA = filled(new Float32Array(N), 1);
    const errB = filled(new Float32Array(N), 2);
    const speck = 10 * W + 10;
    errA[speck] = 8; // one pixel where B looks better
    const perPixel = await native.selectMask({ errA, errB, w: 0.5, width: W, height: H });
    assert.equal(perPixel[speck], 1);
    assert.equal(perPixel.reduce((s, m) => s + m, 0), 1);
    const smoothed = await native.selectMask({ errA, errB, w: 0.5, width: W, height: H, options: { selectionRadius: 2 } });
    assert.ok(smoothed.every((m) => m === 0));
    // A whole region where B is better still switches.
    for (let y = 4; y < 12; y++) for (let x = 4; x < 12; x++) errA[y * W + x] = 8;
    const region = await native.selectMask({ errA, errB, w: 0.5, width: W, height: H, options: { selectionRadius: 2 } });
    assert.equal(region[8 * W + 8], 1);
    assert.equal(region[20 * W + 28], 0);
  });

  it("'crossfade' returns (1-w)A + wB", async () => {
    const a = rgbImage(W, H, (x) => [x * 8, 100, 40]);
    const b = rgbImage(W, H, (_x, y) => [20, y * 10, 220]);
    const err = new Float32Array(N);
    const r = await native.blendFrame({ a, b, errA: err, errB: err, w: 0.25, width: W, height: H, options: { selection: 'crossfade', colorSpace: 'rgb' } });
    for (let i = 0; i < N * 3; i++) assert.ok(Math.abs(r.out[i]! - (0.75 * a[i]! + 0.25 * b[i]!)) <= 0.5 + 1e-9, `value ${i}`);
  });
});

describe("mix: 'pick'", () => {
  const native = addon();
  // Two copies of one sharp pattern, B shifted 4 px: what A and B look like where the two
  // propagations disagree about where an edge is.
  const t = texture(5);
  const pattern = (x: number, y: number): [number, number, number] => (Math.floor(x / 8) % 2 ? [220, 200, 60] : [30, 60, 160]).map((v) => v + 20 * t(x, y)) as [number, number, number];
  const a = rgbImage(W, H, pattern);
  const b = rgbImage(W, H, (x, y) => pattern(x + 4, y));
  const errA = filled(new Float32Array(N), 1);
  const errB = filled(new Float32Array(N), 3);

  it('keeps the chosen side without a ghost of the other, where mixing leaves one', async () => {
    // The default: pick, gradients unclipped.
    const picked = await native.blendFrame({ a, b, errA, errB, w: 0.5, width: W, height: H });
    assert.ok(picked.mask.every((m) => m === 0));
    assert.ok(maxAbsDiff(picked.out, a) <= 2, `pick differs from A by ${maxAbsDiff(picked.out, a)}`);
    for (const mix of ['histogram', 'alpha'] as const) {
      const mixed = await native.blendFrame({ a, b, errA, errB, w: 0.5, width: W, height: H, options: { mix } });
      assert.ok(maxAbsDiff(mixed.out, a) > 20, `${mix}: the shifted B shows through (${maxAbsDiff(mixed.out, a)})`);
    }
    // Clipping the gradients flattens the yellow/blue steps even when nothing is mixed.
    const clipped = await native.blendFrame({ a, b, errA, errB, w: 0.5, width: W, height: H, options: { gradClip: 100 } });
    assert.ok(maxAbsDiff(clipped.out, a) > 10, `clipped ${maxAbsDiff(clipped.out, a)}`);
  });

  it('mixBand mixes only where the weighted errors are close', async () => {
    const rgb = { colorSpace: 'rgb' as const, poisson: false, deflicker: 0 };
    // Left half: equal errors (mixed half and half); right half: A 8x better, |ln 8| > 1 (picked).
    const eA = Float32Array.from({ length: N }, (_, i) => (i % W < W / 2 ? 2 : 0.25));
    const eB = filled(new Float32Array(N), 2);
    const banded = await native.blendFrame({ a, b, errA: eA, errB: eB, w: 0.5, width: W, height: H, options: { ...rgb, mixBand: 1 } });
    for (let i = 0; i < N; i++) {
      const want = i % W < W / 2 ? [0, 1, 2].map((c) => (a[3 * i + c]! + b[3 * i + c]!) / 2) : [0, 1, 2].map((c) => a[3 * i + c]!);
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(banded.out[3 * i + c]! - want[c]!) <= 1, `pixel ${i}`);
    }
    const off = await native.blendFrame({ a, b, errA: eA, errB: eB, w: 0.5, width: W, height: H, options: rgb });
    // Off, every pixel is picked (the exact ties on the left go to B at w = 0.5).
    assert.ok(maxAbsDiff(off.out, off.composite) <= 1);
    assert.ok(maxAbsDiff(banded.out, banded.composite) > 20, 'the band did mix');
  });

  it('survives negative and huge errors and non-finite flow with every lever on', async () => {
    const eA = Float32Array.from({ length: N }, (_, i) => (i % 3 === 0 ? -5 : i % 3 === 1 ? 3e38 : 0));
    const flow = Float32Array.from({ length: N * 2 }, (_, i) => (i % 5 === 0 ? Infinity : i % 5 === 1 ? -1e9 : 0.5));
    const r = await native.blendFrame({ a, b, errA: eA, errB: eA, w: 0.5, flow, prevMask: new Uint8Array(N), prevOut: b, width: W, height: H, options: { mixBand: 2, selectionRadius: 3 } });
    assert.equal(r.out.length, N * 3);
    assert.ok(r.mask.every((m) => m === 0 || m === 1));
  });

  it('the legacy histogram flag still selects the data term, and cannot be combined with mix', async () => {
    const legacy = await native.blendFrame({ a, b, errA, errB, w: 0.5, width: W, height: H, options: { histogram: false } });
    const alpha = await native.blendFrame({ a, b, errA, errB, w: 0.5, width: W, height: H, options: { mix: 'alpha' } });
    assert.deepEqual(legacy.out, alpha.out);
    await assert.rejects(native.blendFrame({ a, b, errA, errB, w: 0.5, width: W, height: H, options: { mix: 'pick', histogram: true } }), { code: 'INVALID_ARGUMENT', message: /mix or histogram/ });
  });
});

describe('de-flicker', () => {
  const base = texture(9);
  const zeroFlow = new Float32Array(N * 2);
  const errs = { errA: filled(new Float32Array(N), 1), errB: filled(new Float32Array(N), 1) };

  /** Mean absolute change between consecutive interior outputs (flow is zero: a static scene). */
  function flicker(results: BlendFrameResult[]): number {
    let sum = 0;
    let count = 0;
    for (let t = 2; t < results.length - 1; t++) {
      for (let i = 0; i < N * 3; i++) sum += Math.abs(results[t]!.out[i]! - results[t - 1]!.out[i]!);
      count += N * 3;
    }
    return sum / count;
  }

  it('reduces frame-to-frame noise of a static scene', async () => {
    // Static texture with noise redrawn every frame: what flickering synthesis looks like.
    const frame = (t: number): SequenceFrame => {
      const r = rng(100 + t);
      const img = rgbImage(W, H, (x, y) => {
        const v = 60 + 120 * base(x, y) + (r() - 0.5) * 16;
        return [v, v * 0.8, 255 - v];
      });
      // No flow: a static camera, as for the carried mask.
      return { a: img, b: img, ...errs, flow: null };
    };
    const plain = flicker(await walk(9, frame, { deflicker: 0 }));
    const filtered = flicker(await walk(9, frame, {}));
    assert.ok(plain > 3, `the fixture flickers (${plain})`);
    assert.ok(filtered < 0.6 * plain, `de-flickered ${filtered} vs ${plain}`);
  });

  it('does not smear an edge the flow does not explain, and keeps the last key as given', async () => {
    // A bright square moving 3 px per frame while the flow says nothing moves.
    const frame = (t: number): SequenceFrame => {
      const img = rgbImage(W, H, (x, y) => (x >= 4 + 3 * t && x < 12 + 3 * t && y >= 6 && y < 16 ? [250, 250, 250] : [20, 30, 40]));
      return { a: img, b: img, ...errs, flow: zeroFlow };
    };
    const results = await walk(6, frame, { deflicker: 0.9 });
    results.forEach((r, t) => assert.ok(maxAbsDiff(r.out, frame(t).a) <= 2, `frame ${t} differs by ${maxAbsDiff(r.out, frame(t).a)}`));
  });

  it('follows the flow: a moving noisy pattern is averaged along its motion', async () => {
    // Every pixel came from 2 px to its left; the texture moves with it, noise redrawn per frame.
    const flow = new Float32Array(N * 2);
    for (let i = 0; i < N; i++) flow[2 * i] = -2;
    const frame = (t: number): SequenceFrame => {
      const r = rng(300 + t);
      const img = rgbImage(W, H, (x, y) => {
        const v = 60 + 120 * base(x - 2 * t, y) + (r() - 0.5) * 16;
        return [v, v, v];
      });
      return { a: img, b: img, ...errs, flow };
    };
    const clean = (t: number) => rgbImage(W, H, (x, y) => {
      const v = 60 + 120 * base(x - 2 * t, y);
      return [v, v, v];
    });
    const errorAt = (results: BlendFrameResult[], t: number) => {
      // Away from the left border, where the source lies outside the previous frame.
      let s = 0;
      let c = 0;
      const truth = clean(t);
      for (let y = 0; y < H; y++) for (let x = 4; x < W; x++) for (let ch = 0; ch < 3; ch++) {
        const i = (y * W + x) * 3 + ch;
        s += Math.abs(results[t]!.out[i]! - truth[i]!);
        c++;
      }
      return s / c;
    };
    const plain = await walk(8, frame, { deflicker: 0 });
    const filtered = await walk(8, frame, {});
    assert.ok(errorAt(filtered, 6) < 0.8 * errorAt(plain, 6), `error ${errorAt(filtered, 6)} vs ${errorAt(plain, 6)}`);
  });

  it('resuming with the saved output reproduces the uninterrupted run', async () => {
    const frame = (t: number): SequenceFrame => {
      const r = rng(500 + t);
      const img = rgbImage(W, H, () => [100 + r() * 20, 90, 80]);
      return { a: img, b: img, errA: randomErrors(600 + t), errB: randomErrors(700 + t), flow: zeroFlow };
    };
    const options: BlendOptions = { deflicker: 0.5 };
    const full = await walk(7, frame, options);
    const resumed: Uint8Array[] = [];
    await blendSequence(addon(), {
      first: 0, last: 7, width: W, height: H, options,
      loadFrame: async (t) => frame(t),
      saveFrame: async (t, r) => {
        resumed[t] = r.out;
      },
      resume: { from: 4, prevMask: full[3]!.mask, prevOut: full[3]!.out },
    });
    for (let t = 4; t <= 7; t++) assert.deepEqual(resumed[t], full[t]!.out, `frame ${t}`);
    await assert.rejects(
      blendSequence(addon(), { first: 0, last: 7, width: W, height: H, loadFrame: async (t) => frame(t), saveFrame: async () => {}, resume: { from: 4, prevMask: full[3]!.mask, prevOut: new Uint8Array(5) } }),
      { code: 'INVALID_ARGUMENT', message: /resume output/ },
    );
  });
});

describe('validateBlendOptions', () => {
  it('accepts the defaults and every documented value', () => {
    validateBlendOptions(undefined);
    validateBlendOptions({});
    validateBlendOptions({ selection: 'nearest', mix: 'alpha', hysteresis: 0, selectionRadius: 64, deflicker: 0.99, deflickerTolerance: 0.5, gradClip: Infinity, screening: [0.1, 0.2, 0.3], poisson: false, colorSpace: 'rgb' });
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['an array', [], /must be an object/],
    ['an unknown selection', { selection: 'best' }, /selection must be one of carry, hysteresis, nearest, crossfade/],
    ['an unknown mix', { mix: 'median' }, /mix must be one of/],
    ['deflicker 1', { deflicker: 1 }, /deflicker must be a number in \[0, 1\), got 1/],
    ['a string deflicker', { deflicker: '0.5' }, /deflicker must be a number/],
    ['a fractional radius', { selectionRadius: 1.5 }, /selectionRadius must be an integer/],
    ['NaN hysteresis', { hysteresis: Number.NaN }, /hysteresis must be a number/],
    ['a tolerance of 0', { deflickerTolerance: 0 }, /deflickerTolerance must be a number in \[0.5, 255\]/],
    ['mix with histogram', { mix: 'pick', histogram: true }, /mix or histogram/],
    ['a non-boolean poisson', { poisson: 1 }, /poisson must be a boolean/],
    ['two screening values', { screening: [1, 2] }, /screening must be/],
    ['a negative mixBand', { mixBand: -1 }, /mixBand must be a number in \[0, 100\]/],
  ];
  for (const [name, options, message] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(() => validateBlendOptions(options), (err: unknown) => err instanceof BlendError && err.code === 'INVALID_ARGUMENT' && message.test(err.message));
    });
  }

  it('blendSequence rejects bad options before loading any frame', async () => {
    let loaded = 0;
    await assert.rejects(
      blendSequence(addon(), { first: 0, last: 3, width: W, height: H, options: { deflicker: 2 }, loadFrame: async () => { loaded++; throw new Error('not reached'); }, saveFrame: async () => {} }),
      { code: 'INVALID_ARGUMENT', message: /deflicker/ },
    );
    assert.equal(loaded, 0);
  });
});
