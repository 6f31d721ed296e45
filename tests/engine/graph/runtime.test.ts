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
import { openWithFallback, providerOrder, providerRemedy } from '../../../src-main/engine/runtime/providers.ts';
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
  assert.deepEqual(r.notes.map((n) => n.message), ['cuda unavailable (no cuda here); falling back to webgpu', 'webgpu unavailable (no webgpu here); falling back to cpu']);
});

test('a model loads in the worker on the first usable provider, with a note per skipped one', async () => {
  const model = await host.load(encoder.modelPath);
  // This machine has no GPU: cuda and webgpu must fail visibly before cpu.
  assert.equal(model.provider, 'cpu');
  assert.deepEqual(model.notes.map((n) => n.provider), ['cuda', 'webgpu']);
  assert.ok(model.notes.every((n) => /unavailable \(.+\); falling back to/.test(n.message)), JSON.stringify(model.notes));
  // Each says what to do about it, not only what failed.
  assert.match(model.notes[0]!.message, /npm rebuild onnxruntime-node|No NVIDIA GPU/);
  assert.match(model.notes[1]!.message, /Vulkan/);
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

test('remedies for the usual provider failures', () => {
  assert.match(providerRemedy('cuda', 'Failed to load shared library'), /ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
  assert.match(providerRemedy('cuda', 'CUDA failure 100: no CUDA-capable device is detected'), /No NVIDIA GPU/);
  assert.match(providerRemedy('webgpu', 'Failed to get a WebGPU adapter: No supported adapters'), /Vulkan driver/);
  assert.equal(providerRemedy('cpu', 'anything'), '');
  assert.equal(providerRemedy('cuda', 'out of memory'), '');
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

test('a run aborted by the caller rejects at once', async () => {
  const model = await host.load(encoder.modelPath, { provider: 'cpu' });
  const image = refF32('vae.in.image');
  const controller = new AbortController();
  const pending = host.run(model, { image: { type: 'float32', dims: image.dims, data: image.data } }, { signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  await host.release(model);
});
