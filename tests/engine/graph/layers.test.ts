// Op builders against small hand computations, and the ONNX writer itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../../../src-main/engine/graph/builder.ts';
import type { FloatType } from '../../../src-main/engine/graph/builder.ts';
import { attention, groupNorm, linear, timestepEmbedding, upsampleNearest2x } from '../../../src-main/engine/graph/layers.ts';
import type { LayerContext, OpChoices } from '../../../src-main/engine/graph/layers.ts';
import { decodeModel } from '../../../src-main/engine/graph/onnx-proto.ts';
import { floatToHalfBits, halfBitsToFloat } from '../../../src-main/engine/half.ts';
import { mapSource } from '../../../src-main/engine/graph/tensor-source.ts';
import type { WeightTensor } from '../../../src-main/engine/graph/builder.ts';
import { relError } from './ref.ts';

const ramp = (n: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => f(i));

function context(weights: Record<string, WeightTensor>, ops: Partial<OpChoices> = {}, floatType: FloatType = 'float32'): LayerContext {
  const opset = [{ domain: '', version: ops.groupNorm === 'native' ? 21 : 17 }, { domain: 'com.microsoft', version: 1 }];
  return {
    b: new GraphBuilder({ name: 'test', floatType, opset }),
    w: mapSource(new Map(Object.entries(weights))),
    ops: { groupNorm: 'instance', attention: 'matmul', ...ops },
  };
}

async function run(ctx: LayerContext, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(ctx.b.finish(), { intraOpNumThreads: 1 });
  return session.run(feeds);
}

test('half conversion rounds to nearest even and handles the edges', () => {
  assert.equal(floatToHalfBits(1), 0x3c00);
  assert.equal(floatToHalfBits(-2), 0xc000);
  assert.equal(floatToHalfBits(65504), 0x7bff);
  assert.equal(floatToHalfBits(70000), 0x7c00);
  assert.equal(floatToHalfBits(2 ** -24), 0x0001);
  assert.equal(floatToHalfBits(1 + 2 ** -11), 0x3c00); // tie → even
  assert.equal(floatToHalfBits(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
  // Bit patterns as numpy's float16 gives them (1e-5 is subnormal; 1234.5 is a tie → 1234).
  assert.deepEqual([0.1, -3.75, 1e-5, 1234.5].map(floatToHalfBits), [0x2e66, 0xc380, 0x00a8, 0x64d2]);
  assert.equal(halfBitsToFloat(0x2e66), 0.0999755859375);
  assert.equal(halfBitsToFloat(0x7c00), Infinity);
});

for (const form of ['native', 'instance', 'decomposed'] as const) {
  test(`GroupNorm (${form}) equals a direct computation`, async () => {
    const C = 6;
    const G = 3;
    const gamma = ramp(C, (i) => 1 + 0.25 * i);
    const beta = ramp(C, (i) => 0.1 * i - 0.2);
    const ctx = context({ 'gn.weight': { dims: [C], data: gamma }, 'gn.bias': { dims: [C], data: beta } }, { groupNorm: form });
    const x = ctx.b.input('x', ['b', C, 2, 3]);
    ctx.b.output(groupNorm(ctx, x, 'gn', G, 1e-5), 'y', ['b', C, 2, 3]);
    const input = ramp(2 * C * 6, (i) => Math.sin(i * 1.3) * 3);
    const got = (await run(ctx, { x: new ort.Tensor('float32', input, [2, C, 2, 3]) }))['y']!.data as Float32Array;
    const want = new Float32Array(input.length);
    const per = (C / G) * 6;
    for (let n = 0; n < 2; n++) {
      for (let g = 0; g < G; g++) {
        const start = n * C * 6 + g * per;
        const xs = input.subarray(start, start + per);
        const mean = xs.reduce((a, v) => a + v, 0) / per;
        const variance = xs.reduce((a, v) => a + (v - mean) ** 2, 0) / per;
        for (let k = 0; k < per; k++) {
          const c = g * (C / G) + Math.floor(k / 6);
          want[start + k] = ((xs[k]! - mean) / Math.sqrt(variance + 1e-5)) * gamma[c]! + beta[c]!;
        }
      }
    }
    assert.ok(relError(got, want) < 1e-5);
  });
}

for (const form of ['mha', 'matmul'] as const) {
  test(`attention (${form}) with more key tokens than queries equals softmax(QKᵀ/√d)V per head`, async () => {
    const [T, S, C, H] = [3, 5, 4, 2];
    const ctx = context({}, { attention: form });
    const q = ctx.b.input('q', [1, T, C]);
    const kv = ctx.b.input('kv', [1, S, C]);
    ctx.b.output(attention(ctx, q, kv, kv, { heads: H, dim: C }), 'o', [1, T, C]);
    const qd = ramp(T * C, (i) => Math.cos(i));
    const kd = ramp(S * C, (i) => Math.sin(i * 0.7));
    const got = (await run(ctx, { q: new ort.Tensor('float32', qd, [1, T, C]), kv: new ort.Tensor('float32', kd, [1, S, C]) }))['o']!.data as Float32Array;
    const d = C / H;
    const want = new Float32Array(T * C);
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const scores = Array.from({ length: S }, (_, s) => {
          let dot = 0;
          for (let j = 0; j < d; j++) dot += qd[t * C + h * d + j]! * kd[s * C + h * d + j]!;
          return dot / Math.sqrt(d);
        });
        const m = Math.max(...scores);
        const e = scores.map((v) => Math.exp(v - m));
        const z = e.reduce((a, v) => a + v, 0);
        for (let j = 0; j < d; j++) want[t * C + h * d + j] = e.reduce((a, p, s) => a + (p / z) * kd[s * C + h * d + j]!, 0);
      }
    }
    assert.ok(relError(got, want) < 1e-5);
  });
}

