// FreeU in the compiled UNet against diffusers' enable_freeu and the official Rerender variant
// (tests/fixtures/engine/freeu, made by tools/reference/make_freeu_ref.py), its cache keys and its off state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { cacheKey, compileModel } from '../../../src-main/engine/graph/compile.ts';
import type { CompileOptions, ModelSource } from '../../../src-main/engine/graph/compile.ts';
import { normalizeFreeU } from '../../../src-main/engine/graph/freeu.ts';
import type { FreeUFactors } from '../../../src-main/engine/graph/freeu.ts';
import { diffusersComponent } from '../../../src-main/engine/graph/diffusers-folder.ts';
import { StableDiffusionPipeline } from '../../../src-main/engine/pipeline/index.ts';
import type { TextEmbeddings } from '../../../src-main/engine/pipeline/index.ts';
import { translateKeyframes } from '../../../src-main/rerender/translate.ts';
import type { RerenderPipeline } from '../../../src-main/rerender/sampler-pass.ts';
import { resolveRerenderConfig } from '../../../src-main/rerender/config.ts';
import { checkPipelineFreeU, rerenderPipelineOptions } from '../../../src-main/rerender/pipeline-options.ts';
import { FIXTURES, assertClose, refF32, relError, tensor } from './ref.ts';
import { cpuLaneOnly, laneRunsFloat16, laneSessionOptions, laneTarget, ON_WEBGPU, TEST_PROVIDER } from '../../helpers/provider.ts';

const FP32_TOL = 1e-4;
const DIR = join(FIXTURES, 'freeu');
const FACTORS: FreeUFactors = { b1: 1.3, b2: 1.4, s1: 0.9, s2: 0.2 };

interface Entry {
  file: string;
  shape: number[];
  freeu?: FreeUFactors;
  timestep?: number;
  /** Official/ControlNet cases: the latent they were made from. */
  latent?: string;
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

function options(freeu: FreeUFactors | null | undefined, extra: Partial<CompileOptions> = {}, controlnetResiduals = false): CompileOptions {
  return { kind: 'unet', target: laneTarget('cpu'), floatType: 'float32', ...extra, unet: { controlnetResiduals, ...(freeu !== undefined ? { freeu } : {}) } };
}

type F32 = { data: Float32Array; dims: number[] };

async function run(opts: CompileOptions, latent: F32, ehs: F32 = ref('in.encoder_hidden_states'), feeds: Record<string, ort.Tensor> = {}): Promise<ort.Tensor> {
  const compiled = compileModel(unet, opts, cache);
  const s = await ort.InferenceSession.create(compiled.modelPath, laneSessionOptions());
  const r = await s.run({ ...feeds, sample: tensor(latent.data, latent.dims), timestep: tensor(Float32Array.of(500), [1]), encoder_hidden_states: tensor(ehs.data, ehs.dims) });
  await s.release();
  return r['noise_pred']!;
}

describe('FreeU matches diffusers enable_freeu (float32)', () => {
  for (const [name, what] of [['a', '24×32 latent: filters at 3×4 and 6×8'], ['b', '24×8 latent: sides of 1, 2 and 3'], ['c', 'Rerender example factors (s1 = 1)']] as const) {
    test(`case ${name}: ${what}`, async () => {
      const want = ref(`${name}.out.eps`);
      const factors = want.entry.freeu;
      assert.ok(factors);
      const latent = ref(`${name}.in.latent`);
      assertClose(await run(options(factors), latent), want, FP32_TOL, `case ${name}`);
      // Whether the reference differs from the plain UNet is a property of the data: the CPU lane checks it.
      if (name === 'a' && !ON_WEBGPU) {
        // The reference is far from the plain UNet, so matching it means FreeU really ran.
        const plain = await run(options(null), latent);
        assert.ok(relError(plain.data as Float32Array, want.data) > 1e-2, 'FreeU changes the prediction');
      }
    });
  }

  test('webgpu-target graph (MatMul attention) and a fp16 graph', async (t) => {
    const want = ref('a.out.eps');
    const latent = ref('a.in.latent');
    // On the WebGPU lane every graph above already is the webgpu-target one.
    if (!ON_WEBGPU) assertClose(await run(options(FACTORS, { target: 'webgpu' }), latent), want, FP32_TOL, 'webgpu variant');
    if (!(await laneRunsFloat16())) return t.skip('this WebGPU adapter has no 16-bit float shaders');
    // fp16 tolerance as in models.test.ts (the filter itself runs in float32).
    assertClose(await run(options(FACTORS, { floatType: 'float16' }), latent), want, 1e-2, 'fp16');
  });
});

/** The ControlNet residual inputs saved with case `name` (down_res_0..11, mid_res). */
function residualFeeds(name: string): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const key of Object.keys(manifest).filter((k) => k.startsWith(`${name}.in.`))) {
    const r = ref(key);
    feeds[key.slice(`${name}.in.`.length)] = tensor(r.data, r.dims);
  }
  assert.equal(Object.keys(feeds).length, 13, 'twelve down residuals and the mid one');
  return feeds;
}

