// `rerender txt2img` / `rerender img2img`: one image from a prompt (and an init image), with
// an optional ControlNet, LoRAs and VAE, through the same engine the app uses.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { CliContext, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { intOption, parse, precisionOption } from './args.ts';
import { decodePng, encodePng, toRgb } from '../../media/png.ts';
import { MediaError } from '../../media/errors.ts';
import { StableDiffusionPipeline, PipelineError, controlFromRgb8, imageFromRgb8, imageToRgb8, resizeRgb8 } from '../../engine/pipeline/index.ts';
import type { LoraSpec, PipelineOptions } from '../../engine/pipeline/index.ts';
import { listModels, findHuggingFaceSnapshot } from '../../engine/weights/models-folder.ts';
import { loadCanny } from '../../engine/control/index.ts';
import type { ProviderSetting } from '../../engine/runtime/providers.ts';

const SD15_REPOS = ['stable-diffusion-v1-5/stable-diffusion-v1-5', 'runwayml/stable-diffusion-v1-5'];
const PROVIDERS: readonly ProviderSetting[] = ['auto', 'cuda', 'webgpu', 'cpu'];

const OPTIONS = {
  model: { type: 'string' },
  prompt: { type: 'string' },
  negative: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  seed: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  controlnet: { type: 'string' },
  control: { type: 'string' },
  canny: { type: 'string' },
  'control-scale': { type: 'string' },
  lora: { type: 'string', multiple: true },
  vae: { type: 'string' },
  provider: { type: 'string' },
  precision: { type: 'string' },
  cache: { type: 'string' },
  models: { type: 'string' },
  output: { type: 'string', short: 'o' },
  image: { type: 'string' },
  strength: { type: 'string' },
} as const;

const COMMON_USAGE = `  --model PATH         SD 1.5 checkpoint: a .safetensors file or a diffusers folder (default: the
                       first checkpoint in the models folder, or a Hugging Face cache copy of SD 1.5)
  --prompt TEXT        what to draw (long prompts are split into 75-token chunks)
  --negative TEXT      what to avoid
  --steps N            DDIM steps (default 20)
  --guidance G         classifier-free guidance scale (default 7.5)
  --seed N             noise seed, 0..4294967295 (default 0); the same seed gives the same image
  --width W --height H output size, multiples of 64 (default 512, or the init image's size)
  --controlnet PATH    a ControlNet (.safetensors or diffusers folder), used with --control
  --control IMAGE      the control image (PNG); with --canny LOW,HIGH its Canny edges are used
  --control-scale S    ControlNet conditioning scale (default 1)
  --lora PATH:WEIGHT   a LoRA merged at WEIGHT (default 1); repeatable
  --vae PATH           a VAE replacing the model's
  --provider P         auto|cuda|webgpu|cpu (default auto: cuda, then webgpu, then cpu)
  --precision P        auto|fp16|fp32 (default auto: fp16 where the GPU supports it, else fp32)
  --cache DIR          compiled-graph cache (default $RERENDER_CACHE or ~/.cache/rerender/onnx)
  --models DIR         models folder (default $RERENDER_MODELS or ~/.rerender/models)
  -o, --output FILE    the PNG to write`;

function floatOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name} needs a number in [${min}, ${max}], got '${value}'`);
  return v;
}

function loraOption(value: string): LoraSpec {
  // The weight follows the last ':' (paths may hold ':' themselves, e.g. C:\...).
  const at = value.lastIndexOf(':');
  const tail = at > 0 ? value.slice(at + 1) : '';
  if (at > 0 && /^-?\d*\.?\d+$/.test(tail)) return { path: value.slice(0, at), weight: Number(tail) };
  return { path: value, weight: 1 };
}

function cannyOption(value: string | undefined): { low: number; high: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*$/.exec(value);
  if (!m || Number(m[1]) > Number(m[2])) throw new UsageError(`--canny needs 'LOW,HIGH' thresholds with LOW ≤ HIGH, e.g. 100,200; got '${value}'`);
  return { low: Number(m[1]), high: Number(m[2]) };
}

function modelsDir(ctx: CliContext, flag: string | undefined): string {
  return path.resolve(ctx.cwd, flag ?? ctx.env['RERENDER_MODELS'] ?? path.join(ctx.env['HOME'] ?? homedir(), '.rerender', 'models'));
}

function hubDir(ctx: CliContext): string {
  if (ctx.env['HF_HUB_CACHE']) return ctx.env['HF_HUB_CACHE'];
  return path.join(ctx.env['HF_HOME'] ?? path.join(ctx.env['HOME'] ?? homedir(), '.cache', 'huggingface'), 'hub');
}

/** --model, else the models folder's first checkpoint, else an SD 1.5 snapshot in the HF cache. */
function findModel(ctx: CliContext, flag: string | undefined, models: string): string {
  if (flag !== undefined) return path.resolve(ctx.cwd, flag);
  const local = listModels(models).find((m) => m.kind === 'checkpoint');
  if (local) return local.path;
  for (const repo of SD15_REPOS) {
    const snap = findHuggingFaceSnapshot(hubDir(ctx), repo);
    if (snap) return snap;
  }
  throw new PipelineError('MODEL_MISSING', [
    'no Stable Diffusion model found.',
    `  - pass one with --model PATH (a SD 1.5 .safetensors checkpoint or a diffusers folder), or`,
    `  - put one in the models folder: ${path.join(models, 'checkpoints')} (ControlNets in ${path.join(models, 'controlnet')}), or`,
    '  - when online, download SD 1.5 and the canny ControlNet from Hugging Face, e.g.',
    '      https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5 (v1-5-pruned-emaonly.safetensors)',
    '      https://huggingface.co/lllyasviel/control_v11p_sd15_canny (diffusion_pytorch_model.safetensors + config.json)',
    '    (a huggingface_hub cache copy of stable-diffusion-v1-5 is found automatically).',
  ].join('\n'));
}

function readRgb(ctx: CliContext, file: string, what: string): { rgb: Uint8Array; width: number; height: number } {
  const p = path.resolve(ctx.cwd, file);
  if (!existsSync(p)) throw new MediaError('FILE_NOT_FOUND', `${what} ${file} does not exist`);
  const img = decodePng(readFileSync(p));
  return { rgb: toRgb(img), width: img.width, height: img.height };
}

function writePngAtomically(file: string, rgb: Uint8Array, width: number, height: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, encodePng(rgb, width, height, 3));
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOSPC') throw new MediaError('DISK_FULL', `no space left to write ${file}`, { cause: err });
    throw new MediaError('OUTPUT_UNWRITABLE', `cannot write ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

const roundDown64 = (v: number): number => Math.max(64, v - (v % 64));

