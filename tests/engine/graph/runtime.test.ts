// Runtime: sessions in a worker thread, provider fallback with notes, forced
// providers, release, and results equal to an in-thread run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../../../src-main/engine/graph/compile.ts';
import type { CompiledModel } from '../../../src-main/engine/graph/compile.ts';
import { diffusersComponent } from '../../../src-main/engine/graph/diffusers-folder.ts';
import { InferenceHost } from '../../../src-main/engine/runtime/inference-host.ts';
import { diagnose, fallbackNote, openWithFallback, providerOrder, shortReason } from '../../../src-main/engine/runtime/providers.ts';
import { FIXTURES, refF32, relError } from './ref.ts';

let cache: string;
let encoder: CompiledModel;
let host: InferenceHost;

before(() => {
  cache = mkdtempSync(join(tmpdir(), 'graph-runtime-'));
  encoder = compileModel(diffusersComponent(join(FIXTURES, 'tiny-sd/vae')), { kind: 'vae-encoder', target: 'cpu', floatType: 'float32' }, cache);
  host = new InferenceHost({ intraOpThreads: 1 });
});
after(async () => {
  await host.close();
  rmSync(cache, { recursive: true, force: true });
});

test('fallback order is cuda → webgpu → cpu unless a provider is forced', async () => {
  assert.deepEqual(providerOrder('auto'), ['cuda', 'webgpu', 'cpu']);
  assert.deepEqual(providerOrder('webgpu'), ['webgpu']);
  const tried: string[] = [];
  const r = await openWithFallback(['cuda', 'webgpu', 'cpu'], async (p) => {
    tried.push(p);
    if (p !== 'cpu') throw new Error(`no ${p} here`);
    return p;
  });
  assert.deepEqual(tried, ['cuda', 'webgpu', 'cpu']);
  assert.equal(r.provider, 'cpu');
  assert.deepEqual(r.notes.map((n) => n.message), ['CUDA is not used: no cuda here. Running on WebGPU instead.', 'WebGPU is not used: no webgpu here. Running on the CPU instead.']);
  assert.deepEqual(r.notes.map((n) => n.detail), ['cuda: no cuda here', 'webgpu: no webgpu here']);
});

test('a model loads in the worker on the first usable provider, with a note per skipped one', async () => {
  const model = await host.load(encoder.modelPath);
  // This machine has no GPU: cuda and webgpu must fail visibly before cpu.
  assert.equal(model.provider, 'cpu');
  assert.deepEqual(model.notes.map((n) => n.provider), ['cuda', 'webgpu']);
  assert.ok(model.notes.every((n) => /^(CUDA|WebGPU) is not used: .+ Running on (WebGPU|the CPU) instead\./.test(n.message)), JSON.stringify(model.notes));
  // Each says in one line what to install; the commands stay in the details.
  assert.match(model.notes[0]!.message, /install the NVIDIA driver|no NVIDIA GPU/);
  assert.doesNotMatch(model.notes[0]!.message, /npm rebuild/);
  assert.match(model.notes[0]!.detail, /npm rebuild onnxruntime-node|nvidia-smi/);
  assert.match(model.notes[1]!.message, /Vulkan driver/);
  assert.deepEqual(model.inputNames, ['image']);
  const image = refF32('vae.in.image');
  const out = await host.run(model, { image: { type: 'float32', dims: image.dims, data: image.data } });
  const moments = out['moments'];
  assert.ok(moments && moments.type === 'float32');
  assert.deepEqual(moments.dims, [1, 8, 8, 8]);
  assert.ok(relError(moments.data, refF32('vae.out.moments').data) < 1e-4);
  await host.release(model);
  await assert.rejects(host.run(model, { image: { type: 'float32', dims: image.dims, data: image.data } }), /not loaded/);
});

test('the usual provider failures, in plain words with the remedy kept for the details', () => {
  const missing = fallbackNote('cuda', new Error('Failed to load shared library libonnxruntime_providers_cuda.so'), 'webgpu');
  assert.equal(missing.message.split('\n').length, 1);
  assert.match(missing.message, /^CUDA is not used: its GPU add-on is not installed\. Running on WebGPU instead\. To use an NVIDIA GPU, install/);
  assert.match(missing.detail, /ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
  assert.match(diagnose('cuda', 'CUDA failure 100: no CUDA-capable device is detected').what, /no NVIDIA GPU/);
  assert.match(diagnose('webgpu', 'Failed to get a WebGPU adapter: No supported adapters').install, /Vulkan driver/);
  assert.match(diagnose('webgpu', 'Program Cast requires f16 but the device does not support it.').what, /16-bit floats/);
  assert.match(diagnose('webgpu', 'Failed to allocate buffer: out of memory').what, /out of memory/);
  assert.deepEqual(diagnose('cpu', 'anything'), { what: 'anything', install: '', remedy: '' });
  // ORT's run errors carry its source location and a colour escape: only the reason is kept.
  const raw = '\u001b[1;31mNon-zero status code returned while running Cast node. Name:\'cast\' Status Message: shader_helper.cc:416 GenerateSourceCode Program Cast requires f16 but the device does not support it.\u001b[m';
  assert.equal(shortReason(new Error(raw)), 'Program Cast requires f16 but the device does not support it.');
});

test('probe reports the provider the host would use', async () => {
  const probe = await host.probe();
  assert.equal(probe.provider, 'cpu');
  assert.equal(probe.notes.length, 2);
});

test('a forced provider that is unavailable fails with the reason, no silent fallback', async () => {
  await assert.rejects(host.load(encoder.modelPath, { provider: 'cuda' }), (err: Error & { notes?: unknown[] }) => {
    assert.equal(err.name, 'ProviderUnavailableError');
    assert.equal(err.notes?.length, 1);
    return true;
  });
  const cpu = await host.load(encoder.modelPath, { provider: 'cpu' });
  assert.deepEqual(cpu.notes, []);
  await host.release(cpu);
});

test('a model released, or the host closed, while an aborted run still runs does not abort the process', async () => {
  // ORT cannot interrupt a run: it goes on natively after the caller's abort. Releasing its session
  // or ending the worker under it aborted the process (a cancelled translation closes the pipeline
  // at once); the worker now waits for it. Each round races the two on a fresh host.
  const image = refF32('vae.in.image');
  for (let round = 0; round < 12; round++) {
    const own = new InferenceHost({ intraOpThreads: 1 });
    const model = await own.load(encoder.modelPath, { provider: 'cpu' });
    const controller = new AbortController();
    const pending = own.run(model, { image: { type: 'float32', dims: image.dims, data: image.data } }, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    if (round % 2 === 0) await own.release(model);
    await own.close();
    await assert.rejects(own.run(model, { image: { type: 'float32', dims: image.dims, data: image.data } }), /closed/);
  }
});

test('a run aborted by the caller rejects at once', async () => {
  const model = await host.load(encoder.modelPath, { provider: 'cpu' });
  const image = refF32('vae.in.image');
  const controller = new AbortController();
  const pending = host.run(model, { image: { type: 'float32', dims: image.dims, data: image.data } }, { signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  await host.release(model);
});