test('linear is x·Wᵀ + b; nearest upsampling repeats pixels', async () => {
  const ctx = context({ 'fc.weight': { dims: [2, 3], data: Float32Array.of(1, 2, 3, -1, 0, 1) }, 'fc.bias': { dims: [2], data: Float32Array.of(0.5, -0.5) } });
  const x = ctx.b.input('x', [1, 3]);
  ctx.b.output(linear(ctx, x, 'fc'), 'y', [1, 2]);
  const img = ctx.b.input('img', [1, 1, 1, 2]);
  ctx.b.output(upsampleNearest2x(ctx, img), 'up', [1, 1, 2, 4]);
  const r = await run(ctx, { x: new ort.Tensor('float32', Float32Array.of(1, 1, 2), [1, 3]), img: new ort.Tensor('float32', Float32Array.of(7, 9), [1, 1, 1, 2]) });
  assert.deepEqual([...(r['y']!.data as Float32Array)], [9.5, 0.5]);
  assert.deepEqual([...(r['up']!.data as Float32Array)], [7, 7, 9, 9, 7, 7, 9, 9]);
});

test('timestep embedding is [cos, sin](t·10000^(−i/half))', async () => {
  const ctx = context({});
  const t = ctx.b.input('t', [2]);
  ctx.b.output(timestepEmbedding(ctx, t, 8, true, 0), 'e', [2, 8]);
  const got = (await run(ctx, { t: new ort.Tensor('float32', Float32Array.of(0, 500), [2]) }))['e']!.data as Float32Array;
  const want: number[] = [];
  for (const tv of [0, 500]) {
    const args = [0, 1, 2, 3].map((i) => tv * Math.exp((-Math.log(10000) * i) / 4));
    want.push(...args.map(Math.cos), ...args.map(Math.sin));
  }
  assert.ok(relError(got, want) < 1e-5);
});

test('the written ModelProto decodes with its opsets, external-data fields and fp16 weights', () => {
  const ctx = context({ 'fc.weight': { dims: [2, 3], data: ramp(6, (i) => i) } }, {}, 'float16');
  const x = ctx.b.input('x', ['n', 3]);
  ctx.b.output(linear(ctx, x, 'fc'), 'y', ['n', 2]);
  const model = decodeModel(ctx.b.finish({ purpose: 'test' }));
  assert.deepEqual(model.opsetImport.map((o) => [o.domain ?? '', o.version]), [['', 17], ['com.microsoft', 1]]);
  assert.equal(model.graph.initializer[0]!.dataType, 10);
  assert.deepEqual(model.graph.initializer[0]!.dims, [3, 2]);
  assert.equal(model.graph.input[0]!.type.tensorType.shape.dim[0] && 'dimParam' in model.graph.input[0]!.type.tensorType.shape.dim[0] ? model.graph.input[0]!.type.tensorType.shape.dim[0].dimParam : null, 'n');
  assert.deepEqual(model.metadataProps, [{ key: 'purpose', value: 'test' }]);
});
