// Child-process step of run.ts: writes the random-weight SD 1.5 components as diffusers folders
// (config.json + diffusion_pytorch_model.safetensors) that both sides load, the shared inputs,
// and compiles our fp32 CPU graphs from those folders. It runs in its own process so that the
// weight generation and compilation do not count in our side's peak RSS.
//   node bench/cpu-vs-torch/prepare.ts --cache DIR --size 512 [--ops '{"groupNorm":"native"}']
// Prints one JSON line: PreparedPaths.
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileModel } from '../../src-main/engine/graph/compile.ts';
import type { ModelKind } from '../../src-main/engine/graph/compile.ts';
import type { OpChoices } from '../../src-main/engine/graph/layers.ts';
import { diffusersComponent } from '../../src-main/engine/graph/diffusers-folder.ts';
import { SD15_CONTROLNET_CONFIG, SD15_UNET_CONFIG, SD15_VAE_CONFIG } from '../../src-main/engine/pipeline/sd15-configs.ts';
import { sd15Shapes, writeRandomComponent } from '../engine/random-sd15.ts';
import { inputShapes, makeInputs } from './inputs.ts';
import type { InputName } from './inputs.ts';
import { writeFloatSafetensors } from '../engine/weights-file.ts';

export interface PreparedPaths {
  weights: string;
  inputs: string;
  graphs: Record<'unet' | 'controlnet' | 'vaeEncoder' | 'vaeDecoder', string>;
}

const COMPONENTS = {
  unet: { config: SD15_UNET_CONFIG, cls: 'UNet2DConditionModel' },
  controlnet: { config: SD15_CONTROLNET_CONFIG, cls: 'ControlNetModel' },
  vae: { config: SD15_VAE_CONFIG, cls: 'AutoencoderKL' },
} as const;

/** Writes one fp32 component folder (diffusers names its class in config.json) unless a finished one is there. */
function writeComponent(root: string, name: keyof typeof COMPONENTS): string {
  const c = COMPONENTS[name];
  return writeRandomComponent(join(root, name), 'diffusion_pytorch_model.safetensors', sd15Shapes()[name], { _class_name: c.cls, ...c.config }, `random-sd15-${name}`, 'F32');
}

function writeInputs(cache: string, size: number): string {
  const path = join(cache, `inputs-${size}.safetensors`);
  if (existsSync(path)) return path;
  const values = makeInputs(size);
  const shapes = new Map(Object.entries(inputShapes(size)) as [InputName, number[]][]);
  writeFloatSafetensors(`${path}.tmp`, { shapes, get: (n) => values[n as InputName] });
  renameSync(`${path}.tmp`, path);
  return path;
}

function main(): void {
  const { values } = parseArgs({ options: { cache: { type: 'string' }, size: { type: 'string' }, ops: { type: 'string' } } });
  if (!values.cache) throw new Error('--cache is required');
  const size = Number(values.size ?? 512);
  const ops = values.ops ? (JSON.parse(values.ops) as Partial<OpChoices>) : undefined;
  const weights = join(values.cache, 'weights');
  const graphsDir = join(values.cache, 'graphs');
  const dirs = { unet: writeComponent(weights, 'unet'), controlnet: writeComponent(weights, 'controlnet'), vae: writeComponent(weights, 'vae') };
  const compile = (dir: string, kind: ModelKind): string => {
    const t0 = performance.now();
    const m = compileModel(diffusersComponent(dir), { kind, target: 'cpu', floatType: 'float32', ...(ops ? { ops } : {}) }, graphsDir);
    console.error(`[prepare] ${kind}: ${m.cacheHit ? 'cache hit' : `compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s`}`);
    return m.modelPath;
  };
  const out: PreparedPaths = {
    weights,
    inputs: writeInputs(values.cache, size),
    graphs: {
      unet: compile(dirs.unet, 'unet'),
      controlnet: compile(dirs.controlnet, 'controlnet'),
      vaeEncoder: compile(dirs.vae, 'vae-encoder'),
      vaeDecoder: compile(dirs.vae, 'vae-decoder'),
    },
  };
  console.log(JSON.stringify(out));
}

main();
