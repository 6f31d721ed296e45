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
import type { ControlInput, ControlNetSpec, ControlType, LoraSpec, PipelineOptions } from '../../engine/pipeline/index.ts';
import { CONTROL_TYPES } from '../../engine/pipeline/types.ts';
import { controlTypeOf, findModels, modelRoots, pickCheckpoint, resolveModelsDir } from '../../engine/weights/model-roots.ts';
import { annotatorPreprocessor, loadCanny } from '../../engine/control/index.ts';
import type { Preprocessor, RgbImage } from '../../engine/control/index.ts';
import { InferenceHost } from '../../engine/runtime/inference-host.ts';
import type { ProviderSetting } from '../../engine/runtime/providers.ts';

const PROVIDERS: readonly ProviderSetting[] = ['auto', 'cuda', 'webgpu', 'cpu'];

const OPTIONS = {
  model: { type: 'string' },
  config: { type: 'string' },
  prompt: { type: 'string' },
  negative: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  seed: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  controlnet: { type: 'string', multiple: true },
  control: { type: 'string', multiple: true },
  canny: { type: 'string' },
  'control-scale': { type: 'string' },
  lora: { type: 'string', multiple: true },
  vae: { type: 'string' },
  provider: { type: 'string' },
  precision: { type: 'string' },
  cache: { type: 'string' },
  models: { type: 'string' },
  'models-from': { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' },
  image: { type: 'string' },
  strength: { type: 'string' },
} as const;

const COMMON_USAGE = `  --model PATH         SD 1.5 checkpoint: a .safetensors file or a diffusers folder (default: the
                       first checkpoint of \`rerender models list\`: the models folder, then the
                       --models-from and RERENDER_MODEL_ROOTS folders, then the huggingface_hub cache)
  --config PATH        for a single-file model: its diffusers config (a config.json, or a model folder
                       with unet/config.json etc. and tokenizer/), over what the file's tensors imply;
                       needed where they cannot tell (attention heads other than SD 1.x's 8, or
                       64-wide for 1024-wide text contexts; GroupNorm groups other than 32)
  --prompt TEXT        what to draw (long prompts are split into 75-token chunks)
  --negative TEXT      what to avoid
  --steps N            DDIM steps (default 20)
  --guidance G         classifier-free guidance scale (default 7.5)
  --seed N             noise seed, 0..4294967295 (default 0); the same seed gives the same image
  --width W --height H output size, multiples of 64 (default 512, or the init image's size)
  --controlnet PATH[:TYPE[:SCALE]]
                       a ControlNet (.safetensors or diffusers folder), used with --control;
                       repeatable: several ControlNets' residuals are summed (diffusers'
                       MultiControlNet). TYPE says how --control is preprocessed for it:
                       canny (edges, --canny), hed or softedge (HED soft edges), depth (Depth
                       Anything), raw (the picture already is the control map), lineart or
                       scribble (no preprocessor: the picture is used as the map); default: the
                       type its file or folder name says (control_v11p_sd15_canny → canny), else
                       canny. SCALE: its conditioning scale (default --control-scale, else 1)
  --control IMAGE      the picture each ControlNet preprocesses (PNG); give it once for all, or
                       once per --controlnet, in the same order
  --canny LOW,HIGH     Canny thresholds of the canny ControlNets (default 100,200)
  --control-scale S    conditioning scale of ControlNets whose --controlnet gives none (default 1)
  --lora PATH:WEIGHT   a LoRA merged at WEIGHT (default 1); repeatable
  --vae PATH           a VAE replacing the model's
  --provider P         auto|cuda|webgpu|cpu (default auto: cuda, then webgpu, then cpu)
  --precision P        auto|fp16|fp32 (default auto: fp16 where the GPU supports it, else fp32)
  --cache DIR          compiled-graph cache (default $RERENDER_CACHE or ~/.cache/rerender/onnx)
  --models DIR         models folder (default $RERENDER_MODELS_DIR or ~/.rerender-studio/models)
  --models-from DIR    also look for models in DIR (A1111/Forge, ComfyUI, a huggingface_hub cache),
                       used in place; repeatable (RERENDER_MODEL_ROOTS adds more)
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

const DEFAULT_CANNY = { low: 100, high: 200 };
const MAX_CONTROL_SCALE = 10;
const isControlType = (v: string | undefined): v is ControlType => CONTROL_TYPES.includes(v as ControlType);

function controlScaleOf(text: string, flag: string): number {
  const v = Number(text);
  if (!/^\s*\d*\.?\d+\s*$/.test(text) || !Number.isFinite(v) || v > MAX_CONTROL_SCALE) {
    throw new UsageError(`${flag}: SCALE must be a number in [0, ${MAX_CONTROL_SCALE}], got '${text}'`);
  }
  return v;
}

/**
 * `--controlnet PATH[:TYPE[:SCALE]]`. A value naming an existing file or folder is a path as a
 * whole (paths may hold ':'), else TYPE and SCALE are read from the right.
 */
export function controlnetOption(value: string, cwd: string): { path: string; type?: ControlType; scale?: number } {
  const flag = `--controlnet ${value}`;
  if (existsSync(path.resolve(cwd, value))) return { path: value };
  const parts = value.split(':');
  const typeError = (t: string): UsageError => new UsageError(`${flag}: TYPE must be one of ${CONTROL_TYPES.join(', ')}, got '${t}' (the form is PATH[:TYPE[:SCALE]])`);
  const last = parts[parts.length - 1]!;
  const before = parts[parts.length - 2];
  if (parts.length >= 3 && (isControlType(before) || /^\s*[\d.]+\s*$/.test(last) && /^[a-z_]+$/i.test(before!))) {
    if (!isControlType(before)) throw typeError(before!);
    return { path: parts.slice(0, -2).join(':'), type: before, scale: controlScaleOf(last, flag) };
  }
  if (parts.length >= 2 && /^[a-z_]+$/i.test(last)) {
    if (!isControlType(last)) throw typeError(last);
    return { path: parts.slice(0, -1).join(':'), type: last };
  }
  if (parts.length >= 2 && /^\s*-?[\d.]+\s*$/.test(last)) throw new UsageError(`${flag}: a SCALE needs its TYPE before it: PATH:TYPE:SCALE`);
  return { path: value };
}

/** The control type a ControlNet's file or folder name says (lineart_anime is lineart), else canny. */
function namedControlType(file: string): ControlType {
  const said = controlTypeOf(path.basename(file)) ?? (/\.(safetensors|ckpt|pth|pt|bin)$/i.test(file) ? controlTypeOf(path.basename(path.dirname(file))) : null);
  if (said === null) return 'canny';
  const t = said === 'lineart_anime' ? 'lineart' : said;
  if (isControlType(t)) return t;
  throw new UsageError(`--controlnet ${file}: its name says a ${said} ControlNet, which has no preprocessor here; give its TYPE, e.g. ${file}:raw with a ready ${said} map as --control`);
}

/** The control picture for one ControlNet at the output size, made by its type's preprocessor. */
async function controlPicture(rgb: Uint8Array, width: number, height: number, type: ControlType, canny: { low: number; high: number }, annotator: (kind: 'hed' | 'depth') => Promise<Preprocessor>, signal: AbortSignal): Promise<Uint8Array> {
  const image: RgbImage = { data: rgb, width, height, channels: 3 };
  switch (type) {
    case 'canny': return (await loadCanny()(image, canny, signal)).data;
    case 'hed':
    case 'softedge': return (await (await annotator('hed')).run(image, signal)).data;
    case 'depth': return (await (await annotator('depth')).run(image, signal)).data;
    case 'raw':
    case 'lineart':
    case 'scribble': return rgb;
  }
}

/** --model, else the first checkpoint found in the models folder, the extra roots, the HF cache. */
function findModel(ctx: CliContext, flag: string | undefined, modelsFlag: string | undefined, from: readonly string[]): string {
  if (flag !== undefined) return path.resolve(ctx.cwd, flag);
  const warn = (m: string) => ctx.out.warn(m);
  const models = resolveModelsDir(ctx.env, { flag: modelsFlag, cwd: ctx.cwd, warn });
  const found = pickCheckpoint(findModels(modelRoots(ctx.env, models, from.map((d) => path.resolve(ctx.cwd, d)), warn)));
  if (found) return found.path;
  throw new PipelineError('MODEL_MISSING', [
    'no Stable Diffusion model found.',
    `  - pass one with --model PATH (a SD 1.5 .safetensors checkpoint or a diffusers folder), or`,
    `  - put one in the models folder: rerender models import FILE (it goes to ${path.join(models, 'checkpoints')}), or`,
    '  - point at the folders you already have: --models-from DIR (A1111/Forge, ComfyUI, a huggingface_hub cache), or',
    '  - when online, rerender models download fetches SD 1.5 and the canny ControlNet from Hugging Face:',
    '      https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5 (v1-5-pruned-emaonly.safetensors)',
    '      https://huggingface.co/lllyasviel/control_v11p_sd15_canny (diffusion_pytorch_model.safetensors + config.json)',
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
  const controlnetFlags = values.controlnet ?? [];
  const controlFlags = values.control ?? [];
  if ((controlnetFlags.length === 0) !== (controlFlags.length === 0)) throw new UsageError('--controlnet and --control go together');
  if (controlFlags.length > 1 && controlFlags.length !== controlnetFlags.length) {
    throw new UsageError(`--control is given ${controlFlags.length} times for ${controlnetFlags.length} --controlnet: give it once (for all) or once per --controlnet`);
  }
  if (values.canny !== undefined && controlFlags.length === 0) throw new UsageError('--canny needs --control IMAGE');
  const provider = (values.provider ?? 'auto') as ProviderSetting;
  if (!PROVIDERS.includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
  const precision = precisionOption(values.precision) ?? 'auto';
  const steps = intOption(values.steps, 'steps', 1) ?? 20;
  if (steps > 1000) throw new UsageError('--steps must be at most 1000');
  const guidance = floatOption(values.guidance, 'guidance', 0, 100) ?? 7.5;
  const seed = intOption(values.seed, 'seed', 0) ?? 0;
  if (seed > 0xffffffff) throw new UsageError('--seed must be at most 4294967295');
  const strength = floatOption(values.strength, 'strength', 0.01, 1) ?? 0.75;
  const controlScale = floatOption(values['control-scale'], 'control-scale', 0, MAX_CONTROL_SCALE) ?? 1;
  const canny = cannyOption(values.canny);
  const controlnets: Required<Pick<ControlNetSpec, 'path' | 'type' | 'scale'>>[] = controlnetFlags.map((v) => {
    const c = controlnetOption(v, ctx.cwd);
    return { path: path.resolve(ctx.cwd, c.path), type: c.type ?? namedControlType(c.path), scale: c.scale ?? controlScale };
  });
  if (canny && !controlnets.some((c) => c.type === 'canny')) throw new UsageError('--canny sets the thresholds of canny ControlNets, and none is one');
  const loras = (values.lora ?? []).map(loraOption);
  const output = path.resolve(ctx.cwd, values.output);

  const init = img2img ? readRgb(ctx, values.image!, 'init image') : null;
  const width = intOption(values.width, 'width', 64) ?? (init ? roundDown64(init.width) : 512);
  const height = intOption(values.height, 'height', 64) ?? (init ? roundDown64(init.height) : 512);
  if (width % 64 || height % 64) throw new UsageError(`--width and --height must be multiples of 64, got ${width}×${height}`);

  const options: PipelineOptions = {
    model: findModel(ctx, values.model, values.models, values['models-from'] ?? []),
    cacheDir: path.resolve(ctx.cwd, values.cache ?? ctx.env['RERENDER_CACHE'] ?? path.join(ctx.env['HOME'] ?? homedir(), '.cache', 'rerender', 'onnx')),
    provider,
    precision,
    loras: loras.map((l) => ({ ...l, path: path.resolve(ctx.cwd, l.path) })),
    onWarning: (m) => ctx.out.warn(m),
    signal: ctx.signal,
    ...(values.config !== undefined ? { configFrom: path.resolve(ctx.cwd, values.config) } : {}),
    ...(values.vae !== undefined ? { vae: path.resolve(ctx.cwd, values.vae) } : {}),
    ...(controlnets.length > 0 ? { controlnet: controlnets } : {}),
  };
  const control = controlnets.length > 0 ? await controlInputs(ctx, controlnets, controlFlags, width, height, canny ?? DEFAULT_CANNY, { provider, modelsFlag: values.models, cacheDir: options.cacheDir }) : null;

  const sd = await StableDiffusionPipeline.load(options);
  try {
    const withControl = controlnets.length === 1 ? ' with ControlNet' : controlnets.length > 1 ? ` with ${controlnets.length} ControlNets (${controlnets.map((c) => `${c.type} ${c.scale}`).join(', ')})` : '';
    ctx.out.info(`${path.basename(options.model)}${withControl} on ${sd.deviceLine}`);
    const result = await sd.generate({
      prompt: values.prompt, negative: values.negative ?? '', width, height, steps, guidance, seed, control,
      init: init ? { image: imageFromRgb8(resizeRgb8(init.rgb, init.width, init.height, width, height), width, height), strength } : null,
      signal: ctx.signal,
      onProgress: (p) => ctx.out.progress(p),
    });
    writePngAtomically(output, imageToRgb8(result.image), width, height);
    ctx.out.result(
      { output, width, height, seed, steps: result.timesteps.length, provider: sd.provider, floatType: sd.floatType, ...(controlnets.length > 0 ? { controlnets } : {}) },
      `wrote ${output} (${width}×${height}, seed ${seed}, ${result.timesteps.length} steps on ${sd.provider}, ${sd.floatType})`,
    );
  } finally {
    await sd.close();
  }
}

/**
 * One ControlInput per ControlNet: its picture (the one --control, or its own) resized to the
 * output and preprocessed by its type; HED and depth run in a host of their own, closed after.
 */
async function controlInputs(
  ctx: CliContext, controlnets: readonly { path: string; type: ControlType; scale: number }[], pictures: readonly string[], width: number, height: number,
  canny: { low: number; high: number }, at: { provider: ProviderSetting; modelsFlag: string | undefined; cacheDir: string },
): Promise<ControlInput[]> {
  const resized = new Map<string, Uint8Array>();
  const made = new Map<string, Uint8Array>();
  const annotators = new Map<string, Promise<Preprocessor>>();
  let host: InferenceHost | null = null;
  const annotator = (kind: 'hed' | 'depth'): Promise<Preprocessor> => {
    let p = annotators.get(kind);
    if (!p) {
      host ??= new InferenceHost({ provider: at.provider });
      const modelsDir = resolveModelsDir(ctx.env, { flag: at.modelsFlag, cwd: ctx.cwd });
      p = annotatorPreprocessor(kind, modelsDir, host, { cacheDir: at.cacheDir, signal: ctx.signal });
      annotators.set(kind, p);
    }
    return p;
  };
  try {
    const inputs: ControlInput[] = [];
    for (const [i, cn] of controlnets.entries()) {
      const file = pictures[pictures.length === 1 ? 0 : i]!;
      if (cn.type === 'lineart' || cn.type === 'scribble') {
        ctx.out.warn(`no ${cn.type} preprocessor is built in: ${file} is used as the control map of ${path.basename(cn.path)} as it is (white lines on black, as ControlNet 1.1 expects)`);
      }
      let rgb = resized.get(file);
      if (!rgb) {
        const c = readRgb(ctx, file, 'control image');
        rgb = resizeRgb8(c.rgb, c.width, c.height, width, height);
        resized.set(file, rgb);
      }
      const key = `${file}\0${cn.type === 'softedge' ? 'hed' : cn.type}`;
      let map = made.get(key);
      if (!map) {
        map = await controlPicture(rgb, width, height, cn.type, canny, annotator, ctx.signal);
        made.set(key, map);
      }
      inputs.push({ image: controlFromRgb8(map, width, height), scale: cn.scale });
    }
    return inputs;
  } finally {
    await (host as InferenceHost | null)?.close();
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
