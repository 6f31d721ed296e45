// Built-in annotators through the preprocessor interface: weights found under
// <models>/annotators/, compiled into the cache, run in the inference host; the user
// ONNX route as fallback; MODEL_MISSING naming both files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { annotatorPath, annotatorPreprocessor } from '../../../src-main/engine/control/index.ts';
import { depthInputSize, edgeBytes } from '../../../src-main/engine/control/builtin.ts';
import { GraphBuilder } from '../../../src-main/engine/graph/builder.ts';
import { InferenceHost } from '../../../src-main/engine/runtime/inference-host.ts';
import { ANNOTATOR_FIXTURES, annotatorRef } from './ref.ts';

let dir: string;
let host: InferenceHost;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'annotators-'));
  host = new InferenceHost({ provider: 'cpu' });
});
after(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

test('HED from ControlNetHED weights in the models folder: controlnet-aux\'s uint8 edge map, cached', async () => {
  const models = join(dir, 'm1');
  const cacheDir = join(dir, 'cache1');
  mkdirSync(join(models, 'annotators'), { recursive: true });
  // The original file's form: a half-precision torch.save state dict.
  copyFileSync(join(ANNOTATOR_FIXTURES, 'hed-tiny.pth'), join(models, 'annotators', 'ControlNetHED.pth'));
  const image = annotatorRef('hed.image');
  const want = annotatorRef('hed.edge_u8').data;
  const [h, w] = image.dims as [number, number];
  const hed = await annotatorPreprocessor('hed', models, host, { cacheDir });
  const out = await hed.run({ data: image.data as Uint8Array, width: w, height: h, channels: 3 });
  assert.deepEqual([out.width, out.height, out.channels], [w, h, 3]);
  let off = 0;
  for (let p = 0; p < w * h; p++) {
    assert.ok(out.data[p * 3] === out.data[p * 3 + 1] && out.data[p * 3] === out.data[p * 3 + 2]);
    if (Math.abs(out.data[p * 3]! - want[p]!) > (out.data[p * 3] === want[p] ? 0 : 1)) assert.fail(`pixel ${p}: ${out.data[p * 3]} vs ${want[p]}`);
    if (out.data[p * 3] !== want[p]) off++;
  }
  // Truncation at a float32 vs float64 sigmoid: a handful of pixels may sit on a step.
  assert.ok(off <= 3, `${off} pixels differ by one`);
  assert.equal(readdirSync(cacheDir).length, 1, 'one cache entry');
  await annotatorPreprocessor('hed', models, host, { cacheDir });
  assert.equal(readdirSync(cacheDir).length, 1, 'reused');
  await assert.rejects(hed.run({ data: new Uint8Array(12 * 40 * 3), width: 40, height: 12, channels: 3 }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');
});

test('depth from Depth Anything weights: a min-max normalised grey map at the image size', async () => {
  const models = join(dir, 'm3');
  mkdirSync(join(models, 'annotators'), { recursive: true });
  copyFileSync(join(ANNOTATOR_FIXTURES, 'depth-tiny.safetensors'), join(models, 'annotators', 'depth_anything_v2_vits.safetensors'));
  const config = JSON.parse(readFileSync(join(ANNOTATOR_FIXTURES, 'depth-tiny.config.json'), 'utf8')) as Record<string, unknown>;
  const image = annotatorRef('depth.image');
  const [h, w] = image.dims as [number, number];
  const depth = await annotatorPreprocessor('depth', models, host, { cacheDir: join(dir, 'cache3'), config });
  const out = await depth.run({ data: image.data as Uint8Array, width: w, height: h, channels: 3 });
  assert.deepEqual([out.width, out.height, out.channels], [w, h, 3]);
  let lo = 255;
  let hi = 0;
  for (let p = 0; p < w * h; p++) {
    assert.ok(out.data[p * 3] === out.data[p * 3 + 1] && out.data[p * 3] === out.data[p * 3 + 2]);
    lo = Math.min(lo, out.data[p * 3]!);
    hi = Math.max(hi, out.data[p * 3]!);
  }
  // Normalised to 0..255 at the network size, then resized (a peak can fall between samples).
  assert.ok(lo <= 5 && hi >= 200, `range ${lo}..${hi}`);
});

test('no original weights: the exported ONNX is used; neither: MODEL_MISSING naming both', async () => {
  const models = join(dir, 'm2');
  await assert.rejects(annotatorPreprocessor('hed', models, host, { cacheDir: join(dir, 'cache2') }),
    (e: Error & { code?: string }) => e.code === 'MODEL_MISSING' && e.message.includes('ControlNetHED.pth') && e.message.includes(annotatorPath(models, 'hed')));
  await assert.rejects(annotatorPreprocessor('depth', models, host, { cacheDir: join(dir, 'cache2') }),
    (e: Error & { code?: string }) => e.code === 'MODEL_MISSING' && e.message.includes('depth_anything_v2_vits.safetensors') && e.message.includes('depth.onnx'));
  const b = new GraphBuilder({ name: 'standin', floatType: 'float32', opset: [{ domain: '', version: 17 }] });
  const x = b.input('image', [1, 3, 'h', 'w']);
  b.output(b.op1('Sub', [b.op1('ReduceMean', [x], { axes: { ints: [1] }, keepdims: { i: 1 } }), b.constFloat([127.5], [1])]), 'edges', [1, 1, 'h', 'w']);
  mkdirSync(join(models, 'annotators'), { recursive: true });
  writeFileSync(annotatorPath(models, 'hed'), b.finish());
  const hed = await annotatorPreprocessor('hed', models, host, { cacheDir: join(dir, 'cache2') });
  const out = await hed.run({ data: new Uint8Array(16 * 16 * 3).fill(255), width: 16, height: 16, channels: 3 });
  assert.equal(out.data[0], 255);
});

test('edge bytes truncate as HEDdetector does; depth input keeps the aspect at 518 on the short side', () => {
  assert.deepEqual([...edgeBytes(Float32Array.of(0, 0.999, 0.5, 1, 1.2, -0.1))], [0, 254, 127, 255, 255, 0]);
  assert.deepEqual(depthInputSize(512, 512), [518, 518]);
  assert.deepEqual(depthInputSize(768, 512), [784, 518]);
  assert.deepEqual(depthInputSize(100, 300), [518, 1554]);
});
