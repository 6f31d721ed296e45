// Graph compiles run in a worker thread: the caller's event loop keeps turning, an abort
// kills the build without leaving a half-written cache entry, and errors keep their codes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodedError } from '../../../src-main/errors.ts';
import { compileModel } from '../../../src-main/engine/graph/compile.ts';
import type { CompileOptions } from '../../../src-main/engine/graph/compile.ts';
import { cachedModel, compileInWorker } from '../../../src-main/engine/pipeline/compile-worker.ts';
import { resolveModelFiles } from '../../../src-main/engine/pipeline/model-files.ts';
import { writeSafetensors } from '../../../src-main/engine/weights/safetensors.ts';
import { unetShapes } from '../../../bench/engine/random-sd15.ts';
import { FIXTURES } from '../io/fixtures.ts';

const UNET: CompileOptions = { kind: 'unet', target: 'cpu', floatType: 'float32', unet: { crossFrame: 'decoder-loose' } };
let root: string;
/** tiny-sd with a wider UNet, so a compile lasts long enough (a few hundred ms) to watch. */
let wide: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'compile-worker-'));
  wide = join(root, 'wide-sd');
  cpSync(join(FIXTURES, 'tiny-sd'), wide, { recursive: true });
  const ch = [128, 128, 256, 256];
  const config = JSON.parse(readFileSync(join(wide, 'unet', 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(wide, 'unet', 'config.json'), JSON.stringify({ ...config, block_out_channels: ch }));
  const tensors = new Map([...unetShapes({ ch, layers: 2, cross: 32 })].map(([name, shape]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01);
    return [name, { dtype: 'F32' as const, shape, data }];
  }));
  writeSafetensors(join(wide, 'unet', 'diffusion_pytorch_model.safetensors'), tensors);
});
after(() => rmSync(root, { recursive: true, force: true }));

const fresh = (name: string): string => mkdtempSync(join(root, `${name}-`));

test('a cold compile in the worker leaves the calling thread\'s event loop turning', async () => {
  // What a compile on this thread would block it for.
  const t0 = performance.now();
  compileModel(resolveModelFiles({ model: wide }).unet, UNET, fresh('sync'));
  const syncMs = performance.now() - t0;

  let ticks = 0;
  let longest = 0;
  let last = performance.now();
  let running = true;
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    ticks += 1;
    if (running) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  const progress: number[] = [];
  const start = performance.now();
  const compiled = await compileInWorker({ choice: { model: wide }, options: UNET, cacheDir: fresh('cold') }, { onProgress: (done) => progress.push(done) });
  const workerMs = performance.now() - start;
  running = false;

  assert.equal(compiled.cacheHit, false);
  assert.ok(existsSync(compiled.modelPath) && existsSync(compiled.dataPath));
  assert.ok(compiled.crossFrameLayers.length > 0, 'the UNet options reached the worker');
  assert.ok(progress.length > 0 && progress.at(-1)! > 1, 'progress crosses from the worker');
  assert.ok(ticks > 5, `only ${ticks} ticks during a ${workerMs.toFixed(0)} ms compile`);
  console.log(`compile: ${syncMs.toFixed(0)} ms on this thread, ${workerMs.toFixed(0)} ms in a worker; ${ticks} ticks, longest gap ${longest.toFixed(1)} ms`);
  assert.ok(longest < syncMs / 3, `longest event-loop gap ${longest.toFixed(0)} ms, a compile on this thread takes ${syncMs.toFixed(0)} ms`);
});

test('a cache hit is answered on the calling thread; a miss is not', () => {
  const cache = fresh('hit');
  const files = resolveModelFiles({ model: join(FIXTURES, 'tiny-sd') });
  const opts: CompileOptions = { kind: 'vae-decoder', target: 'cpu', floatType: 'float32' };
  assert.equal(cachedModel(files.vae, opts, cache), null);
  const built = compileModel(files.vae, opts, cache);
  const hit = cachedModel(files.vae, opts, cache);
  assert.ok(hit?.cacheHit);
  assert.equal(hit.modelPath, built.modelPath);
});

test('an abort mid-compile terminates the worker and leaves no half-written entry', async () => {
  const cache = fresh('abort');
  const ac = new AbortController();
  let seen = 0;
  await assert.rejects(
    compileInWorker({ choice: { model: wide }, options: UNET, cacheDir: cache }, { signal: ac.signal, onProgress: () => { if (++seen === 3) ac.abort(); } }),
    { name: 'AbortError' },
  );
  assert.ok(seen >= 3, 'aborted while building');
  assert.deepEqual(readdirSync(cache), [], 'no temporary or partial entry left');

  const again = await compileInWorker({ choice: { model: wide }, options: UNET, cacheDir: cache });
  assert.equal(again.cacheHit, false);
  assert.deepEqual(readdirSync(cache), [again.key]);
  const hit = await compileInWorker({ choice: { model: wide }, options: UNET, cacheDir: cache });
  assert.equal(hit.cacheHit, true);
  assert.equal(hit.modelPath, again.modelPath);

  const pre = new AbortController();
  pre.abort();
  await assert.rejects(compileInWorker({ choice: { model: wide }, options: UNET, cacheDir: cache }, { signal: pre.signal }), { name: 'AbortError' });
});

test('a bad model file gives the same error code as a compile on this thread', async () => {
  const bad = join(root, 'bad.safetensors');
  writeFileSync(bad, 'not a safetensors file at all');
  let local: unknown;
  try {
    resolveModelFiles({ model: bad });
  } catch (err) {
    local = err;
  }
  assert.ok(local instanceof CodedError);
  const remote = await compileInWorker({ choice: { model: bad }, options: UNET, cacheDir: fresh('bad') }).then(() => null, (err: unknown) => err);
  assert.ok(remote instanceof CodedError, 'rebuilt as a CodedError');
  assert.equal(remote.code, local.code);
  assert.equal(remote.message, local.message);
  assert.equal(remote.name, local.name);
});

test('an unsupported config fails in the worker with UNSUPPORTED_MODEL', async () => {
  const odd = join(root, 'odd-sd');
  cpSync(join(FIXTURES, 'tiny-sd'), odd, { recursive: true });
  const cfgPath = join(odd, 'unet', 'config.json');
  const config = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(cfgPath, JSON.stringify({ ...config, layers_per_block: [2, 2, 2, 2] }));
  const cache = fresh('odd');
  assert.throws(() => compileModel(resolveModelFiles({ model: odd }).unet, UNET, fresh('odd-local')), { name: 'UnsupportedModelError', code: 'UNSUPPORTED_MODEL' });
  await assert.rejects(compileInWorker({ choice: { model: odd }, options: UNET, cacheDir: cache }), { name: 'UnsupportedModelError', code: 'UNSUPPORTED_MODEL' });
  assert.deepEqual(readdirSync(cache).filter((n) => n.includes('.tmp-')), []);
});

test('a ControlNet compile without a chosen ControlNet is a coded error', async () => {
  await assert.rejects(
    compileInWorker({ choice: { model: join(FIXTURES, 'tiny-sd') }, options: { kind: 'controlnet', target: 'cpu', floatType: 'float32' }, cacheDir: fresh('nocn') }),
    { code: 'MODEL_MISSING' },
  );
});
