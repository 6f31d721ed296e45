// Every flow method recovers a known sub-pixel translation both ways on a tiny generated texture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addon, movingFrame } from './helpers.ts';
import type { FlowMethod } from '../../src-main/propagate/native.ts';

const W = 64, H = 48, VX = 2.5, VY = -1.25;
const f0 = movingFrame(0, W, H, VX, VY);
const f1 = movingFrame(1, W, H, VX, VY);
const rgb = (data: Uint8Array) => ({ data, width: W, height: H, channels: 3 });
const METHODS: FlowMethod[] = ['dis-ultrafast', 'dis-fast', 'dis-medium', 'dis-fine', 'farneback'];

function medianError(flow: Float32Array, vx: number, vy: number): number {
  const err: number[] = [];
  for (let y = 8; y < H - 8; y++) {
    for (let x = 8; x < W - 8; x++) {
      const i = (y * W + x) * 2;
      err.push(Math.hypot((flow[i] as number) - vx, (flow[i + 1] as number) - vy));
    }
  }
  err.sort((p, q) => p - q);
  return err[Math.floor(err.length / 2)] as number;
}

for (const method of METHODS) {
  test(`${method} recovers a (${VX}, ${VY}) px translation both ways`, async () => {
    const { forward, backward } = await addon().computeFlow(rgb(f0), rgb(f1), method);
    assert.equal(forward.length, W * H * 2);
    const fe = medianError(forward, VX, VY), be = medianError(backward, -VX, -VY);
    assert.ok(fe < 0.3, `${method} forward: median end-point error ${fe.toFixed(3)} px`);
    assert.ok(be < 0.3, `${method} backward: median end-point error ${be.toFixed(3)} px`);
  });
}

test('an unknown method is a RangeError naming the choices', async () => {
  await assert.rejects(addon().computeFlow(rgb(f0), rgb(f1), 'raft' as FlowMethod), (e: Error) => e instanceof RangeError && /dis-fine/.test(e.message));
});