async function generate(ctx: CliContext, argv: string[], img2img: boolean): Promise<void> {
  const { values } = parse(argv, OPTIONS, 0);
  if (values.prompt === undefined) throw new UsageError('--prompt TEXT is required');
  if (values.output === undefined) throw new UsageError('-o OUT.png is required');
  if (img2img && values.image === undefined) throw new UsageError('--image IN.png is required');
  if (!img2img && (values.image !== undefined || values.strength !== undefined)) throw new UsageError('--image/--strength belong to img2img');
  if ((values.controlnet === undefined) !== (values.control === undefined)) throw new UsageError('--controlnet and --control go together');
  if (values.canny !== undefined && values.control === undefined) throw new UsageError('--canny needs --control IMAGE');
  const provider = (values.provider ?? 'auto') as ProviderSetting;
  if (!PROVIDERS.includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
  const precision = precisionOption(values.precision) ?? 'auto';
  const steps = intOption(values.steps, 'steps', 1) ?? 20;
  if (steps > 1000) throw new UsageError('--steps must be at most 1000');
  const guidance = floatOption(values.guidance, 'guidance', 0, 100) ?? 7.5;
  const seed = intOption(values.seed, 'seed', 0) ?? 0;
  if (seed > 0xffffffff) throw new UsageError('--seed must be at most 4294967295');
  const strength = floatOption(values.strength, 'strength', 0.01, 1) ?? 0.75;
  const controlScale = floatOption(values['control-scale'], 'control-scale', 0, 10) ?? 1;
  const canny = cannyOption(values.canny);
  const loras = (values.lora ?? []).map(loraOption);
  const output = path.resolve(ctx.cwd, values.output);

  const init = img2img ? readRgb(ctx, values.image!, 'init image') : null;
  const width = intOption(values.width, 'width', 64) ?? (init ? roundDown64(init.width) : 512);
  const height = intOption(values.height, 'height', 64) ?? (init ? roundDown64(init.height) : 512);
  if (width % 64 || height % 64) throw new UsageError(`--width and --height must be multiples of 64, got ${width}×${height}`);

  const models = modelsDir(ctx, values.models);
  const options: PipelineOptions = {
    model: findModel(ctx, values.model, models),
    cacheDir: path.resolve(ctx.cwd, values.cache ?? ctx.env['RERENDER_CACHE'] ?? path.join(ctx.env['HOME'] ?? homedir(), '.cache', 'rerender', 'onnx')),
    provider,
    precision,
    loras: loras.map((l) => ({ ...l, path: path.resolve(ctx.cwd, l.path) })),
    onWarning: (m) => ctx.out.warn(m),
    signal: ctx.signal,
    ...(values.vae !== undefined ? { vae: path.resolve(ctx.cwd, values.vae) } : {}),
    ...(values.controlnet !== undefined ? { controlnet: path.resolve(ctx.cwd, values.controlnet) } : {}),
  };
  let control = null;
  if (values.control !== undefined) {
    const c = readRgb(ctx, values.control, 'control image');
    let rgb = resizeRgb8(c.rgb, c.width, c.height, width, height);
    if (canny) rgb = (await loadCanny()({ data: rgb, width, height, channels: 3 }, canny, ctx.signal)).data;
    control = { image: controlFromRgb8(rgb, width, height), scale: controlScale };
  }

  const sd = await StableDiffusionPipeline.load(options);
  try {
    ctx.out.info(`${path.basename(options.model)}${sd.hasControlNet ? ' with ControlNet' : ''} on ${sd.deviceLine}`);
    const result = await sd.generate({
      prompt: values.prompt, negative: values.negative ?? '', width, height, steps, guidance, seed, control,
      init: init ? { image: imageFromRgb8(resizeRgb8(init.rgb, init.width, init.height, width, height), width, height), strength } : null,
      signal: ctx.signal,
      onProgress: (p) => ctx.out.progress(p),
    });
    writePngAtomically(output, imageToRgb8(result.image), width, height);
    ctx.out.result(
      { output, width, height, seed, steps: result.timesteps.length, provider: sd.provider, floatType: sd.floatType },
      `wrote ${output} (${width}×${height}, seed ${seed}, ${result.timesteps.length} steps on ${sd.provider}, ${sd.floatType})`,
    );
  } finally {
    await sd.close();
  }
}

export const txt2imgCommand: Command = {
  name: 'txt2img',
  summary: 'generate an image from a prompt with Stable Diffusion 1.5 (optionally ControlNet, LoRAs)',
  usage: `Usage: rerender txt2img --prompt TEXT -o OUT.png [options]

${COMMON_USAGE}`,
  run: (ctx, argv) => generate(ctx, argv, false),
};

export const img2imgCommand: Command = {
  name: 'img2img',
  summary: 'redraw an image from a prompt with Stable Diffusion 1.5 (optionally ControlNet, LoRAs)',
  usage: `Usage: rerender img2img --image IN.png --prompt TEXT -o OUT.png [--strength 0.75] [options]

  --image FILE         the init image (PNG), resized to --width/--height
  --strength S         how much to change it, (0, 1] (default 0.75)
${COMMON_USAGE}`,
  run: (ctx, argv) => generate(ctx, argv, true),
};
