// The local models folder (checkpoints, ControlNets, LoRAs, VAEs), reuse of an existing
// huggingface_hub cache, and a resumable downloader. Paths are always passed in.
import fs from 'node:fs';
import nodePath from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { readWeightsIndex, sniffWeightsFormat } from './tensor-file.ts';
import { assertNotPickle, detectKind, isDiffusersFolder } from './checkpoint.ts';
import { CodedError } from '../../errors.ts';
import { makeFoldersSync } from '../../folders.ts';

export type ModelKind = 'checkpoint' | 'controlnet' | 'lora' | 'vae';

export const KIND_FOLDERS: Readonly<Record<ModelKind, string>> = {
  checkpoint: 'checkpoints',
  controlnet: 'controlnet',
  lora: 'lora',
  vae: 'vae',
};

export interface ModelEntry {
  readonly kind: ModelKind;
  /** File or folder name. */
  readonly name: string;
  readonly path: string;
  readonly format: 'single-file' | 'diffusers';
  readonly sizeBytes: number;
}

/** A model file the folder cannot take (unrecognised, missing, already there): bad input. */
export class ModelsFolderError extends CodedError<'BAD_MODEL'> {
  constructor(message: string) {
    super('BAD_MODEL', message);
  }
}

/** What a weights file (safetensors or torch.save) or diffusers folder holds, from its key names; null when unknown. */
export function classifyModel(path: string): ModelKind | null {
  const stat = fs.statSync(path);
  if (stat.isDirectory()) {
    if (isDiffusersFolder(path)) return 'checkpoint';
    const cfg = nodePath.join(path, 'config.json');
    if (!fs.existsSync(cfg)) return null;
    const cls = (JSON.parse(fs.readFileSync(cfg, 'utf8')) as { _class_name?: string })._class_name;
    if (cls === 'ControlNetModel') return 'controlnet';
    if (cls === 'AutoencoderKL') return 'vae';
    return null;
  }
  // The format comes from the bytes, never the extension (a renamed file is still what it is).
  if (sniffWeightsFormat(path) === null) return null;
  switch (detectKind(readWeightsIndex(path).tensors.keys())) {
    case 'sd-checkpoint':
      return 'checkpoint';
    case 'controlnet-ldm':
    case 'controlnet-diffusers':
      return 'controlnet';
    case 'vae-ldm':
    case 'vae-diffusers':
      return 'vae';
    case 'lora':
      return 'lora';
    default:
      return null;
  }
}

function sizeOf(path: string): number {
  const st = fs.statSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of fs.readdirSync(path, { withFileTypes: true })) total += sizeOf(nodePath.join(path, e.name));
  return total;
}

/** File names a weights file may have: safetensors and what torch.save writes. */
const WEIGHT_FILE = /\.(safetensors|ckpt|pt|pth|bin)$/i;

