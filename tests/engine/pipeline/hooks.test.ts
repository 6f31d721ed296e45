// Step hooks (x̂0 / x_{t-1} overrides, attention record/replace), abort, long
// prompts and LoRAs merged through the pipeline, on the tiny fixture models.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../../../src-main/engine/pipeline/index.ts';
import type { GenerateRequest, PipelineOptions, Tensor } from '../../../src-main/engine/pipeline/index.ts';
import { resolveModelFiles } from '../../../src-main/engine/pipeline/model-files.ts';
import { FIXTURES, refF32, refNames } from '../io/fixtures.ts';
import { relError } from '../graph/ref.ts';
import { cpuLaneOnly, ON_WEBGPU, TEST_PROVIDER } from '../../helpers/provider.ts';

let cache: string;
let sd: StableDiffusionPipeline;
const SD = join(FIXTURES, 'tiny-sd');

async function open(options: Omit<PipelineOptions, 'cacheDir' | 'provider'>): Promise<StableDiffusionPipeline> {
  return StableDiffusionPipeline.load({ precision: 'fp32', ...options, cacheDir: cache, provider: TEST_PROVIDER, intraOpThreads: 1 });
}

before(async () => {
  cache = mkdtempSync(join(tmpdir(), 'pipeline-hooks-'));
  sd = await open({ model: SD, crossFrame: 'decoder', contextType: 'float32' });
});
after(async () => {
  await sd.close();
  rmSync(cache, { recursive: true, force: true });
});

const base: GenerateRequest = { prompt: 'a fox', negative: 'blurry', width: 64, height: 64, steps: 3, seed: 7 };

test('returning the predicted x0, or its own DDIM update, changes nothing', cpuLaneOnly('the hooks of the sampling loop run in JavaScript'), async () => {
  const plain = await sd.generate(base);
  const sameX0 = await sd.generate({ ...base, onStep: (i) => ({ x0: i.x0 }) });
  const sameLatents = await sd.generate({ ...base, onStep: (i) => ({ latents: i.update(i.x0) }) });
  assert.deepEqual(sameX0.latents, plain.latents);
  assert.deepEqual(sameLatents.latents, plain.latents);
});

test('a replaced x0 feeds the DDIM update; replaced latents become x_{t-1}', cpuLaneOnly('the hooks of the sampling loop run in JavaScript'), async () => {
  const sched = sd.scheduler(3);
  const seen: { t: number; latents: Float32Array; eps: Float32Array }[] = [];
  await sd.generate({ ...base, onStep: (i) => { seen.push({ t: i.t, latents: i.latents, eps: i.eps }); return { x0: new Float32Array(i.x0.length) }; } });
  // With x0 = 0 the update is √(1−ᾱ_prev)·ε.
  const sbp = Math.sqrt(1 - sched.alphaPrev(seen[0]!.t));
  assert.ok(relError(seen[1]!.latents, seen[0]!.eps.map((e) => sbp * e)) < 1e-6);

  const marker = new Float32Array(4 * 8 * 8).fill(0.25);
  const next: Float32Array[] = [];
  await sd.generate({ ...base, onStep: (i) => { next.push(i.latents); return i.index === 0 ? { latents: marker, x0: new Float32Array(i.x0.length) } : undefined; } });
  assert.deepEqual(next[1], marker);
});

test('step positions: index within the run, step within the full schedule', cpuLaneOnly('the hooks of the sampling loop run in JavaScript'), async () => {
  const pos: [number, number, number, number][] = [];
  await sd.generate({
    ...base, steps: 4, init: { image: { data: new Float32Array(3 * 64 * 64), dims: [1, 3, 64, 64] }, strength: 0.5 },
    onStep: (i) => { pos.push([i.index, i.step, i.t, i.tPrev]); },
  });
  assert.deepEqual(pos, [[0, 2, 251, 1], [1, 3, 1, -249]]);
});

