// CPU benchmark with the tiny fixture models: UNet + ControlNet denoising
// steps per second (batch 2, as with classifier-free guidance), per op variant.
// Usage: node bench/engine/run.ts [steps=20] [latent size=8]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileModel } from '../../src-main/engine/graph/compile.ts';
import type { CompileOptions } from '../../src-main/engine/graph/compile.ts';
import { diffusersComponent } from '../../src-main/engine/graph/diffusers-folder.ts';
import { InferenceHost } from '../../src-main/engine/runtime/inference-host.ts';
import type { Feeds } from '../../src-main/engine/runtime/tensor-data.ts';

const FIXTURES = fileURLToPath(new URL('../../tests/fixtures/engine/', import.meta.url));
const steps = Number(process.argv[2] ?? 20);
const size = Number(process.argv[3] ?? 8);
const batch = 2;

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

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
} finally {
  await host.close();
  rmSync(cache, { recursive: true, force: true });
}