/** Lists the models in `<modelsDir>/{checkpoints,controlnet,lora,vae}`; unreadable entries are skipped. */
export function listModels(modelsDir: string): ModelEntry[] {
  const out: ModelEntry[] = [];
  for (const [kind, folder] of Object.entries(KIND_FOLDERS) as [ModelKind, string][]) {
    const dir = nodePath.join(modelsDir, folder);
    if (!fs.existsSync(dir)) continue;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const path = nodePath.join(dir, e.name);
      const isFile = e.isFile() && WEIGHT_FILE.test(e.name);
      if (!isFile && !e.isDirectory()) continue;
      if (e.isDirectory() && !fs.existsSync(nodePath.join(path, 'model_index.json')) && !fs.existsSync(nodePath.join(path, 'config.json'))) continue;
      out.push({ kind, name: e.name, path, format: isFile ? 'single-file' : 'diffusers', sizeBytes: sizeOf(path) });
    }
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/**
 * Copies a model file or diffusers folder into the models folder under its kind's subfolder.
 * PyTorch checkpoints are read by our own pickle reader (nothing in them runs); an existing model
 * of the same name is never overwritten.
 */
export function importModel(source: string, modelsDir: string, kind?: ModelKind): ModelEntry {
  if (!fs.existsSync(source)) throw new ModelsFolderError(`not found: ${source}`);
  if (!fs.statSync(source).isDirectory()) assertNotPickle(source);
  const detected = classifyModel(source);
  const k = kind ?? detected;
  if (k === null || k === undefined) throw new ModelsFolderError(`${nodePath.basename(source)}: not a recognised Stable Diffusion 1.x model, ControlNet, LoRA or VAE (safetensors, a torch.save checkpoint or a diffusers folder)`);
  const destDir = nodePath.join(modelsDir, KIND_FOLDERS[k]);
  makeFoldersSync(destDir);
  const dest = nodePath.join(destDir, nodePath.basename(source));
  if (fs.existsSync(dest)) throw new ModelsFolderError(`${dest} already exists`);
  const tmp = `${dest}.importing`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.cpSync(source, tmp, { recursive: true });
  fs.renameSync(tmp, dest); // the model appears whole or not at all
  return { kind: k, name: nodePath.basename(dest), path: dest, format: fs.statSync(dest).isDirectory() ? 'diffusers' : 'single-file', sizeBytes: sizeOf(dest) };
}

/**
 * Finds a snapshot of `repoId` ("ORG/NAME") in an existing huggingface_hub cache folder
 * (`<hubDir>/models--ORG--NAME/snapshots/<rev>`): the revision refs/main points to, else the
 * most recently modified snapshot. Null when absent.
 */
export function findHuggingFaceSnapshot(hubDir: string, repoId: string): string | null {
  const repoDir = nodePath.join(hubDir, `models--${repoId.split('/').join('--')}`);
  const snapshots = nodePath.join(repoDir, 'snapshots');
  if (!fs.existsSync(snapshots)) return null;
  const mainRef = nodePath.join(repoDir, 'refs', 'main');
  if (fs.existsSync(mainRef)) {
    const rev = fs.readFileSync(mainRef, 'utf8').trim();
    const p = nodePath.join(snapshots, rev);
    if (rev && fs.existsSync(p)) return p;
  }
  const revs = fs
    .readdirSync(snapshots, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => nodePath.join(snapshots, e.name))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return revs[0] ?? null;
}

// ------------------------------------------------------------------ downloader

/** The network or the server failed us (offline, HTTP error): an environment problem. */
export class DownloadError extends CodedError<'DOWNLOAD_FAILED'> {
  readonly url: string;
  constructor(url: string, message: string) {
    super('DOWNLOAD_FAILED', message);
    this.url = url;
  }
}

export interface DownloadOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number | null) => void;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Downloads `url` to `dest` through `dest + '.part'`, resuming a previous partial download with
 * an HTTP Range request. The file appears at `dest` only when complete.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  const part = `${dest}.part`;
  makeFoldersSync(nodePath.dirname(dest));
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const headers: Record<string, string> = { ...options.headers };
  if (have > 0) headers['Range'] = `bytes=${have}-`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: options.signal, redirect: 'follow' });
  } catch (e) {
    if (options.signal?.aborted) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new DownloadError(
      url,
      `could not reach ${new URL(url).host} (${cause?.code ?? cause?.message ?? (e as Error).message}). ` +
        `You may be offline: download ${nodePath.basename(dest)} on another machine and import it into the models folder.`,
    );
  }
  let start = 0;
  if (res.status === 206) {
    const range = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== have) throw new DownloadError(url, `server resumed at the wrong offset (${res.headers.get('content-range') ?? 'no Content-Range'})`);
    start = have;
  } else if (res.status === 416 && have > 0) {
    // the part file already holds everything
    await res.body?.cancel();
    fs.renameSync(part, dest);
    return;
  } else if (!res.ok) {
    await res.body?.cancel();
    throw new DownloadError(url, `HTTP ${res.status} ${res.statusText} for ${url}`);
  }
  const len = res.headers.get('content-length');
  const total = len === null ? null : start + Number(len);
  if (!res.body) throw new DownloadError(url, 'empty response body');
  let done = start;
  options.onProgress?.(done, total);
  const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    done += chunk.length;
    options.onProgress?.(done, total);
  });
  // a 200 reply restarts from zero (server ignored the Range)
  const out = fs.createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
  // Not stream.pipeline: on a cut connection it destroys the file stream and drops what is still
  // buffered, so the .part would hold less than arrived. Here a failed body still ends the file
  // stream, and the next run resumes from every byte received.
  const failure = await new Promise<Error | null>((resolve) => {
    let bodyError: Error | null = null;
    body.on('error', (e: Error) => {
      bodyError = e;
      out.end();
    });
    out.on('error', (e: Error) => {
      body.destroy();
      resolve(e);
    });
    out.on('finish', () => resolve(bodyError));
    body.pipe(out);
  });
  if (failure) {
    if (options.signal?.aborted) throw options.signal.reason ?? failure;
    throw new DownloadError(url, `download interrupted at ${done} bytes (${failure.message}); run it again to resume`);
  }
  if (total !== null && done !== total) throw new DownloadError(url, `download ended at ${done} of ${total} bytes; run it again to resume`);
  fs.renameSync(part, dest);
}