test('attention: recorded contexts, kept contexts fed back by key, and their memory', async () => {
  const layers = await sd.crossFrameLayers();
  assert.ok(layers.length > 0 && layers.every((l) => l.startsWith('up_blocks.')));
  const recorded: Map<string, Tensor>[] = [];
  const plain = await sd.generate(base);
  const rec = await sd.generate({ ...base, attention: () => ({ record: true }), onStep: (i) => { recorded.push(new Map(i.contexts!)); } });
  assert.deepEqual(rec.latents, plain.latents);
  assert.equal(recorded.length, 3);
  let perStep = 0;
  for (const l of layers) {
    const t = recorded[0]!.get(l)!;
    assert.equal(t.dims[0], 2);
    assert.equal(t.data.length, t.dims[0]! * t.dims[1]! * t.dims[2]!);
    perStep += 4 * t.data.length;
  }
  await sd.contextMemory({ resetPeak: true });
  // Kept in the worker, fed back by key: a frame attending to its own contexts is ordinary attention.
  const kept = await sd.generate({ ...base, attention: (p) => ({ keep: `own${p.index}` }) });
  assert.deepEqual(kept.latents, plain.latents);
  assert.equal((await sd.contextMemory()).bytes, 3 * perStep, 'three steps of float32 contexts held');
  const own = await sd.generate({ ...base, attention: (p) => ({ sources: [`own${p.index}`] }) });
  assert.ok(relError(own.latents, plain.latents) < 1e-4, 'own contexts');
  // Anchor ‖ previous: two sources; a different frame's contexts change the result.
  await sd.generate({ ...base, seed: 99, attention: (p) => ({ keep: `other${p.index}` }) });
  const fused = await sd.generate({ ...base, attention: (p) => ({ sources: [`own${p.index}`, `other${p.index}`] }) });
  assert.ok(relError(fused.latents, plain.latents) > 1e-3);
  // Keeping and attending at once (a style-updating frame) replaces what the key held.
  await sd.generate({ ...base, attention: (p) => ({ sources: [`own${p.index}`, `other${p.index}`], keep: `other${p.index}` }) });
  const m = await sd.contextMemory();
  assert.equal(m.bytes, 6 * perStep);
  assert.equal(m.peakBytes, 6 * perStep);
  // WebGPU keeps them in GPU buffers from output to input; the CPU has only host memory.
  assert.equal(m.deviceBytes, ON_WEBGPU ? m.bytes : 0);
  await sd.dropContexts(['own0', 'own1', 'own2']);
  assert.equal((await sd.contextMemory()).bytes, 3 * perStep);
  await assert.rejects(sd.generate({ ...base, attention: (p) => ({ sources: [`own${p.index}`] }) }), { code: 'INVALID_ARGUMENT', message: /own0/ });
  await assert.rejects(sd.generate({ ...base, attention: () => ({ sources: [] }) }), { code: 'INVALID_ARGUMENT' });
  const after = await sd.dropContexts(['other0', 'other1', 'other2', 'never-kept']);
  assert.equal(after.bytes, 0);
  assert.equal(after.count, 0);
});

test('float16 contexts: half the memory, close to float32 attention', async () => {
  const half = await open({ model: SD, crossFrame: 'decoder', contextType: 'float16' });
  try {
    assert.equal(half.contextTypeAsked, 'float16');
    if (!half.device.float16) {
      // A GPU without 16-bit float shaders keeps float32 contexts rather than fail at the first cast.
      assert.equal(half.contextType, 'float32');
      return;
    }
    assert.equal(half.contextType, 'float16');
    await sd.generate({ ...base, attention: (p) => ({ keep: `a${p.index}` }) });
    await half.generate({ ...base, attention: (p) => ({ keep: `a${p.index}` }) });
    const full = await sd.contextMemory();
    const h = await half.contextMemory();
    assert.ok(h.bytes > 0);
    assert.equal(2 * h.bytes, full.bytes);
    const other = { ...base, seed: 5 };
    const a = await sd.generate({ ...other, attention: (p) => ({ sources: [`a${p.index}`] }) });
    const b = await half.generate({ ...other, attention: (p) => ({ sources: [`a${p.index}`] }) });
    const err = relError(b.latents, a.latents);
    assert.ok(err > 0 && err < 1e-3, `float16 contexts moved the latents by ${err.toExponential(2)}`);
    await sd.dropContexts(['a0', 'a1', 'a2']);
  } finally {
    await half.close();
  }
});