describe('official FreeU variant matches the reference of Rerender\'s src/freeu.py (float32)', () => {
  const cases = [
    ['official.a', '24×32 latent: stages by channel count, filters from 3×4 to 24×32'],
    ['official.b', '24×8 latent: sides of 1, 2 and 3'],
    ['official.c', 'Rerender example factors (s1 = 1)'],
    ['official.cn', 'ControlNet residuals, added after the filter'],
    ['diffusers.cn', 'diffusers variant with ControlNet residuals, added before the filter'],
  ] as const;
  // On the WebGPU lane official.b and official.c run every op of the variant; which stages it picks and
  // where residuals join are the graph's structure, which the CPU lane checks at the larger latent.
  const laneRuns = new Set<string>(['official.b', 'official.c']);
  for (const [name, what] of cases) {
    test(`${name}: ${what}`, laneRuns.has(name) ? {} : cpuLaneOnly('the same ops as official.b and official.c, in another arrangement'), async () => {
      const want = ref(`${name}.out.eps`);
      const { freeu, latent } = want.entry;
      assert.ok(freeu && latent);
      const residuals = name.endsWith('.cn') ? residualFeeds('official.cn') : {};
      const got = await run(options(freeu, {}, name.endsWith('.cn')), ref(latent), undefined, residuals);
      assertClose(got, want, FP32_TOL, name);
      if (!ON_WEBGPU && (name === 'official.a' || name === 'official.cn')) {
        // The other variant is far from the reference, so matching it means the official one ran.
        const other = await run(options({ ...freeu, variant: 'diffusers' }, {}, name === 'official.cn'), ref(latent), undefined, residuals);
        assert.ok(relError(other.data as Float32Array, want.data) > 1e-2, 'the variants differ');
      }
    });
  }

  test('webgpu-target graph and a fp16 graph', async (t) => {
    const want = ref('official.a.out.eps');
    const factors = want.entry.freeu;
    assert.ok(factors);
    if (!ON_WEBGPU) assertClose(await run(options(factors, { target: 'webgpu' }), ref('a.in.latent')), want, FP32_TOL, 'webgpu variant');
    if (!(await laneRunsFloat16())) return t.skip('this WebGPU adapter has no 16-bit float shaders');
    assertClose(await run(options(factors, { floatType: 'float16' }), ref('a.in.latent')), want, 1e-2, 'fp16');
  });
});

describe('FreeU off', () => {
  test('absent, null and all-ones factors give the unchanged graph (same key, reference output)', async () => {
    const base = cacheKey(unet, options(undefined));
    assert.equal(cacheKey(unet, options(null)), base);
    assert.equal(cacheKey(unet, options({ b1: 1, b2: 1, s1: 1, s2: 1 })), base);
    assert.equal(cacheKey(unet, options({ b1: 1, b2: 1, s1: 1, s2: 1, variant: 'official' })), base);
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
    // The official variant is another graph.
    assert.notEqual(cacheKey(unet, options({ ...FACTORS, variant: 'official' })), cacheKey(unet, options(FACTORS)));
    // Non-UNet graphs ignore the option.
    assert.equal(cacheKey(unet, { ...options(FACTORS), kind: 'controlnet' }), cacheKey(unet, { ...options(null), kind: 'controlnet' }));
  });

  test('the diffusers variant keeps the key it had before variants existed', () => {
    // Explicit 'diffusers' hashes as the absent field did; so do the factors as the pipeline reports them.
    assert.equal(cacheKey(unet, options({ ...FACTORS, variant: 'diffusers' })), cacheKey(unet, options(FACTORS)));
    assert.deepEqual(normalizeFreeU({ ...FACTORS, variant: 'diffusers' }), { b1: 1.3, b2: 1.4, s1: 0.9, s2: 0.2 });
    assert.deepEqual(normalizeFreeU({ ...FACTORS, variant: 'official' }), { ...FACTORS, variant: 'official' });
  });

  test('a factor that is not a finite number is a typed error', () => {
    assert.throws(() => cacheKey(unet, options({ ...FACTORS, variant: 'ldm' as FreeUFactors['variant'] })), { name: 'FreeUOptionError', message: /freeu\.variant/ });
    assert.throws(() => cacheKey(unet, options({ ...FACTORS, s2: Number.NaN })), { name: 'FreeUOptionError', message: /freeu\.s2/ });
    assert.throws(() => compileModel(unet, options({ ...FACTORS, b1: Number.POSITIVE_INFINITY }), cache), { name: 'FreeUOptionError' });
  });
});

