// FreeU in the compiled UNet against diffusers' enable_freeu (tests/fixtures/engine/freeu,
// made by tools/reference/make_freeu_ref.py), its cache keys and its off state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { cacheKey, compileModel } from '../../../src-main/engine/graph/compile.ts';
import type { CompileOptions, ModelSource } from '../../../src-main/engine/graph/compile.ts';
import type { FreeUFactors } from '../../../src-main/engine/graph/freeu.ts';
import { diffusersComponent } from '../../../src-main/engine/graph/diffusers-folder.ts';
import { StableDiffusionPipeline } from '../../../src-main/engine/pipeline/index.ts';
import type { TextEmbeddings } from '../../../src-main/engine/pipeline/index.ts';
import { translateKeyframes } from '../../../src-main/rerender/translate.ts';
import type { RerenderPipeline } from '../../../src-main/rerender/sampler-pass.ts';
import { resolveRerenderConfig } from '../../../src-main/rerender/config.ts';
import { checkPipelineFreeU, rerenderPipelineOptions } from '../../../src-main/rerender/pipeline-options.ts';
import { FIXTURES, assertClose, refF32, relError, tensor } from './ref.ts';

const FP32_TOL = 1e-4;
const DIR = join(FIXTURES, 'freeu');
const FACTORS: FreeUFactors = { b1: 1.3, b2: 1.4, s1: 0.9, s2: 0.2 };

interface Entry {
  file: string;
  shape: number[];
  freeu?: { b1: number; b2: number; s1: number; s2: number };
  timestep?: number;
}
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Record<string, Entry>;

function ref(name: string): { data: Float32Array; dims: number[]; entry: Entry } {
  const e = manifest[name];
  if (!e) throw new Error(`${name} not in the FreeU manifest`);
  const b = readFileSync(join(DIR, e.file));
  return { data: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), dims: e.shape, entry: e };
}

let cache: string;
let unet: ModelSource;

before(() => {
  cache = mkdtempSync(join(tmpdir(), 'graph-freeu-'));
  unet = diffusersComponent(join(FIXTURES, 'tiny-sd/unet'));
});
after(() => rmSync(cache, { recursive: true, force: true }));

function options(freeu: FreeUFactors | null | undefined, extra: Partial<CompileOptions> = {}): CompileOptions {
  return { kind: 'unet', target: 'cpu', floatType: 'float32', ...extra, unet: { controlnetResiduals: false, ...(freeu !== undefined ? { freeu } : {}) } };
}

type F32 = { data: Float32Array; dims: number[] };

