// Bad inputs reject with INVALID_ARGUMENT naming the field; nothing crashes. Work runs off the JS
// thread.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlendError, loadBlendAddon } from '../../src-main/propagate/blend.ts';
import type { BlendFrameInput } from '../../src-main/propagate/blend.ts';
import { addon } from './helpers.ts';

const W = 8;
const H = 6;
const N = W * H;

function valid(): BlendFrameInput {
  return {
    a: new Uint8Array(N * 3),
    b: new Uint8Array(N * 3).fill(100),
    errA: new Float32Array(N).fill(1),
    errB: new Float32Array(N).fill(2),
    w: 0.5,
    prevMask: new Uint8Array(N),
    flow: new Float32Array(N * 2),
    width: W,
    height: H,
  };
}

describe('argument validation', () => {
  const native = addon();

  it('accepts the valid fixture', async () => {
    const r = await native.blendFrame(valid());
    assert.equal(r.out.length, N * 3);
    assert.equal(r.mask.length, N);
  });

  const cases: Array<[string, Partial<Record<keyof BlendFrameInput, unknown>>, RegExp]> = [
    ['NaN w', { w: Number.NaN }, /w must be a number in \[0, 1\], got NaN/],
    ['w above 1', { w: 1.5 }, /w must be a number in \[0, 1\]/],
    ['w below 0', { w: -0.1 }, /w must be a number in \[0, 1\]/],
    ['w not a number', { w: '0.5' }, /w must be a number/],
    ['a of another size', { a: new Uint8Array((N + W) * 3) }, /a must hold 144 values, got 168/],
    ['b too short', { b: new Uint8Array(N) }, /b must hold 144 values/],
    ['errA too short', { errA: new Float32Array(N - 1) }, /errA must hold 48 values, got 47/],
    ['errB as Float64Array', { errB: new Float64Array(N) }, /errB must be a Float32Array/],
    ['NaN in errA', { errA: new Float32Array(N).fill(Number.NaN) }, /errA must hold only finite numbers/],
    ['flow of wrong length', { flow: new Float32Array(N) }, /flow must hold 96 values/],
    ['prevMask of wrong length', { prevMask: new Uint8Array(N + 1) }, /prevMask must hold 48 values/],
    ['prevMask with a value other than 0/1', { prevMask: new Uint8Array(N).fill(255) }, /prevMask must hold 0 \(A\) or 1 \(B\)/],
    ['zero width', { width: 0 }, /width must be an integer/],
    ['fractional height', { height: 5.5 }, /height must be an integer/],
    ['missing a', { a: undefined }, /a must be a Uint8Array/],
    ['negative screening', { options: { screening: -1 } }, /screening must be finite and >= 0/],
    ['screening with 2 values', { options: { screening: [1, 2] } }, /screening must have 1 or 3 values/],
    ['unknown colour space', { options: { colorSpace: 'hsv' as 'lab' } }, /colorSpace must be 'lab' or 'rgb'/],
    ['NaN gradClip', { options: { gradClip: Number.NaN } }, /gradClip must be > 0/],
    ['options not an object', { options: 3 }, /options must be an object/],
    ['unknown selection rule', { options: { selection: 'best' as 'carry' } }, /selection must be 'carry', 'hysteresis', 'nearest' or 'crossfade'/],
    ['negative hysteresis', { options: { hysteresis: -0.1 } }, /hysteresis must be a number in \[0, 100\]/],
    ['NaN hysteresis', { options: { hysteresis: Number.NaN } }, /hysteresis must be a number in \[0, 100\], got NaN/],
    ['fractional selectionRadius', { options: { selectionRadius: 1.5 } }, /selectionRadius must be an integer in \[0, 64\]/],
    ['selectionRadius too large', { options: { selectionRadius: 65 } }, /selectionRadius must be an integer in \[0, 64\]/],
    ['unknown mix', { options: { mix: 'median' as 'pick' } }, /mix must be 'histogram', 'alpha' or 'pick'/],
    ['mixBand above 100', { options: { mixBand: 101 } }, /mixBand must be a number in \[0, 100\]/],
    ['mix and histogram together', { options: { mix: 'alpha', histogram: false } }, /give mix or histogram, not both/],
    ['deflicker of 1', { options: { deflicker: 1 } }, /deflicker must be a number in \[0, 1\), got 1/],
    ['negative deflicker', { options: { deflicker: -0.2 } }, /deflicker must be a number in \[0, 1\)/],
    ['deflicker as a string', { options: { deflicker: '0.5' as unknown as number } }, /deflicker must be a number/],
    ['deflickerTolerance below 0.5', { options: { deflickerTolerance: 0 } }, /deflickerTolerance must be a number in \[0.5, 255\]/],
    ['infinite deflickerTolerance', { options: { deflickerTolerance: Infinity } }, /deflickerTolerance must be a number in \[0.5, 255\], got Infinity/],
    ['prevOut of wrong length', { prevOut: new Uint8Array(N) }, /prevOut must hold 144 values/],
    ['prevOut as Float32Array', { prevOut: new Float32Array(N * 3) as unknown as Uint8Array }, /prevOut must be a Uint8Array/],
  ];
  for (const [name, patch, message] of cases) {
    it(`rejects ${name}`, async () => {
      const input = { ...valid(), ...patch } as BlendFrameInput;
      await assert.rejects(native.blendFrame(input), (err: unknown) => {
        assert.ok(err instanceof BlendError);
        assert.equal(err.code, 'INVALID_ARGUMENT');
        assert.match(err.message, /^blendFrame: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('rejects bad poissonFuse and histogramBlend arguments', async () => {
    await assert.rejects(native.poissonFuse({ a: new Float32Array(N), target: new Float32Array(N - 1), width: W, height: H, channels: 1 }), { code: 'INVALID_ARGUMENT', message: /target must hold 48 values/ });
    await assert.rejects(native.poissonFuse({ a: new Float32Array(N * 5), target: new Float32Array(N * 5), width: W, height: H, channels: 5 }), { code: 'INVALID_ARGUMENT', message: /channels must be an integer in \[1, 4\]/ });
    await assert.rejects(native.histogramBlend({ a: new Uint8Array(N * 3), b: new Uint8Array(N * 3), composite: new Uint8Array(N * 3), w: 2, width: W, height: H }), { code: 'INVALID_ARGUMENT', message: /w must be a number in \[0, 1\]/ });
    await assert.rejects(native.selectMask(null as unknown as Parameters<typeof native.selectMask>[0]), { code: 'INVALID_ARGUMENT', message: /expects one argument object/ });
    const err = new Float32Array(N);
    await assert.rejects(native.selectMask({ errA: err, errB: err, w: 0.5, width: W, height: H, options: { selection: 'nope' as 'carry' } }), { code: 'INVALID_ARGUMENT', message: /^selectMask: selection must be/ });
    await assert.rejects(native.selectMask({ errA: err, errB: err, w: 0.5, width: W, height: H, options: 'x' as unknown as { selection: 'carry' } }), { code: 'INVALID_ARGUMENT', message: /options must be an object/ });
  });

  it('names the missing addon and how to build it', () => {
    assert.throws(() => loadBlendAddon('/nonexistent/rerender_native.node'), { name: 'BlendError', code: 'ADDON_MISSING', message: /not built.*build-native/ });
  });
});

describe('threading', () => {
  it('settles after the event loop has moved on, so the blend ran off the JS thread', async () => {
    const native = addon();
    const size = 512;
    const n = size * size;
    let settled = false;
    const started = native.blendFrame({
      a: new Uint8Array(n * 3).fill(120),
      b: new Uint8Array(n * 3).fill(30),
      errA: new Float32Array(n),
      errB: new Float32Array(n),
      w: 0.5,
      width: size,
      height: size,
    });
    void started.then(() => {
      settled = true;
    });
    // A blend computed during the call would have settled before the next loop turn.
    const settledAtNextTurn = await new Promise<boolean>((resolve) => setImmediate(() => resolve(settled)));
    const r = await started;
    assert.equal(settledAtNextTurn, false);
    assert.equal(r.out.length, n * 3);
  });
});
