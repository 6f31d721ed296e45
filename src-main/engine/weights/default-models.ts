// The models the app suggests out of the box (an SD 1.5 checkpoint and a canny ControlNet), and
// getting them: from an existing huggingface_hub cache when one has them (used in place), else
// downloaded from the hub with resume, progress and a check of each file against the hash the hub
// publishes. The hub address follows huggingface_hub's HF_ENDPOINT.
import fs from 'node:fs';
import nodePath from 'node:path';
import { KIND_FOLDERS, downloadFile, findHuggingFaceSnapshot, type ModelKind } from './models-folder.ts';
import { hubCacheDir, resolveModelsDir, type ModelsEnv } from './model-roots.ts';
import { cacheBlobHash, fileHash, publishedHashes, verifyDownload } from './hub-verify.ts';
import { makeFoldersSync } from '../../folders.ts';

export interface HubModel {
  /** 'annotator': a control preprocessor's network, kept in `<models>/annotators/`. */
  kind: ModelKind | 'annotator';
  repo: string;
  /** Files of the repo to fetch; more than one makes a diffusers-style folder named `name`. */
  files: string[];
  name: string;
}

export const DEFAULT_MODELS: readonly HubModel[] = [
  { kind: 'checkpoint', repo: 'stable-diffusion-v1-5/stable-diffusion-v1-5', files: ['v1-5-pruned-emaonly.safetensors'], name: 'v1-5-pruned-emaonly.safetensors' },
  { kind: 'controlnet', repo: 'lllyasviel/control_v11p_sd15_canny', files: ['config.json', 'diffusion_pytorch_model.safetensors'], name: 'control_v11p_sd15_canny' },
];

/**
 * The networks of the built-in HED and depth preprocessors, in their original files: compiled by
 * our graph compiler (src-main/engine/control/builtin.ts), never run as they are.
 */
export const ANNOTATOR_MODELS: readonly HubModel[] = [
  { kind: 'annotator', repo: 'lllyasviel/Annotators', files: ['ControlNetHED.pth'], name: 'ControlNetHED.pth' },
  { kind: 'annotator', repo: 'depth-anything/Depth-Anything-V2-Small-hf', files: ['model.safetensors'], name: 'depth_anything_v2_vits.safetensors' },
];

/** The folder of `model` inside the models folder. */
export function hubModelFolder(model: HubModel): string {
  return model.kind === 'annotator' ? 'annotators' : KIND_FOLDERS[model.kind];
}

export interface HubEnv extends ModelsEnv {
  HF_ENDPOINT?: string | undefined;
}

export function hubEndpoint(env: HubEnv): string {
  return (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
}

export { hubCacheDir };

export interface FetchProgress {
  model: string;
  file: string;
  done: number;
  total: number | null;
}

export interface FetchResult {
  path: string;
  /**
   * 'present': already in the models folder; 'hub-cache': found in huggingface_hub's cache and used
   * where it is (never copied); 'downloaded': fetched from the hub into the models folder.
   */
  source: 'present' | 'hub-cache' | 'downloaded';
  /** Every file was checked against the hash the hub publishes (or its cache blob's name). */
  verified: boolean;
}

/** The cached snapshot's copy of `model` when every file is there and none is damaged; else null. */
async function fromHubCache(model: HubModel, env: HubEnv, warn: (m: string) => void, signal?: AbortSignal): Promise<FetchResult | null> {
  const snapshot = findHuggingFaceSnapshot(hubCacheDir(env), model.repo);
  if (snapshot === null || !model.files.every((f) => fs.existsSync(nodePath.join(snapshot, f)))) return null;
  let verified = true;
  for (const f of model.files) {
    const file = nodePath.join(snapshot, f);
    const want = cacheBlobHash(file);
    if (want === null) {
      verified = false;
      warn(`${file} is not a huggingface_hub blob link, so its hash cannot be checked; used as it is`);
      continue;
    }
    const got = await fileHash(file, want.algo, signal);
    if (got !== want.hex) {
      // The artist's cache is theirs: reported, left alone, and the model downloaded instead.
      warn(`${file} in the huggingface_hub cache is damaged (its contents do not match its blob name ${want.hex.slice(0, 12)}…); downloading ${model.repo} instead`);
      return null;
    }
  }
  return { path: model.files.length > 1 ? snapshot : nodePath.join(snapshot, model.files[0]!), source: 'hub-cache', verified };
}

/**
 * Makes `model` available: already in the models folder, or in a huggingface_hub cache (used in
 * place), else downloaded into the models folder (whole or not at all), resuming an interrupted
 * download, each file checked against the hash the hub publishes for it (a mismatch deletes it and
 * throws ChecksumError).
 */
export async function fetchHubModel(
  model: HubModel,
  modelsDir: string,
  env: HubEnv,
  opts: { signal?: AbortSignal; onProgress?: (p: FetchProgress) => void; onWarning?: (message: string) => void } = {},
): Promise<FetchResult> {
  const warn = opts.onWarning ?? (() => {});
  const dest = nodePath.join(modelsDir, hubModelFolder(model), model.name);
  if (fs.existsSync(dest)) return { path: dest, source: 'present', verified: true };
  const cached = await fromHubCache(model, env, warn, opts.signal);
  if (cached) return cached;

  const folder = model.files.length > 1;
  const staging = `${dest}.fetching`;
  const target = (file: string) => (folder ? nodePath.join(staging, file) : staging);
  makeFoldersSync(folder ? staging : nodePath.dirname(dest));
  const hashes = await publishedHashes(hubEndpoint(env), model.repo, model.files, opts.signal);
  let verified = true;
  for (const file of model.files) {
    const url = `${hubEndpoint(env)}/${model.repo}/resolve/main/${file}`;
    // A file finished by an earlier, interrupted fetch is checked like a new one.
    if (!fs.existsSync(target(file))) {
      await downloadFile(url, target(file), {
        ...(opts.signal ? { signal: opts.signal } : {}),
        onProgress: (done, total) => opts.onProgress?.({ model: model.name, file, done, total }),
      });
    }
    const want = hashes.get(file) ?? null;
    if (want === null) {
      verified = false;
      warn(`${model.repo}/${file}: the hub publishes no hash for it, so the download cannot be checked`);
    } else await verifyDownload(target(file), url, want, opts.signal);
  }
  fs.renameSync(staging, dest);
  return { path: dest, source: 'downloaded', verified };
}

/** The one models folder (see resolveModelsDir): RERENDER_MODELS_DIR, else ~/.rerender-studio/models. */
export function defaultModelsDir(env: ModelsEnv, warn?: (message: string) => void): string {
  return resolveModelsDir(env, warn ? { warn } : {});
}