async function run(opts: CompileOptions, latent: F32, ehs: F32 = ref('in.encoder_hidden_states')): Promise<ort.Tensor> {
  const compiled = compileModel(unet, opts, cache);
  const s = await ort.InferenceSession.create(compiled.modelPath, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const r = await s.run({ sample: tensor(latent.data, latent.dims), timestep: tensor(Float32Array.of(500), [1]), encoder_hidden_states: tensor(ehs.data, ehs.dims) });
  await s.release();
  return r['noise_pred']!;
}

describe('FreeU matches diffusers enable_freeu (float32, CPU)', () => {
  for (const [name, what] of [['a', '40×48 latent: filters at 5×6 and 10×12'], ['b', '24×8 latent: sides of 1, 2 and 3'], ['c', 'Rerender example factors (s1 = 1)']] as const) {
    test(`case ${name}: ${what}`, async () => {
      const want = ref(`${name}.out.eps`);
      const factors = want.entry.freeu;
      assert.ok(factors);
      const latent = ref(`${name}.in.latent`);
      assertClose(await run(options(factors), latent), want, FP32_TOL, `case ${name}`);
      if (name === 'a') {
        // The reference is far from the plain UNet, so matching it means FreeU really ran.
        const plain = await run(options(null), latent);
        assert.ok(relError(plain.data as Float32Array, want.data) > 1e-2, 'FreeU changes the prediction');
      }
    });
  }

  test('webgpu-target graph (MatMul attention) and a fp16 graph', async () => {
    const want = ref('a.out.eps');
    const latent = ref('a.in.latent');
    assertClose(await run(options(FACTORS, { target: 'webgpu' }), latent), want, FP32_TOL, 'webgpu variant');
    // fp16 tolerance as in models.test.ts (the filter itself runs in float32).
    assertClose(await run(options(FACTORS, { floatType: 'float16' }), latent), want, 1e-2, 'fp16');
  });
});

describe('FreeU off', () => {
  test('absent, null and all-ones factors give the unchanged graph (same key, reference output)', async () => {
    const base = cacheKey(unet, options(undefined));
    assert.equal(cacheKey(unet, options(null)), base);
    assert.equal(cacheKey(unet, options({ b1: 1, b2: 1, s1: 1, s2: 1 })), base);
    const ehs = refF32('te.last_hidden_state.0');
    const out = await run(options({ b1: 1, b2: 1, s1: 1, s2: 1 }), refF32('unet.in.latent'), ehs);
    assertClose(out, refF32('unet.out.eps'), FP32_TOL, 'plain UNet');
  });
});

describe('FreeU cache keys and validation', () => {
  test('each factor changes the key', () => {
    const keys = [
      cacheKey(unet, options(null)),
      cacheKey(unet, options(FACTORS)),
      cacheKey(unet, options({ ...FACTORS, b1: 1.31 })),
      cacheKey(unet, options({ ...FACTORS, b2: 1.41 })),
      cacheKey(unet, options({ ...FACTORS, s1: 0.91 })),
      cacheKey(unet, options({ ...FACTORS, s2: 0.21 })),
    ];
    assert.equal(new Set(keys).size, keys.length);
    // Non-UNet graphs ignore the option.
    assert.equal(cacheKey(unet, { ...options(FACTORS), kind: 'controlnet' }), cacheKey(unet, { ...options(null), kind: 'controlnet' }));
  });

  test('a factor that is not a finite number is a typed error', () => {
    assert.throws(() => cacheKey(unet, options({ ...FACTORS, s2: Number.NaN })), { name: 'FreeUOptionError', message: /freeu\.s2/ });
    assert.throws(() => compileModel(unet, options({ ...FACTORS, b1: Number.POSITIVE_INFINITY }), cache), { name: 'FreeUOptionError' });
  });
});

describe('pipeline and Rerender', () => {
  test('PipelineOptions.freeu reaches the UNet: one guided step (g = 1) reproduces diffusers', async () => {
    await assert.rejects(StableDiffusionPipeline.load({ model: join(FIXTURES, 'tiny-sd'), cacheDir: cache, provider: 'cpu', freeu: { ...FACTORS, b2: Number.NaN } }), { name: 'PipelineError', code: 'INVALID_ARGUMENT' });
    const config = resolveRerenderConfig({ freeu: { enabled: true, ...FACTORS } });
    const sd = await StableDiffusionPipeline.load({ model: join(FIXTURES, 'tiny-sd'), cacheDir: cache, provider: 'cpu', intraOpThreads: 1, ...rerenderPipelineOptions(config) });
    try {
      assert.deepEqual(sd.freeu, FACTORS);
      checkPipelineFreeU(sd.freeu, config);
      const latent = ref('a.in.latent');
      const ehs = ref('in.encoder_hidden_states').data;
      const hidden = new Float32Array(ehs.length * 2);
      hidden.set(ehs, 0);
      hidden.set(ehs, ehs.length);
      const text: TextEmbeddings = { hidden: { data: hidden, dims: [2, 77, 32] }, truncated: false };
      let eps: Float32Array | null = null;
      await sd.denoise({
        text, latents: latent.data, width: 48 * 8, height: 40 * 8, steps: 2, timesteps: [500], guidance: 1,
        onStep: (info) => { eps = info.eps; },
      });
      assert.ok(eps);
      assertClose(tensor(eps, latent.dims), ref('a.out.eps'), FP32_TOL, 'pipeline step');
    } finally {
      await sd.close();
    }
  });

  test('translateKeyframes takes a pipeline with the config\'s FreeU and rejects any other', async () => {
    const on = resolveRerenderConfig({ freeu: { enabled: true, b1: 1.1, b2: 1.2, s1: 1, s2: 0.2 } });
    const off = resolveRerenderConfig({ freeu: { enabled: false, b1: 1.1, b2: 1.2, s1: 1, s2: 0.2 } });
    assert.deepEqual(rerenderPipelineOptions(on), { crossFrame: 'decoder', freeu: { b1: 1.1, b2: 1.2, s1: 1, s2: 0.2 } });
    assert.deepEqual(rerenderPipelineOptions(off).freeu, null);
    // A stand-in pipeline that stops translation at its first call, once the FreeU check has passed.
    const reached = new Error('reached encodePrompt');
    const fake = (freeu: RerenderPipeline['freeu']): RerenderPipeline => ({
      freeu,
      encodePrompt: () => Promise.reject(reached),
      encodeImage: () => Promise.reject(reached),
      decodeLatents: () => Promise.reject(reached),
      denoise: () => Promise.reject(reached),
      scheduler: () => { throw reached; },
      noise: () => { throw reached; },
      crossFrameLayers: () => Promise.reject(reached),
    });
    const deps = (pipeline: RerenderPipeline): Parameters<typeof translateKeyframes>[0] => ({
      pipeline, width: 64, height: 64, keyframes: [0],
      frame: () => Promise.resolve(new Uint8Array(64 * 64 * 3)),
      control: () => Promise.resolve(null),
      motion: () => Promise.reject(reached),
    });
    await assert.rejects(translateKeyframes(deps(fake({ b1: 1.1, b2: 1.2, s1: 1, s2: 0.2 })), on), reached);
    await assert.rejects(translateKeyframes(deps(fake(null)), off), reached);
    await assert.rejects(translateKeyframes(deps(fake(undefined)), off), reached);
    await assert.rejects(translateKeyframes(deps(fake(null)), on), { name: 'RerenderConfigError', message: /FreeU/ });
    await assert.rejects(translateKeyframes(deps(fake({ b1: 1.1, b2: 1.2, s1: 1, s2: 0.3 })), on), { name: 'RerenderConfigError' });
    await assert.rejects(translateKeyframes(deps(fake({ b1: 1.1, b2: 1.2, s1: 1, s2: 0.2 })), off), { name: 'RerenderConfigError' });
  });
});