describe('pipeline and Rerender', () => {
  test('PipelineOptions.freeu reaches the UNet: one guided step (g = 1) reproduces diffusers', async () => {
    await assert.rejects(StableDiffusionPipeline.load({ model: join(FIXTURES, 'tiny-sd'), cacheDir: cache, provider: TEST_PROVIDER, freeu: { ...FACTORS, b2: Number.NaN } }), { name: 'PipelineError', code: 'INVALID_ARGUMENT' });
    const config = resolveRerenderConfig({ freeu: { enabled: true, ...FACTORS } });
    const sd = await StableDiffusionPipeline.load({ model: join(FIXTURES, 'tiny-sd'), cacheDir: cache, provider: TEST_PROVIDER, precision: 'fp32', intraOpThreads: 1, ...rerenderPipelineOptions(config) });
    assert.equal(sd.provider, TEST_PROVIDER);
    try {
      assert.deepEqual(sd.freeu, FACTORS);
      checkPipelineFreeU(sd.freeu, config);
      // Case b: the same factors as case a, and cheap enough for the WebGPU lane.
      const latent = ref('b.in.latent');
      const ehs = ref('in.encoder_hidden_states').data;
      const hidden = new Float32Array(ehs.length * 2);
      hidden.set(ehs, 0);
      hidden.set(ehs, ehs.length);
      const text: TextEmbeddings = { hidden: { data: hidden, dims: [2, 77, 32] }, truncated: false };
      let eps: Float32Array | null = null;
      await sd.denoise({
        text, latents: latent.data, width: latent.dims[3]! * 8, height: latent.dims[2]! * 8, steps: 2, timesteps: [500], guidance: 1,
        onStep: (info) => { eps = info.eps; },
      });
      assert.ok(eps);
      assertClose(tensor(eps, latent.dims), ref('b.out.eps'), FP32_TOL, 'pipeline step');
    } finally {
      await sd.close();
    }
  });

  test('translateKeyframes takes a pipeline with the config\'s FreeU and context type, and rejects any other', async () => {
    const on = resolveRerenderConfig({ freeu: { enabled: true, b1: 1.1, b2: 1.2, s1: 1, s2: 0.2 } });
    const off = resolveRerenderConfig({ freeu: { enabled: false, b1: 1.1, b2: 1.2, s1: 1, s2: 0.2 } });
    assert.deepEqual(rerenderPipelineOptions(on), { crossFrame: 'decoder', freeu: { b1: 1.1, b2: 1.2, s1: 1, s2: 0.2 }, contextType: 'float16' });
    assert.deepEqual(rerenderPipelineOptions(off).freeu, null);
    // A stand-in pipeline that stops translation at its first call, once the FreeU check has passed.
    const reached = new Error('reached encodePrompt');
    const fake = (freeu: RerenderPipeline['freeu'], contextType: RerenderPipeline['contextType'] = 'float16'): RerenderPipeline => ({
      freeu,
      contextType,
      encodePrompt: () => Promise.reject(reached),
      encodeImage: () => Promise.reject(reached),
      decodeLatents: () => Promise.reject(reached),
      denoise: () => Promise.reject(reached),
      scheduler: () => { throw reached; },
      noise: () => { throw reached; },
      crossFrameLayers: () => Promise.reject(reached),
      dropContexts: () => Promise.reject(reached),
      contextMemory: () => Promise.reject(reached),
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
    // The contexts' element type is compiled in too.
    await assert.rejects(translateKeyframes(deps(fake(null, 'float32')), off), { name: 'RerenderConfigError', message: /float32/ });
    await assert.rejects(translateKeyframes(deps(fake(null, 'float32')), resolveRerenderConfig({ freeu: { enabled: false }, contextPrecision: 'float32' })), reached);
  });

  test('the FreeU variant is part of what the pipeline must match', () => {
    const official = resolveRerenderConfig({ freeu: { enabled: true, ...FACTORS, variant: 'official' } });
    const diffusers = resolveRerenderConfig({ freeu: { enabled: true, ...FACTORS } });
    assert.deepEqual(rerenderPipelineOptions(official).freeu, { ...FACTORS, variant: 'official' });
    assert.deepEqual(rerenderPipelineOptions(diffusers).freeu, FACTORS, 'no variant field for diffusers');
    checkPipelineFreeU({ ...FACTORS, variant: 'official' }, official);
    checkPipelineFreeU({ ...FACTORS, variant: 'diffusers' }, diffusers);
    assert.throws(() => checkPipelineFreeU(FACTORS, official), { name: 'RerenderConfigError', message: /official/ });
    assert.throws(() => checkPipelineFreeU({ ...FACTORS, variant: 'official' }, diffusers), { name: 'RerenderConfigError' });
  });
});
