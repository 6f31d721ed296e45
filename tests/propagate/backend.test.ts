// Backend choice: the CPU on request, a clear environment error when WebGPU is demanded and no
// adapter exists, and the setting checked with the other propagation settings.
import assert from 'node:assert/strict';
import test from 'node:test';
import { chooseBackend } from '../../src-main/propagate/backend.ts';
import { resolveSettings } from '../../src-main/propagate/settings.ts';
import { addon } from './helpers.ts';

test("'cpu' uses the addon as given, with nothing to note", async () => {
  const base = addon();
  const b = await chooseBackend('cpu', base);
  assert.equal(b.addon, base);
  assert.deepEqual(b.info, { kind: 'cpu', device: 'CPU' });
  b.close();
});

test("'webgpu' with no usable Vulkan driver is GPU_UNAVAILABLE, saying why", async () => {
  const saved = process.env.VK_ICD_FILENAMES;
  // A driver list naming nothing that exists: Dawn finds no adapter.
  process.env.VK_ICD_FILENAMES = '/nonexistent/rerender-test-icd.json';
  try {
    await assert.rejects(chooseBackend('webgpu', addon()), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'GPU_UNAVAILABLE');
      assert.match(err.message, /^propagation on WebGPU was asked for, but /);
      return true;
    });
  } finally {
    if (saved === undefined) delete process.env.VK_ICD_FILENAMES;
    else process.env.VK_ICD_FILENAMES = saved;
  }
});

test('the backend and the blend options are checked before any work', () => {
  assert.equal(resolveSettings().backend, 'auto');
  assert.throws(() => resolveSettings({ backend: 'gpu' as never }), /backend must be one of auto, cpu, webgpu, got gpu/);
  assert.throws(() => resolveSettings({ blend: { deflicker: 1 } }), /deflicker/);
});
