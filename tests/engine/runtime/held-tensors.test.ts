// Tensors kept in the inference worker between runs and fed back by key (Rerender's stored
// attention contexts), and the session options that leave them in GPU memory on WebGPU.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../../src-main/engine/graph/builder.ts';
import { DataType } from '../../../src-main/engine/graph/onnx-proto.ts';
import type { Tensor } from 'onnxruntime-node';
import { HeldTensors } from '../../../src-main/engine/runtime/held-tensors.ts';
import { InferenceHost } from '../../../src-main/engine/runtime/inference-host.ts';
import type { LoadedModel } from '../../../src-main/engine/runtime/inference-host.ts';
import { sessionOptions } from '../../../src-main/engine/runtime/session-options.ts';
import { fromHalf, toHalf } from '../../../src-main/engine/half.ts';

let dir: string;
let host: InferenceHost;

/** y = 2x (float32) and h = half(x + 1) (float16). */
function producer(): Uint8Array {
  const b = new GraphBuilder({ name: 'producer', floatType: 'float32', opset: [{ domain: '', version: 17 }] });
  const x = b.input('x', [2, 3]);
  b.output(b.op1('Mul', [x, b.constFloat([2], [])]), 'y', [2, 3]);
  b.output(b.op1('Cast', [b.op1('Add', [x, b.constFloat([1], [])])], { to: { i: DataType.FLOAT16 } }), 'h', [2, 3], DataType.FLOAT16);
  return b.finish();
}

/** z = y + float(h). */
function consumer(): Uint8Array {
  const b = new GraphBuilder({ name: 'consumer', floatType: 'float32', opset: [{ domain: '', version: 17 }] });
  const y = b.input('y', [2, 3]);
  const h = b.input('h', [2, 3], DataType.FLOAT16);
  b.output(b.op1('Add', [y, b.op1('Cast', [h], { to: { i: DataType.FLOAT } })]), 'z', [2, 3]);
  return b.finish();
}

