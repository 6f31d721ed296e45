// The runtime's device handling: capabilities read from the adapter, the precision chosen from them,
// a provider that fails its first run handing the session on, and failures in plain words. The
// WebGPU cases run in the WebGPU lane (scripts/test-webgpu.js); on the CPU lane they are skipped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../../src-main/engine/graph/builder.ts';
import { DataType } from '../../../src-main/engine/graph/onnx-proto.ts';
import { InferenceHost } from '../../../src-main/engine/runtime/inference-host.ts';
import type { ProviderNote } from '../../../src-main/engine/runtime/providers.ts';
import { StableDiffusionPipeline } from '../../../src-main/engine/pipeline/index.ts';
import { FIXTURES } from '../graph/ref.ts';
import { ON_WEBGPU } from '../../helpers/provider.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'runtime-webgpu-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** y = 2x computed in float16 inside: a device without fp16 shaders fails it on its first run. */
function halfModel(): string {
  const b = new GraphBuilder({ name: 'half', floatType: 'float16', opset: [{ domain: '', version: 17 }] });
  const x = b.input('x', [3]);
  const y = b.op1('Mul', [b.op1('Cast', [x], { to: { i: DataType.FLOAT16 } }), b.constFloat([2, 2, 2], [3])]);
  b.output(b.op1('Cast', [y], { to: { i: DataType.FLOAT } }), 'y', [3]);
  const path = join(dir, 'half.onnx');
  writeFileSync(path, b.finish());
  return path;
}

/** Reshapes [n] to [2, 3]: any n but 6 fails at run time, inside onnxruntime. */
function reshapeModel(): string {
  const b = new GraphBuilder({ name: 'reshape', floatType: 'float32', opset: [{ domain: '', version: 17 }] });
  const x = b.input('x', ['n']);
  b.output(b.op1('Reshape', [x, b.constInt64([2, 3])]), 'y', [2, 3]);
  const path = join(dir, 'reshape.onnx');
  writeFileSync(path, b.finish());
  return path;
}

const x3 = { x: { type: 'float32' as const, dims: [3], data: Float32Array.of(1, 2, 3) } };

test('a run that fails on the last provider is a typed error in plain words, without the engine\'s log text', async () => {
  const host = new InferenceHost({ provider: 'cpu', intraOpThreads: 1 });
  try {
    const model = await host.load(reshapeModel());
    await assert.rejects(host.run(model, { x: { type: 'float32', dims: [5], data: new Float32Array(5) } }), (err: Error & { code?: string; notes?: ProviderNote[] }) => {
      assert.equal(err.code, 'ENGINE_UNAVAILABLE');
      assert.match(err.message, /^The model failed while running on the CPU: /);
      assert.doesNotMatch(err.message, /\.(cc|h):\d|Status Message/);
      assert.ok(!err.message.includes(String.fromCharCode(27)), 'no terminal colour codes');
      assert.match(err.notes?.[0]?.detail ?? '', /^cpu: /);
      return true;
    });
    // The session is still there for a good run.
    const ok = await host.run(model, { x: { type: 'float32', dims: [6], data: new Float32Array(6) } });
    assert.deepEqual(ok['y']?.dims, [2, 3]);
  } finally {
    await host.close();
  }
});

describe('on WebGPU', { skip: !ON_WEBGPU && 'the WebGPU lane runs these (npm run test:webgpu)' }, () => {
  test('the adapter is read: name, binding limit, and whether 16-bit float kernels run', async () => {
    const host = new InferenceHost({ provider: 'webgpu' });
    try {
      const { device, provider } = await host.probe();
      assert.equal(provider, 'webgpu');
      assert.ok(device.name.length > 0);
      assert.ok(device.maxBindingBytes !== null && device.maxBindingBytes >= 128 * 2 ** 20, String(device.maxBindingBytes));
      // The flag must be what the kernels do, not what a feature list claims.
      const model = await host.load(halfModel());
      const ran = await host.run(model, x3).then((r) => r['y']?.data, () => null);
      assert.equal(ran !== null, device.float16, `float16 flag ${device.float16}, fp16 graph ${ran === null ? 'failed' : 'ran'}`);
      if (ran) assert.deepEqual([...(ran as Float32Array)], [2, 4, 6]);
    } finally {
      await host.close();
    }
  });

  test('a session whose first run fails hands over to the next provider, with a note', async (t) => {
    const host = new InferenceHost({ provider: 'webgpu' });
    const float16 = (await host.probe()).device.float16;
    await host.close();
    if (float16) return t.skip('this adapter runs fp16, so nothing here fails on its first run');
    const notes: ProviderNote[] = [];
    const auto = new InferenceHost({ intraOpThreads: 1, onFallback: (n) => notes.push(...n) });
    try {
      // Loaded on the first provider that opens it (WebGPU), moved to the CPU by its first run.
      const model = await auto.load(halfModel(), { provider: 'auto' });
      assert.equal(model.provider, 'webgpu');
      const out = await auto.run(model, x3);
      assert.deepEqual([...(out['y']!.data as Float32Array)], [2, 4, 6]);
      assert.equal(model.provider, 'cpu');
      assert.equal(notes.length, 1);
      assert.match(notes[0]!.message, /^WebGPU is not used: this GPU cannot compute in 16-bit floats\. Running on the CPU instead\.$/);
      assert.match(notes[0]!.detail, /requires f16/);
      // Later runs stay where the first succeeded.
      await auto.run(model, x3);
      assert.equal(notes.length, 1);
    } finally {
      await auto.close();
    }
  });

  test('a software adapter is used when WebGPU is chosen, and passed over for the CPU under auto', async (t) => {
    const forced = new InferenceHost({ provider: 'webgpu' });
    const { device } = await forced.probe();
    await forced.close();
    if (!device.software) return t.skip('this adapter is a real GPU');
    const auto = new InferenceHost({});
    try {
      const probe = await auto.probe();
      assert.equal(probe.provider, 'cpu');
      const note = probe.notes.find((n) => n.provider === 'webgpu');
      assert.match(note?.message ?? '', /^WebGPU is not used: only a software renderer \(.+\) was found, slower than the CPU\. Running on the CPU instead\.$/);
    } finally {
      await auto.close();
    }
  });

  test('precision auto follows the adapter, and its reason is one line', async () => {
    const sd = await StableDiffusionPipeline.load({ model: join(FIXTURES, 'tiny-sd'), cacheDir: join(dir, 'cache'), provider: 'webgpu', precision: 'auto' });
    try {
      assert.equal(sd.provider, 'webgpu');
      assert.equal(sd.floatType, sd.device.float16 ? 'float16' : 'float32');
      assert.match(sd.deviceLine, sd.device.float16 ? /^webgpu on .+, fp16: supported by this GPU$/ : /^webgpu on .+, fp32: this GPU has no 16-bit float shaders$/);
      const image = await sd.generate({ prompt: 'a cat', width: 64, height: 64, steps: 2, seed: 1 });
      assert.ok(image.image.data.every(Number.isFinite));
    } finally {
      await sd.close();
    }
  });
});
