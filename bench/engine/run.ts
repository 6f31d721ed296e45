// Engine benchmark.
// Default (CPU, tiny fixture models): UNet + ControlNet denoising steps per second (batch 2, as
// with classifier-free guidance) per op variant, then whole-pipeline steps/s (txt2img + ControlNet).
//   node bench/engine/run.ts [steps=20] [latent size=8]
// --full: FULL-SIZE SD 1.5 architecture (UNet 320/640/1280/1280, cross-attention 768, CLIP-L 12
// layers, ControlNet, VAE) with random weights made here, timing a batch-2 run.
//   node bench/engine/run.ts --full [--steps 20] [--size 512] [--provider cpu|cuda|webgpu|auto] [--dtype fp16|fp32] [--cache DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileModel } from '../../src-main/engine/graph/compile.ts';
import type { CompileOptions, ModelSource, Target } from '../../src-main/engine/graph/compile.ts';
import { diffusersComponent } from '../../src-main/engine/graph/diffusers-folder.ts';
import { InferenceHost } from '../../src-main/engine/runtime/inference-host.ts';
import type { ProviderSetting } from '../../src-main/engine/runtime/providers.ts';
import type { Feeds } from '../../src-main/engine/runtime/tensor-data.ts';
import { StableDiffusionPipeline } from '../../src-main/engine/pipeline/index.ts';
import { SD15_CONTROLNET_CONFIG, SD15_TEXT_CONFIG, SD15_UNET_CONFIG, SD15_VAE_CONFIG } from '../../src-main/engine/pipeline/sd15-configs.ts';
import { parameterCount, randomSource, sd15Shapes } from './random-sd15.ts';

const FIXTURES = fileURLToPath(new URL('../../tests/fixtures/engine/', import.meta.url));
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    full: { type: 'boolean' },
    steps: { type: 'string' },
    size: { type: 'string' },
    provider: { type: 'string' },
    dtype: { type: 'string' },
    cache: { type: 'string' },
  },
});

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

const gib = (kb: number): string => `${(kb / 1024 / 1024).toFixed(2)} GiB`;

