// The models the app suggests out of the box (an SD 1.5 checkpoint and a canny ControlNet), and
// getting them: from an existing huggingface_hub cache when one has them, else downloaded from
// the hub with resume and progress. The hub address follows huggingface_hub's HF_ENDPOINT.
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { KIND_FOLDERS, downloadFile, findHuggingFaceSnapshot, type ModelKind } from './models-folder.ts';

export interface HubModel {
  kind: ModelKind;
  repo: string;
  /** Files of the repo to fetch; more than one makes a diffusers-style folder named `name`. */
  files: string[];
  name: string;
}

export const DEFAULT_MODELS: readonly HubModel[] = [
  { kind: 'checkpoint', repo: 'stable-diffusion-v1-5/stable-diffusion-v1-5', files: ['v1-5-pruned-emaonly.safetensors'], name: 'v1-5-pruned-emaonly.safetensors' },
  { kind: 'controlnet', repo: 'lllyasviel/control_v11p_sd15_canny', files: ['config.json', 'diffusion_pytorch_model.safetensors'], name: 'control_v11p_sd15_canny' },
];

export interface HubEnv {
  HF_ENDPOINT?: string;
  HF_HUB_CACHE?: string;
  HF_HOME?: string;
}

export function hubEndpoint(env: HubEnv): string {
  return (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
}

/** Where huggingface_hub keeps its cache on this machine (its own rules). */
export function hubCacheDir(env: HubEnv): string {
  return env.HF_HUB_CACHE ?? nodePath.join(env.HF_HOME ?? nodePath.join(os.homedir(), '.cache', 'huggingface'), 'hub');
}

export interface FetchProgress {
  model: string;
  file: string;
  done: number;
  total: number | null;
}

export interface FetchResult {
  path: string;
  /** 'present': already in the models folder; 'hub-cache': copied from huggingface_hub's cache. */
  source: 'present' | 'hub-cache' | 'downloaded';
}

/** Puts `model` into the models folder (whole or not at all) and returns where it is. */
export async function fetchHubModel(
  model: HubModel,
  modelsDir: string,
  env: HubEnv,
  opts: { signal?: AbortSignal; onProgress?: (p: FetchProgress) => void } = {},
): Promise<FetchResult> {
  const dest = nodePath.join(modelsDir, KIND_FOLDERS[model.kind], model.name);
  if (fs.existsSync(dest)) return { path: dest, source: 'present' };
  const folder = model.files.length > 1;
  const staging = `${dest}.fetching`;
  const target = (file: string) => (folder ? nodePath.join(staging, file) : staging);
  fs.mkdirSync(folder ? staging : nodePath.dirname(dest), { recursive: true });

  const snapshot = findHuggingFaceSnapshot(hubCacheDir(env), model.repo);
  const cached = snapshot !== null && model.files.every((f) => fs.existsSync(nodePath.join(snapshot, f)));
  for (const file of model.files) {
    if (fs.existsSync(target(file))) continue; // finished by an earlier, interrupted fetch
    if (cached) fs.copyFileSync(nodePath.join(snapshot, file), target(file));
    else {
      const url = `${hubEndpoint(env)}/${model.repo}/resolve/main/${file}`;
      await downloadFile(url, target(file), {
        signal: opts.signal,
        onProgress: (done, total) => opts.onProgress?.({ model: model.name, file, done, total }),
      });
    }
  }
  fs.renameSync(staging, dest);
  return { path: dest, source: cached ? 'hub-cache' : 'downloaded' };
}

/** The per-user models folder: RERENDER_MODELS_DIR, else ~/.rerender-studio/models. */
export function defaultModelsDir(env: { RERENDER_MODELS_DIR?: string }): string {
  return env.RERENDER_MODELS_DIR ?? nodePath.join(os.homedir(), '.rerender-studio', 'models');
}