test('abort between steps', cpuLaneOnly('cancellation happens between steps, in JavaScript'), async () => {
  const ac = new AbortController();
  let calls = 0;
  await assert.rejects(sd.generate({ ...base, signal: ac.signal, onStep: () => { calls++; ac.abort(); } }), { name: 'AbortError' });
  assert.equal(calls, 1);
});

test('long prompts: chunked to 77·k tokens, or truncated with a warning', cpuLaneOnly('tokenization runs in JavaScript'), async () => {
  const long = Array.from({ length: 90 }, (_, i) => `word${i}`).join(' ');
  const chunked = await sd.encodePrompt({ prompt: long, negative: '' });
  assert.equal(chunked.hidden.dims[0], 2);
  assert.ok(chunked.hidden.dims[1]! >= 154 && chunked.hidden.dims[1]! % 77 === 0);
  const warnings: string[] = [];
  const sdw = await open({ model: SD, onWarning: (m) => warnings.push(m) });
  try {
    const cut = await sdw.encodePrompt({ prompt: long, longPrompt: 'truncate' });
    assert.deepEqual(cut.hidden.dims, [2, 77, 32]);
    assert.ok(cut.truncated);
    assert.match(warnings.join('\n'), /only the first 75/);
    // Chunked prompts run through the UNet (cross-attention over 154+ tokens).
    const r = await sdw.generate({ ...base, prompt: long, steps: 1 });
    assert.ok(r.latents.every(Number.isFinite));
  } finally {
    await sdw.close();
  }
});

test('LoRA merged through the pipeline: the reference weights, a changed output, weight 0 = none', async () => {
  const lora = join(FIXTURES, 'lora-kohya.safetensors');
  const files = resolveModelFiles({ model: SD, loras: [{ path: lora, weight: 0.7 }] });
  const names = refNames().filter((n) => n.startsWith('lora.kohya_0.7.'));
  assert.ok(names.length >= 8);
  for (const n of names) {
    const [component, ...rest] = n.slice('lora.kohya_0.7.'.length).split('.');
    const weight = rest.join('.');
    const src = component === 'unet' ? files.unet : files.textEncoder;
    assert.ok(relError(src.weights.get(weight).data, refF32(n)) < 1e-6, n);
  }
  const plain = await sd.generate({ ...base, steps: 2 });
  const withLora = await open({ model: SD, loras: [{ path: lora, weight: 0.7 }] });
  const zero = await open({ model: SD, loras: [{ path: lora, weight: 0 }] });
  try {
    const a = await withLora.generate({ ...base, steps: 2 });
    const z = await zero.generate({ ...base, steps: 2 });
    assert.ok(relError(a.latents, plain.latents) > 1e-4);
    assert.ok(relError(z.latents, plain.latents) < 1e-6);
  } finally {
    await withLora.close();
    await zero.close();
  }
});

test('bad requests throw typed errors', cpuLaneOnly('requests are checked before any graph runs'), async () => {
  await assert.rejects(sd.generate({ ...base, width: 60 }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(sd.generate({ ...base, control: { image: { data: new Float32Array(3 * 64 * 64), dims: [1, 3, 64, 64] } } }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(sd.generate({ ...base, init: { image: { data: new Float32Array(3 * 64 * 64), dims: [1, 3, 64, 64] }, strength: 0.1 } }), /no denoising step/);
  await assert.rejects(open({ model: join(FIXTURES, 'missing-model') }), { code: 'MODEL_MISSING' });
});