async function tinyBench(steps: number, size: number): Promise<void> {
  const batch = 2;
  const variants: { label: string; options: Omit<CompileOptions, 'kind'> }[] = [
    { label: 'cpu target, fp32 (default: InstanceNormalization GroupNorm, MultiHeadAttention)', options: { target: 'cpu', floatType: 'float32' } },
    { label: 'cpu target, fp32, GroupNormalization-21', options: { target: 'cpu', floatType: 'float32', ops: { groupNorm: 'native' } } },
    { label: 'webgpu-target graph on CPU, fp32 (MatMul attention)', options: { target: 'webgpu', floatType: 'float32' } },
    { label: 'cpu target, fp16 weights/activations', options: { target: 'cpu', floatType: 'float16' } },
  ];
  const cache = mkdtempSync(join(tmpdir(), 'bench-engine-'));
  const host = new InferenceHost({ provider: 'cpu' });
  try {
    const unetSrc = diffusersComponent(join(FIXTURES, 'tiny-sd/unet'));
    const cnSrc = diffusersComponent(join(FIXTURES, 'tiny-controlnet'));
    const common: Feeds = {
      sample: { type: 'float32', dims: [batch, 4, size, size], data: random(batch * 4 * size * size, 1) },
      encoder_hidden_states: { type: 'float32', dims: [batch, 77, 32], data: random(batch * 77 * 32, 2) },
    };
    const cond: Feeds = {
      controlnet_cond: { type: 'float32', dims: [batch, 3, 8 * size, 8 * size], data: random(batch * 3 * 64 * size * size, 3) },
      conditioning_scale: { type: 'float32', dims: [1], data: Float32Array.of(1) },
    };
    console.log(`tiny UNet + ControlNet, batch ${batch}, latent ${size}×${size}, ${steps} steps, CPU provider in a worker`);
    for (const v of variants) {
      const t0 = performance.now();
      const unet = compileModel(unetSrc, { kind: 'unet', ...v.options }, cache);
      const cn = compileModel(cnSrc, { kind: 'controlnet', ...v.options }, cache);
      const compileMs = performance.now() - t0;
      const unetModel = await host.load(unet.modelPath);
      const cnModel = await host.load(cn.modelPath);
      const step = async (t: number): Promise<void> => {
        const timestep: Feeds = { timestep: { type: 'float32', dims: [1], data: Float32Array.of(t) } };
        const res = await host.run(cnModel, { ...common, ...timestep, ...cond });
        await host.run(unetModel, { ...common, ...timestep, ...res });
      };
      await step(999); // warm-up
      const start = performance.now();
      for (let i = 0; i < steps; i++) await step(999 - i * 50);
      const seconds = (performance.now() - start) / 1000;
      console.log(`${v.label}: ${(steps / seconds).toFixed(1)} steps/s (${((seconds * 1000) / steps).toFixed(1)} ms/step; compile ${compileMs.toFixed(0)} ms)`);
      await host.release(unetModel);
      await host.release(cnModel);
    }

    // The whole pipeline: prompt encoding, CFG batch, ControlNet, DDIM and hooks plumbing, VAE decode.
    const sd = await StableDiffusionPipeline.load({ model: join(FIXTURES, 'tiny-sd'), controlnet: join(FIXTURES, 'tiny-controlnet'), cacheDir: cache, provider: 'cpu' });
    try {
      const side = 8 * size;
      const request = {
        prompt: 'a watercolor painting of a fox', negative: 'blurry', width: side, height: side, steps, seed: 1,
        control: { image: { data: random(3 * side * side, 4).map((v) => v + 0.5), dims: [1, 3, side, side] } },
      };
      await sd.generate({ ...request, steps: 1 }); // compile + warm-up
      let stepStart = 0;
      let denoiseSeconds = 0;
      const t0 = performance.now();
      await sd.generate({
        ...request,
        attention: (p) => { if (p.index === 0) stepStart = performance.now(); },
        onProgress: (p) => { if (p.done === p.total) denoiseSeconds = (performance.now() - stepStart) / 1000; },
      });
      const total = (performance.now() - t0) / 1000;
      console.log(`pipeline txt2img + ControlNet ${side}×${side}, ${steps} steps: ${(steps / denoiseSeconds).toFixed(1)} steps/s; ${total.toFixed(2)} s per image (prompt, steps, decode)`);
    } finally {
      await sd.close();
    }
  } finally {
    await host.close();
    rmSync(cache, { recursive: true, force: true });
  }
}

function sources(): { text: ModelSource; unet: ModelSource; controlnet: ModelSource; vae: ModelSource } {
  const shapes = sd15Shapes();
  for (const [k, s] of Object.entries(shapes)) console.log(`  ${k}: ${(parameterCount(s) / 1e6).toFixed(1)} M parameters`);
  return {
    text: randomSource(shapes.text, SD15_TEXT_CONFIG, 'random-sd15-text'),
    unet: randomSource(shapes.unet, SD15_UNET_CONFIG, 'random-sd15-unet'),
    controlnet: randomSource(shapes.controlnet, SD15_CONTROLNET_CONFIG, 'random-sd15-controlnet'),
    vae: randomSource(shapes.vae, SD15_VAE_CONFIG, 'random-sd15-vae'),
  };
}

