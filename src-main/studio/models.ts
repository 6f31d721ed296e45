// The models key-frame translation needs (an SD 1.5 checkpoint, a Canny ControlNet, optional
// LoRAs), taken from the project's settings and checked cheaply (the files exist and are
// safetensors or diffusers folders of the right kind) before anything heavy runs. When something
// is missing the error says exactly what and how to get it.
import fs from 'node:fs';
import path from 'node:path';
import type { LoraSpec } from '../engine/pipeline/index.ts';
import { classifyModel, type ModelKind } from '../engine/weights/models-folder.ts';
import type { ProjectSettings } from '../project/index.ts';
import { CodedError } from '../errors.ts';

export interface TranslationModels {
  model: string;
  controlnet: string;
  loras: LoraSpec[];
}

export class ModelError extends CodedError<'MODEL_MISSING'> {
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[]) {
    super('MODEL_MISSING', message);
    this.problems = problems;
  }
}

const PICKLES = new Set(['.ckpt', '.pt', '.pth', '.bin', '.pkl']);

/** How the message tells the user to set the paths (the CLI command or the editor). */
export const DEFAULT_HOW_TO_SET = '`rerender translate <project> --model PATH --controlnet PATH` (saved in the project), or in the editor\'s model settings';

/** What is wrong with one model path, or null when it looks usable. */
function problemWith(p: string | null, kind: ModelKind, label: string, setting: string): string | null {
  if (p === null) return `${label}: not set (settings.${setting})`;
  if (!fs.existsSync(p)) return `${label}: ${p} does not exist`;
  const ext = path.extname(p).toLowerCase();
  if (PICKLES.has(ext)) return `${label}: ${p} is a PyTorch pickle (${ext}), refused because loading it could run code; convert it to .safetensors`;
  const isDir = fs.statSync(p).isDirectory();
  if (!isDir && ext !== '.safetensors') return `${label}: ${p} is not a .safetensors file or a diffusers folder`;
  let found: ModelKind | null;
  try {
    found = classifyModel(p);
  } catch (e) {
    return `${label}: ${p} could not be read (${e instanceof Error ? e.message : String(e)})`;
  }
  if (found !== kind) return `${label}: ${p} holds ${found === null ? 'no recognised model' : `a ${found}`}, not a ${kind === 'checkpoint' ? 'Stable Diffusion 1.5 checkpoint' : 'ControlNet'}`;
  if (isDir) {
    const weights = kind === 'checkpoint' ? ['unet', 'vae', 'text_encoder'].map((c) => path.join(p, c)) : [p];
    for (const d of weights) {
      if (!fs.existsSync(d) || !fs.readdirSync(d).some((n) => n.endsWith('.safetensors'))) {
        return `${label}: ${d} holds no .safetensors weights (pickled .bin weights are refused; convert them to .safetensors)`;
      }
    }
  }
  return null;
}

/** Everything wrong with the project's model choice; empty when translation can load it. */
export function modelProblems(settings: Pick<ProjectSettings, 'model' | 'controlnetModel' | 'loras'>): string[] {
  const out: string[] = [];
  const m = problemWith(settings.model, 'checkpoint', 'Stable Diffusion 1.5 model', 'model');
  if (m) out.push(m);
  const c = problemWith(settings.controlnetModel, 'controlnet', 'Canny ControlNet', 'controlnetModel');
  if (c) out.push(c);
  for (const l of settings.loras) {
    if (!fs.existsSync(l.path)) out.push(`LoRA: ${l.path} does not exist`);
    else if (path.extname(l.path).toLowerCase() !== '.safetensors') out.push(`LoRA: ${l.path} is not a .safetensors file (pickles are refused)`);
  }
  return out;
}

/** The full message for `problems`: what is missing, how to set it, where to get it. */
export function modelMessage(problems: readonly string[], howToSet: string = DEFAULT_HOW_TO_SET): string {
  return [
    'Key-frame translation needs a Stable Diffusion 1.5 model and a Canny ControlNet:',
    ...problems.map((p) => `  - ${p}`),
    `Set their paths with ${howToSet}.`,
    'Each is a local .safetensors file or a diffusers folder. When online, `rerender models download` fetches both',
    '(or copies them from a huggingface_hub cache) and prints their paths; they come from Hugging Face:',
    '  SD 1.5: https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5 (v1-5-pruned-emaonly.safetensors)',
    '  Canny ControlNet: https://huggingface.co/lllyasviel/control_v11p_sd15_canny (diffusion_pytorch_model.safetensors and config.json in one folder)',
    'PyTorch pickles (.ckpt, .pt, .bin) are refused: convert them to .safetensors first.',
  ].join('\n');
}

/** The models to load, or ModelError (MODEL_MISSING) saying what is missing. */
export function resolveTranslationModels(settings: Pick<ProjectSettings, 'model' | 'controlnetModel' | 'loras'>, howToSet?: string): TranslationModels {
  const problems = modelProblems(settings);
  if (problems.length > 0) throw new ModelError(modelMessage(problems, howToSet), problems);
  return { model: settings.model!, controlnet: settings.controlnetModel!, loras: settings.loras.map((l) => ({ path: l.path, weight: l.weight })) };
}
