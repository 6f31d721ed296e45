// The models key-frame translation needs (an SD 1.5 checkpoint, a Canny ControlNet, optional
// LoRAs), taken from the project's settings and checked cheaply (the files exist and are
// safetensors or diffusers folders of the right kind) before anything heavy runs. When something
// is missing the error says exactly what and how to get it.
import fs from 'node:fs';
import path from 'node:path';
import type { LoraSpec } from '../engine/pipeline/index.ts';
import { classifyModel, type ModelKind } from '../engine/weights/models-folder.ts';
import { sniffWeightsFormat } from '../engine/weights/tensor-file.ts';
import { findModels, modelRoots, pickCheckpoint, pickControlNet, resolveModelsDir, type FoundModel, type ModelsEnv } from '../engine/weights/model-roots.ts';
import type { SettingsPatch } from '../project/index.ts';
import type { ProjectSettings } from '../project/index.ts';
import { CodedError } from '../errors.ts';

export interface TranslationModels {
  model: string;
  controlnet: string;
  /** The 2nd, 3rd… ControlNets (settings.extraControlnets), in order. */
  extraControlnets: ProjectSettings['extraControlnets'];
  loras: LoraSpec[];
}

type ModelChoice = Pick<ProjectSettings, 'model' | 'controlnetModel' | 'loras'> & Partial<Pick<ProjectSettings, 'controlnet' | 'extraControlnets'>>;

const KIND_LABEL: Readonly<Record<ProjectSettings['controlnet']['kind'], string>> = { canny: 'Canny', hed: 'HED', softedge: 'soft-edge', depth: 'depth', raw: 'raw-image' };

export class ModelError extends CodedError<'MODEL_MISSING'> {
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[]) {
    super('MODEL_MISSING', message);
    this.problems = problems;
  }
}

/** How the message tells the user to set the paths (the CLI command or the editor). */
export const DEFAULT_HOW_TO_SET = '`rerender translate <project> --model PATH --controlnet PATH` (saved in the project), or in the editor\'s model settings';

/** What is wrong with one model path, or null when it looks usable. */
function problemWith(p: string | null, kind: ModelKind, label: string, setting: string): string | null {
  if (p === null) return `${label}: not set (settings.${setting})`;
  if (!fs.existsSync(p)) return `${label}: ${p} does not exist`;
  const isDir = fs.statSync(p).isDirectory();
  if (!isDir && sniffWeightsFormat(p) === null) return `${label}: ${p} is not a weights file (.safetensors or a torch.save checkpoint) or a diffusers folder`;
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
      if (!fs.existsSync(d) || !fs.readdirSync(d).some((n) => n.endsWith('.safetensors') || n.endsWith('.bin'))) {
        return `${label}: ${d} holds no weights (.safetensors or .bin)`;
      }
    }
  }
  return null;
}

/** Everything wrong with the project's model choice; empty when translation can load it. */
export function modelProblems(settings: ModelChoice): string[] {
  const out: string[] = [];
  const m = problemWith(settings.model, 'checkpoint', 'Stable Diffusion 1.5 model', 'model');
  if (m) out.push(m);
  const c = problemWith(settings.controlnetModel, 'controlnet', `${KIND_LABEL[settings.controlnet?.kind ?? 'canny']} ControlNet`, 'controlnetModel');
  if (c) out.push(c);
  for (const [i, e] of (settings.extraControlnets ?? []).entries()) {
    const x = problemWith(e.path, 'controlnet', `ControlNet ${i + 2} (${KIND_LABEL[e.kind]})`, `extraControlnets[${i}].path`);
    if (x) out.push(x);
  }
  for (const l of settings.loras) {
    if (!fs.existsSync(l.path)) out.push(`LoRA: ${l.path} does not exist`);
    else if (fs.statSync(l.path).isDirectory() || sniffWeightsFormat(l.path) === null) out.push(`LoRA: ${l.path} is not a weights file (.safetensors or a torch.save checkpoint)`);
  }
  return out;
}

/** The full message for `problems`: what is missing, how to set it, where to get it. */
export function modelMessage(problems: readonly string[], howToSet: string = DEFAULT_HOW_TO_SET): string {
  return [
    'Key-frame translation needs a Stable Diffusion 1.5 model and a Canny ControlNet:',
    ...problems.map((p) => `  - ${p}`),
    `Set their paths with ${howToSet}.`,
    'Each is a local .safetensors or PyTorch (.ckpt, .pth, .pt, .bin) file, or a diffusers folder. `rerender translate`/`run` on a project with none set',
    'use the first that `rerender models list` shows: the models folder (RERENDER_MODELS_DIR, else ~/.rerender-studio/models;',
    '`rerender models import FILE` puts one there), then your A1111/Forge, ComfyUI or huggingface_hub folders',
    'given with --models-from DIR or RERENDER_MODEL_ROOTS, used where they are. When online, `rerender models download`',
    'fetches both (checked against the hub\'s sha256, or used from a huggingface_hub cache); they come from Hugging Face:',
    '  SD 1.5: https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5 (v1-5-pruned-emaonly.safetensors)',
    '  Canny ControlNet: https://huggingface.co/lllyasviel/control_v11p_sd15_canny (diffusion_pytorch_model.safetensors and config.json in one folder)',
    'PyTorch checkpoints are read without running anything in them: only plain weight tensors are accepted.',
  ].join('\n');
}

/** The models to load, or ModelError (MODEL_MISSING) saying what is missing. */
export function resolveTranslationModels(settings: ModelChoice, howToSet?: string): TranslationModels {
  const problems = modelProblems(settings);
  if (problems.length > 0) throw new ModelError(modelMessage(problems, howToSet), problems);
  return {
    model: settings.model!, controlnet: settings.controlnetModel!, extraControlnets: [...(settings.extraControlnets ?? [])],
    loras: settings.loras.map((l) => ({ path: l.path, weight: l.weight })),
  };
}

export interface FoundForProject {
  /** The settings to save: the checkpoint and ControlNet found for the ones not set. */
  patch: SettingsPatch;
  /** What was picked, for the message saying so. */
  picked: FoundModel[];
}

/**
 * For a project with no model or no ControlNet set: the first checkpoint, and the first ControlNet
 * of the wanted control type (canny; HED or soft edge for an HED config), that `models list` would
 * show: the one models folder, then `modelsFrom`, RERENDER_MODEL_ROOTS and the huggingface_hub cache.
 */
export function findProjectModels(
  env: ModelsEnv,
  current: { model: string | null; controlnetModel: string | null },
  opts: { needModel?: boolean; needControl?: boolean; modelsFrom?: readonly string[]; cwd?: string; hed?: boolean; warn?: (message: string) => void } = {},
): FoundForProject {
  const needModel = (opts.needModel ?? true) && current.model === null;
  const needControl = (opts.needControl ?? true) && current.controlnetModel === null;
  if (!needModel && !needControl) return { patch: {}, picked: [] };
  const warn = opts.warn ?? (() => {});
  const dir = resolveModelsDir(env, { ...(opts.cwd ? { cwd: opts.cwd } : {}), warn });
  const found = findModels(modelRoots(env, dir, opts.modelsFrom ?? [], warn));
  const model = needModel ? pickCheckpoint(found) : undefined;
  const control = needControl ? pickControlNet(found, opts.hed ? ['hed', 'softedge'] : ['canny']) : undefined;
  const patch: SettingsPatch = {};
  if (model) patch.model = model.path;
  if (control) patch.controlnetModel = control.path;
  return { patch, picked: [model, control].filter((m): m is FoundModel => m !== undefined) };
}