async function fullBench(): Promise<void> {
  const steps = Number(flags.steps ?? 20);
  const size = Number(flags.size ?? 512);
  const provider = (flags.provider ?? 'cpu') as ProviderSetting;
  const floatType = (flags.dtype ?? 'fp16') === 'fp32' ? 'float32' : 'float16';
  const latent = size / 8;
  const ownCache = flags.cache === undefined;
  const cache = flags.cache ?? mkdtempSync(join(tmpdir(), 'bench-engine-full-'));
  const host = new InferenceHost({ provider });
  try {
    const probe = await host.probe();
    for (const n of probe.notes) console.log(`note: ${n.message}`);
    const target: Target = probe.provider;
    console.log(`FULL-SIZE SD 1.5 + ControlNet (random weights), ${size}×${size}, batch 2, ${steps} steps, ${probe.provider}, ${floatType}`);
    const src = sources();
    const t0 = performance.now();
    const opts = { target, floatType } as const;
    const compiled = {
      text: compileModel(src.text, { kind: 'text-encoder', ...opts }, cache),
      unet: compileModel(src.unet, { kind: 'unet', ...opts }, cache),
      controlnet: compileModel(src.controlnet, { kind: 'controlnet', ...opts }, cache),
      decoder: compileModel(src.vae, { kind: 'vae-decoder', ...opts }, cache),
    };
    console.log(`compile: ${((performance.now() - t0) / 1000).toFixed(1)} s${compiled.unet.cacheHit ? ' (cache hit)' : ''}`);
    const t1 = performance.now();
    const models = {
      text: await host.load(compiled.text.modelPath),
      unet: await host.load(compiled.unet.modelPath),
      controlnet: await host.load(compiled.controlnet.modelPath),
      decoder: await host.load(compiled.decoder.modelPath),
    };
    console.log(`session load: ${((performance.now() - t1) / 1000).toFixed(1)} s`);

    const image = performance.now();
    const ids = BigInt64Array.from({ length: 2 * 77 }, (_, i) => BigInt(i % 77 === 0 ? 49406 : i % 77 < 10 ? 320 + (i % 77) : 49407));
    const text = await host.run(models.text, { input_ids: { type: 'int64', dims: [2, 77], data: ids } });
    const ehs = text['last_hidden_state']!;
    const sample: Feeds = { sample: { type: 'float32', dims: [2, 4, latent, latent], data: random(2 * 4 * latent * latent, 5) } };
    const cond: Feeds = {
      controlnet_cond: { type: 'float32', dims: [2, 3, size, size], data: random(2 * 3 * size * size, 6).map((v) => v + 0.5) },
      conditioning_scale: { type: 'float32', dims: [1], data: Float32Array.of(1) },
    };
    const stepTimes: number[] = [];
    for (let i = 0; i < steps; i++) {
      const s0 = performance.now();
      const common: Feeds = { ...sample, timestep: { type: 'float32', dims: [1], data: Float32Array.of(999 - i * 50) }, encoder_hidden_states: ehs };
      const res = await host.run(models.controlnet, { ...common, ...cond });
      await host.run(models.unet, { ...common, ...res });
      stepTimes.push((performance.now() - s0) / 1000);
      console.log(`  step ${i + 1}/${steps}: ${stepTimes[i]!.toFixed(2)} s`);
    }
    await host.run(models.decoder, { latents: { type: 'float32', dims: [1, 4, latent, latent], data: random(4 * latent * latent, 7) } });
    const perImage = (performance.now() - image) / 1000;
    const later = stepTimes.length > 1 ? stepTimes.slice(1) : stepTimes;
    console.log(`seconds per UNet+ControlNet step (batch 2): ${(later.reduce((a, b) => a + b, 0) / later.length).toFixed(2)} s${stepTimes.length > 1 ? ' (excluding the first)' : ''}; first step ${stepTimes[0]!.toFixed(2)} s`);
    console.log(`seconds per image (text encoder + ${steps} steps + VAE decode): ${perImage.toFixed(1)} s`);
    console.log(`peak memory (process RSS, main + worker): ${gib(process.resourceUsage().maxRSS)}`);
  } finally {
    await host.close();
    if (ownCache) rmSync(cache, { recursive: true, force: true });
  }
}

if (flags.full) await fullBench();
else await tinyBench(Number(positionals[0] ?? flags.steps ?? 20), Number(positionals[1] ?? flags.size ?? 8));
