// The on-disk graph cache: hits, misses on anything that shapes the graph,
// rebuilds of broken entries, abort and progress during a build.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, unlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey, compileModel, opsForTarget } from '../../../src-main/engine/graph/compile.ts';
import type { ModelSource } from '../../../src-main/engine/graph/compile.ts';
import { decodeModel } from '../../../src-main/engine/graph/onnx-proto.ts';
import { readFileSync } from 'node:fs';
import { diffusersComponent } from '../../../src-main/engine/graph/diffusers-folder.ts';
import { FIXTURES } from './ref.ts';

let cache: string;
let vae: ModelSource;

before(() => {
  cache = mkdtempSync(join(tmpdir(), 'graph-cache-'));
  vae = diffusersComponent(join(FIXTURES, 'tiny-sd/vae'));
});
after(() => rmSync(cache, { recursive: true, force: true }));

test('second compile with the same inputs is a cache hit; model and data files are reused', () => {
  const first = compileModel(vae, { kind: 'vae-encoder', target: 'cpu', floatType: 'float32' }, cache);
  assert.equal(first.cacheHit, false);
  const mtime = statSync(first.modelPath).mtimeMs;
  const again = compileModel(vae, { kind: 'vae-encoder', target: 'cpu', floatType: 'float32' }, cache);
  assert.equal(again.cacheHit, true);
  assert.equal(again.modelPath, first.modelPath);
  assert.equal(statSync(again.modelPath).mtimeMs, mtime);
  assert.equal(again.scalingFactor, 0.18215);
});

test('weights identity, LoRA set, options and target each change the key', () => {
  const base = cacheKey(vae, { kind: 'vae-decoder', target: 'cpu', floatType: 'float32' });
  const keys = [
    cacheKey({ ...vae, identity: `${vae.identity}x` }, { kind: 'vae-decoder', target: 'cpu', floatType: 'float32' }),
    cacheKey({ ...vae, loras: [{ id: 'style.safetensors', scale: 0.7 }] }, { kind: 'vae-decoder', target: 'cpu', floatType: 'float32' }),
    cacheKey({ ...vae, loras: [{ id: 'style.safetensors', scale: 0.8 }] }, { kind: 'vae-decoder', target: 'cpu', floatType: 'float32' }),
    cacheKey(vae, { kind: 'vae-decoder', target: 'webgpu', floatType: 'float32' }),
    cacheKey(vae, { kind: 'vae-decoder', target: 'cpu', floatType: 'float16' }),
    cacheKey(vae, { kind: 'vae-decoder', target: 'cpu', floatType: 'float32', ops: { groupNorm: opsForTarget('cpu').groupNorm === 'decomposed' ? 'instance' : 'decomposed' } }),
  ];
  assert.equal(new Set([base, ...keys]).size, keys.length + 1);
  // Spelling out a target's default op choice is the same graph, so the same key.
  assert.equal(cacheKey(vae, { kind: 'vae-decoder', target: 'cpu', floatType: 'float32', ops: { groupNorm: opsForTarget('cpu').groupNorm } }), base);
});

test('weights are external: model.onnx holds structure only, tensors point into model.onnx.data', () => {
  const c = compileModel(vae, { kind: 'vae-decoder', target: 'cpu', floatType: 'float32' }, cache);
  const model = decodeModel(readFileSync(c.modelPath));
  const external = model.graph.initializer.filter((t) => t.dataLocation === 1);
  assert.ok(external.length > 20);
  const dataSize = statSync(c.dataPath).size;
  for (const t of external) {
    const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
    assert.equal(kv['location'], 'model.onnx.data');
    assert.ok(Number(kv['offset']) + Number(kv['length']) <= dataSize);
  }
  assert.ok(statSync(c.modelPath).size < dataSize / 4);
  const f16 = compileModel(vae, { kind: 'vae-decoder', target: 'cpu', floatType: 'float16' }, cache);
  const ratio = statSync(f16.dataPath).size / dataSize;
  assert.ok(ratio > 0.45 && ratio < 0.6, `fp16 weights are about half the size (ratio ${ratio.toFixed(2)})`);
});

test('an entry without info.json (interrupted build) is rebuilt', () => {
  const c = compileModel(vae, { kind: 'vae-encoder', target: 'webgpu', floatType: 'float32' }, cache);
  unlinkSync(join(c.modelPath, '..', 'info.json'));
  const again = compileModel(vae, { kind: 'vae-encoder', target: 'webgpu', floatType: 'float32' }, cache);
  assert.equal(again.cacheHit, false);
});

test('progress is reported and an aborted build leaves nothing behind', () => {
  const seen: number[] = [];
  compileModel(vae, { kind: 'vae-encoder', target: 'cuda', floatType: 'float16' }, cache, { onProgress: (done, total) => seen.push(done / total) });
  assert.ok(seen.length > 10 && seen.every((f) => f > 0 && f <= 1));
  const before = readdirSync(cache).sort();
  const controller = new AbortController();
  let calls = 0;
  assert.throws(() => compileModel(vae, { kind: 'vae-decoder', target: 'cuda', floatType: 'float16' }, cache, {
    signal: controller.signal,
    onProgress: () => { if (++calls === 5) controller.abort(); },
  }), { name: 'AbortError' });
  assert.deepEqual(readdirSync(cache).sort(), before);
});

test('a config the compiler does not support fails with a typed error', () => {
  assert.throws(() => compileModel({ ...vae, config: { ...vae.config, down_block_types: ['AttnDownEncoderBlock2D'] } }, { kind: 'vae-encoder', target: 'cpu', floatType: 'float32' }, cache), { name: 'UnsupportedModelError' });
});
