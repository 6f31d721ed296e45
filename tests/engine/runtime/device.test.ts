// Precision from the device's capabilities, and attention split to fit a binding limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { choosePrecision, deviceLine } from '../../../src-main/engine/runtime/device.ts';
import { vulkanDriverInstalled } from '../../../src-main/engine/runtime/webgpu-adapter.ts';
import type { DeviceInfo } from '../../../src-main/engine/runtime/device.ts';
import { unetAttentionChunks, vaeAttentionChunks } from '../../../src-main/engine/graph/attention-budget.ts';
import { cacheKey } from '../../../src-main/engine/graph/compile.ts';
import { diffusersComponent } from '../../../src-main/engine/graph/diffusers-folder.ts';
import { SD15_UNET_CONFIG } from '../../../src-main/engine/pipeline/sd15-configs.ts';
import { FIXTURES } from '../graph/ref.ts';

const gpu = (over: Partial<DeviceInfo>): DeviceInfo => ({ provider: 'webgpu', name: 'test adapter', software: false, float16: true, maxBindingBytes: 2 ** 30, ...over });

test('precision auto: fp16 only where the device runs it, and never on the CPU', () => {
  assert.equal(choosePrecision(gpu({}), 'auto').floatType, 'float16');
  assert.equal(choosePrecision(gpu({ float16: false }), 'auto').floatType, 'float32');
  assert.equal(choosePrecision(gpu({ provider: 'cuda', name: 'cuda', maxBindingBytes: null }), 'auto').floatType, 'float16');
  assert.equal(choosePrecision(gpu({ provider: 'cpu', name: 'cpu', maxBindingBytes: null }), 'auto').floatType, 'float32');
  assert.equal(choosePrecision(gpu({}), 'fp32').floatType, 'float32');
  assert.equal(choosePrecision(gpu({ provider: 'cpu', name: 'cpu' }), 'fp16').floatType, 'float16');
  const refused = choosePrecision(gpu({ float16: false }), 'fp16');
  assert.equal(refused.floatType, 'float32');
  assert.match(refused.warning ?? '', /^Half precision \(fp16\) was chosen, but test adapter cannot compute in 16-bit floats: using full precision \(fp32\)\.$/);
  assert.equal(deviceLine(gpu({ software: true, float16: false }), choosePrecision(gpu({ float16: false }), 'auto')), 'webgpu on test adapter (software renderer), fp32: this GPU has no 16-bit float shaders');
});

test('attention is split only where a level outgrows the binding limit', () => {
  // SD 1.5 at 512×512: level 0 has 4096 queries, 8 heads, batch 2; float32 scores.
  const oneGiB = 2 ** 30;
  assert.deepEqual(unetAttentionChunks('unet', SD15_UNET_CONFIG, 64, 64, 0, null), []);
  // Self-attention scores are exactly 1 GiB: they fit.
  assert.deepEqual(unetAttentionChunks('unet', SD15_UNET_CONFIG, 64, 64, 0, oneGiB), []);
  // Rerender's anchor ‖ previous doubles the keys: 2 GiB at level 0, 128 MiB at level 1.
  assert.deepEqual(unetAttentionChunks('unet', SD15_UNET_CONFIG, 64, 64, 2, oneGiB), [2, 1, 1, 1]);
  // The WebGPU baseline limit (128 MiB) at 1024×768.
  const chunks = unetAttentionChunks('unet', SD15_UNET_CONFIG, 96, 128, 2, 128 * 2 ** 20);
  const tokens = (level: number): number => Math.ceil(96 / 2 ** level) * Math.ceil(128 / 2 ** level);
  chunks.forEach((n, level) => {
    const bytes = 2 * 8 * tokens(level) * tokens(level) * 2 * 4;
    assert.ok(bytes / n <= 128 * 2 ** 20 && (n === 1 || bytes / (n - 1) > 128 * 2 ** 20), `level ${level}: ${n} slices`);
  });
  // Never more slices than queries, so none is empty.
  assert.deepEqual(vaeAttentionChunks(2, 2, 1), [4]);
  assert.deepEqual(vaeAttentionChunks(64, 64, 2 ** 26), []);
  assert.deepEqual(vaeAttentionChunks(128, 128, 2 ** 28), [4]);
});

test('a split graph has its own cache key; an unsplit one keeps the key it always had', () => {
  const unet = diffusersComponent(join(FIXTURES, 'tiny-sd/unet'));
  const base = { kind: 'unet' as const, target: 'webgpu' as const, floatType: 'float32' as const };
  const plain = cacheKey(unet, base);
  assert.equal(cacheKey(unet, { ...base, ops: { attentionChunks: [1, 1] } }), plain);
  assert.equal(cacheKey(unet, { ...base, ops: { attentionChunks: [2, 1] } }), cacheKey(unet, { ...base, ops: { attentionChunks: [2] } }));
  assert.notEqual(cacheKey(unet, { ...base, ops: { attentionChunks: [2] } }), plain);
  // The fused CPU/CUDA attention does not split: the option changes nothing there.
  assert.equal(cacheKey(unet, { ...base, target: 'cpu', ops: { attentionChunks: [4] } }), cacheKey(unet, { ...base, target: 'cpu' }));
  assert.throws(() => cacheKey(unet, { ...base, ops: { attentionChunks: [0] } }), RangeError);
});

test('a Vulkan driver is looked for before Dawn is asked (Linux), where Dawn would only print loader warnings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'icd-'));
  try {
    mkdirSync(join(dir, 'vulkan/icd.d'), { recursive: true });
    assert.equal(vulkanDriverInstalled({ XDG_DATA_DIRS: dir }, 'linux'), false);
    writeFileSync(join(dir, 'vulkan/icd.d/gpu_icd.json'), '{}');
    assert.equal(vulkanDriverInstalled({ XDG_DATA_DIRS: dir }, 'linux'), true);
    // A driver chosen in the environment is the only one the loader reads.
    assert.equal(vulkanDriverInstalled({ XDG_DATA_DIRS: dir, VK_ICD_FILENAMES: join(dir, 'missing.json') }, 'linux'), false);
    assert.equal(vulkanDriverInstalled({ VK_DRIVER_FILES: join(dir, 'vulkan/icd.d/gpu_icd.json') }, 'linux'), true);
    assert.equal(vulkanDriverInstalled({}, 'darwin'), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