let prod: LoadedModel;
let cons: LoadedModel;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'held-'));
  writeFileSync(join(dir, 'p.onnx'), producer());
  writeFileSync(join(dir, 'c.onnx'), consumer());
  host = new InferenceHost({ provider: 'cpu', intraOpThreads: 1 });
  prod = await host.load(join(dir, 'p.onnx'));
  cons = await host.load(join(dir, 'c.onnx'));
});
after(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

const x = Float32Array.of(0, 1, 2, 3, 4, -5);

test('kept outputs stay in the worker and feed later runs by key, float16 included', async () => {
  const out = await host.run(prod, { x: { type: 'float32', dims: [2, 3], data: x } }, { keep: { y: 'y0', h: 'h0' } });
  assert.deepEqual(Object.keys(out), [], 'kept outputs are not returned');
  const s = await host.held();
  assert.equal(s.count, 2);
  assert.equal(s.bytes, 6 * 4 + 6 * 2);
  assert.equal(s.deviceBytes, 0);
  const z = await host.run(cons, { y: { held: 'y0' }, h: { held: 'h0' } });
  assert.deepEqual([...(z['z']!.data as Float32Array)], [...x].map((v) => 3 * v + 1));
  // A float16 feed sent from this thread reaches the graph with its bits intact.
  const bits = toHalf(Float32Array.of(0.5, 1.5, -2, 3, 0.25, 8));
  const z2 = await host.run(cons, { y: { held: 'y0' }, h: { type: 'float16', dims: [2, 3], data: bits } });
  assert.deepEqual([...(z2['z']!.data as Float32Array)], [...x].map((v, i) => 2 * v + fromHalf(bits)[i]!));
});

test('a float16 output returned to the caller comes as its raw bits', async () => {
  const out = await host.run(prod, { x: { type: 'float32', dims: [2, 3], data: x } }, { outputs: ['h'] });
  const h = out['h']!;
  assert.equal(h.type, 'float16');
  assert.ok(h.data instanceof Uint16Array);
  assert.deepEqual([...fromHalf(h.data as Uint16Array)], [...x].map((v) => v + 1));
});

test('keeping under a used key replaces it; drop releases; the peak is remembered until reset', async () => {
  await host.drop(['y0', 'h0']);
  await host.held({ resetPeak: true });
  await host.run(prod, { x: { type: 'float32', dims: [2, 3], data: x } }, { keep: { y: 'k' } });
  await host.run(prod, { x: { type: 'float32', dims: [2, 3], data: x } }, { keep: { y: 'k', h: 'k2' } });
  let s = await host.held();
  assert.equal(s.count, 2);
  assert.equal(s.peakBytes, 24 + 12);
  s = await host.drop(['k', 'k2', 'unknown']);
  assert.equal(s.count, 0);
  assert.equal(s.bytes, 0);
  assert.equal(s.peakBytes, 36);
  assert.equal((await host.held({ resetPeak: true })).peakBytes, 36);
  assert.equal((await host.held()).peakBytes, 0);
  await assert.rejects(host.run(cons, { y: { held: 'k' }, h: { held: 'k2' } }), /no held tensor "k"/);
});

test('WebGPU sessions leave the named outputs in GPU memory; other providers never do', () => {
  const names = ['attn1_ctx.a', 'attn1_ctx.b'];
  assert.deepEqual(sessionOptions('webgpu', { intraOpThreads: 0, deviceOutputs: names }).preferredOutputLocation, { 'attn1_ctx.a': 'gpu-buffer', 'attn1_ctx.b': 'gpu-buffer' });
  // The Node binding can bind device outputs for WebGPU only; CUDA and CPU outputs come to host memory.
  assert.equal(sessionOptions('cuda', { intraOpThreads: 0, deviceOutputs: names }).preferredOutputLocation, undefined);
  assert.equal(sessionOptions('cpu', { intraOpThreads: 2, deviceOutputs: names }).preferredOutputLocation, undefined);
  assert.equal(sessionOptions('webgpu', { intraOpThreads: 0 }).preferredOutputLocation, undefined);
  assert.equal(sessionOptions('cpu', { intraOpThreads: 2 }).intraOpNumThreads, 2);
});

test('a GPU tensor dropped or replaced while a running call reads it is freed when the last reader ends', () => {
  const freed: string[] = [];
  // Stand-ins with the fields HeldTensors reads; dispose() records what was freed.
  const tensor = (name: string, location: 'gpu-buffer' | 'cpu') => ({ type: 'float32', dims: [2], location, dispose: () => freed.push(name) }) as unknown as Tensor;
  const held = new HeldTensors();
  const a = tensor('a', 'gpu-buffer');
  held.set('k', a);
  const r1 = held.acquire('k');
  const r2 = held.acquire('k');
  assert.equal(r1, a);
  held.set('k', tensor('b', 'gpu-buffer'));
  assert.deepEqual(freed, [], 'replaced, but two calls still read it');
  assert.equal(held.stats().count, 1, 'the key holds the new tensor at once');
  assert.equal(held.stats().deviceBytes, 8);
  held.release(r1);
  assert.deepEqual(freed, []);
  held.release(r2);
  assert.deepEqual(freed, ['a']);
  const b = held.acquire('k');
  held.drop('k');
  assert.equal(held.stats().count, 0);
  assert.deepEqual(freed, ['a']);
  held.release(b);
  assert.deepEqual(freed, ['a', 'b']);
  // Not in use: freed at once, as before; host-memory tensors are left to the garbage collector.
  held.set('g', tensor('g', 'gpu-buffer'));
  held.drop('g');
  held.set('c', tensor('c', 'cpu'));
  held.release(held.acquire('c'));
  held.drop('c');
  assert.deepEqual(freed, ['a', 'b', 'g']);
});
