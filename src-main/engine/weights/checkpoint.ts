// Loads SD 1.x weights from a diffusers folder or a single-file LDM/A1111 .safetensors into one
// canonical (diffusers) naming, lazily: nothing is read until a tensor's read() is called.
import fs from 'node:fs';
import nodePath from 'node:path';
import { CodedError } from '../../errors.ts';
import {
  assertFloatDType, readTensorFloat32, numel, type DType, type TensorInfo,
} from './safetensors.ts';
import { readWeightsIndex, sniffWeightsFormat } from './tensor-file.ts';
import {
  hintLastIndex, inferUnetLayout, inferVaeLayout, isVaeAttentionProjection, ldmControlNetKeyToDiffusers,
  ldmUnetKeyToDiffusers, ldmVaeKeyToDiffusers, textEncoderKeyToCanonical,
} from './ldm-keys.ts';

export interface LazyTensor {
  readonly dtype: DType;
  /** Shape in the canonical naming (VAE attention 1x1 convs already reshaped to [C, C]). */
  readonly shape: readonly number[];
  /** File and key it comes from, for messages. */
  readonly source: string;
  read(): Float32Array;
}

export type TensorMap = ReadonlyMap<string, LazyTensor>;

export interface StableDiffusionWeights {
  readonly format: 'diffusers' | 'single-file';
  readonly unet: TensorMap;
  readonly vae: TensorMap;
  readonly textEncoder: TensorMap;
  /** Keys of a single file that belong to none of the components (ignored). */
  readonly ignored: readonly string[];
}

/** A model file that cannot be used as given (pickle, unknown layout, damaged): bad input. */
export class CheckpointError extends CodedError<'BAD_MODEL'> {
  constructor(message: string) {
    super('BAD_MODEL', message);
  }
}

/**
 * PyTorch checkpoints (.ckpt/.pt/.pth/.bin) are read without running them (pickle/torch.ts
 * interprets the pickle against an allow-list; nothing is imported or called). This refuses a file
 * that, by its first bytes, is neither safetensors nor a torch.save checkpoint, before any read; a
 * .safetensors-named file is left to the safetensors reader, whose messages say what is wrong.
 */
export function assertNotPickle(path: string): void {
  if (!fs.existsSync(path) || fs.statSync(path).isDirectory()) return;
  if (nodePath.extname(path).toLowerCase() === '.safetensors' || sniffWeightsFormat(path) !== null) return;
  throw new CheckpointError(
    `${nodePath.basename(path)} is neither a safetensors file nor a PyTorch checkpoint written by torch.save, so it cannot be read safely; ` +
      'convert it to .safetensors first (for example with a trusted conversion script) and load that file.',
  );
}

// Every mapped tensor is a weight the graphs compute with: an integer dtype here is refused at load
// (before any compile), and read() refuses NaN/Inf (readTensorFloat32 scans every float tensor).
function lazy(path: string, info: TensorInfo, shape?: readonly number[]): LazyTensor {
  assertFloatDType(path, info);
  return {
    dtype: info.dtype,
    shape: shape ?? info.shape,
    source: `${path}#${info.name}`,
    read: () => readTensorFloat32(path, info),
  };
}

/** The tensor index of a safetensors file or PyTorch checkpoint (chosen by content, not extension). */
function headerOf(path: string): ReadonlyMap<string, TensorInfo> {
  if (!fs.existsSync(path)) throw new CheckpointError(`model file not found: ${path}`);
  assertNotPickle(path);
  return readWeightsIndex(path).tensors;
}

function put(out: Map<string, LazyTensor>, key: string, t: LazyTensor): void {
  if (out.has(key)) throw new CheckpointError(`two tensors map to ${key} (${out.get(key)!.source} and ${t.source})`);
  out.set(key, t);
}

// ------------------------------------------------------------------ component mappers

type Mapper = (key: string) => string | null;

function mapInto(out: Map<string, LazyTensor>, path: string, infos: Iterable<TensorInfo>, strip: string, mapper: Mapper, ignored: string[]): void {
  for (const info of infos) {
    const k = mapper(info.name.slice(strip.length));
    if (k === null) {
      ignored.push(info.name);
      continue;
    }
    put(out, k, lazy(path, info));
  }
}

function vaeTensors(path: string, infos: TensorInfo[], strip: string, ignored: string[]): Map<string, LazyTensor> {
  const out = new Map<string, LazyTensor>();
  const names = infos.map((i) => i.name.slice(strip.length));
  const ldm = names.some((n) => /^(encoder|decoder)\.(down|up)\.\d+\./.test(n) || n.startsWith('encoder.mid.'));
  const layout = inferVaeLayout(names);
  for (const info of infos) {
    const name = info.name.slice(strip.length);
    const k = ldm ? ldmVaeKeyToDiffusers(name, layout) : name;
    if (k === null) {
      ignored.push(info.name);
      continue;
    }
    // LDM keeps the mid-block attention projections as [C, C, 1, 1] convs; canonical is [C, C]
    const shape = isVaeAttentionProjection(k) && info.shape.length === 4 ? info.shape.slice(0, 2) : info.shape;
    put(out, k, lazy(path, info, shape));
  }
  return out;
}

// ------------------------------------------------------------------ diffusers folders

/** A diffusers component's weights: safetensors first, else the PyTorch .bin (read safely). */
function findWeightsFile(dir: string, stems: readonly string[]): string {
  for (const ext of ['safetensors', 'bin']) {
    for (const stem of stems) {
      for (const name of [`${stem}.${ext}`, `${stem}.fp16.${ext}`]) {
        const p = nodePath.join(dir, name);
        if (fs.existsSync(p)) return p;
      }
    }
  }
  throw new CheckpointError(`no ${stems[0]}.safetensors (or PyTorch ${stems[0]}.bin) in ${dir}`);
}

function diffusersComponent(dir: string, stems: readonly string[]): { path: string; infos: TensorInfo[] } {
  const path = findWeightsFile(dir, stems);
  return { path, infos: [...headerOf(path).values()] };
}

export function isDiffusersFolder(dir: string): boolean {
  return fs.existsSync(nodePath.join(dir, 'model_index.json')) || fs.existsSync(nodePath.join(dir, 'unet'));
}

function loadDiffusersFolder(dir: string): StableDiffusionWeights {
  const ignored: string[] = [];
  const unet = new Map<string, LazyTensor>();
  const u = diffusersComponent(nodePath.join(dir, 'unet'), ['diffusion_pytorch_model']);
  mapInto(unet, u.path, u.infos, '', (k) => k, ignored);
  const v = diffusersComponent(nodePath.join(dir, 'vae'), ['diffusion_pytorch_model']);
  const vae = vaeTensors(v.path, v.infos, '', ignored);
  const textEncoder = new Map<string, LazyTensor>();
  const t = diffusersComponent(nodePath.join(dir, 'text_encoder'), ['model', 'pytorch_model']);
  mapInto(textEncoder, t.path, t.infos, '', textEncoderKeyToCanonical, ignored);
  return { format: 'diffusers', unet, vae, textEncoder, ignored };
}

// ------------------------------------------------------------------ single files

const UNET_PREFIX = 'model.diffusion_model.';
const VAE_PREFIXES = ['first_stage_model.', 'vae.'];
const TE_PREFIXES = ['cond_stage_model.transformer.', 'conditioner.embedders.0.transformer.'];

export type SingleFileKind = 'sd-checkpoint' | 'controlnet-ldm' | 'controlnet-diffusers' | 'vae-ldm' | 'vae-diffusers' | 'lora' | 'unknown';

/** Guesses what a safetensors file holds from its key names. */
export function detectKind(keys: Iterable<string>): SingleFileKind {
  const ks = [...keys];
  const any = (re: RegExp): boolean => ks.some((k) => re.test(k));
  if (any(/^lora_(unet|te)_|\.lora_(down|up|A|B)\.weight$|\.lora\.(down|up)\.weight$/)) return 'lora';
  if (any(/^model\.diffusion_model\./)) return 'sd-checkpoint';
  if (any(/^(control_model\.)?input_hint_block\./)) return 'controlnet-ldm';
  if (any(/^controlnet_cond_embedding\./)) return 'controlnet-diffusers';
  if (any(/^(first_stage_model\.|vae\.)?encoder\.down\.\d+\./)) return 'vae-ldm';
  if (any(/^encoder\.down_blocks\.\d+\./)) return 'vae-diffusers';
  return 'unknown';
}

function loadSingleFile(path: string): StableDiffusionWeights {
  const header = headerOf(path);
  const infos = [...header.values()];
  if (detectKind(header.keys()) !== 'sd-checkpoint') {
    throw new CheckpointError(`${nodePath.basename(path)} is not a Stable Diffusion checkpoint (no model.diffusion_model.* weights); detected: ${detectKind(header.keys())}`);
  }
  const ignored: string[] = [];
  const unetInfos = infos.filter((i) => i.name.startsWith(UNET_PREFIX));
  const layout = inferUnetLayout(unetInfos.map((i) => i.name.slice(UNET_PREFIX.length)));
  const unet = new Map<string, LazyTensor>();
  mapInto(unet, path, unetInfos, UNET_PREFIX, (k) => ldmUnetKeyToDiffusers(k, layout), ignored);
  const vp = VAE_PREFIXES.find((p) => infos.some((i) => i.name.startsWith(p)));
  if (vp === undefined) throw new CheckpointError(`${nodePath.basename(path)} has no VAE (first_stage_model.*); load a VAE override with it`);
  const vae = vaeTensors(path, infos.filter((i) => i.name.startsWith(vp)), vp, ignored);
  const tp = TE_PREFIXES.find((p) => infos.some((i) => i.name.startsWith(p)));
  if (tp === undefined) throw new CheckpointError(`${nodePath.basename(path)} has no CLIP text encoder (cond_stage_model.transformer.*); SD 2.x/XL checkpoints are not supported`);
  const textEncoder = new Map<string, LazyTensor>();
  mapInto(textEncoder, path, infos.filter((i) => i.name.startsWith(tp)), tp, textEncoderKeyToCanonical, ignored);
  const used = new Set([UNET_PREFIX, vp, tp]);
  for (const i of infos) if (![...used].some((p) => i.name.startsWith(p))) ignored.push(i.name);
  return { format: 'single-file', unet, vae, textEncoder, ignored };
}

// ------------------------------------------------------------------ public loaders

export interface LoadOptions {
  /** A VAE file (LDM or diffusers naming, with or without first_stage_model. prefix) replacing the model's VAE. */
  readonly vaeOverride?: string;
}

/** Loads a diffusers folder or a single-file .safetensors SD 1.x checkpoint. */
export function loadStableDiffusion(path: string, options: LoadOptions = {}): StableDiffusionWeights {
  if (!fs.existsSync(path)) throw new CheckpointError(`model not found: ${path}`);
  const base = fs.statSync(path).isDirectory() ? loadDiffusersFolder(path) : loadSingleFile(path);
  if (options.vaeOverride === undefined) return base;
  return { ...base, vae: loadVae(options.vaeOverride) };
}

/** Loads a standalone VAE file or a diffusers vae/ folder into canonical names. */
export function loadVae(path: string): TensorMap {
  let file = path;
  if (fs.existsSync(path) && fs.statSync(path).isDirectory()) file = findWeightsFile(path, ['diffusion_pytorch_model']);
  const header = headerOf(file);
  const infos = [...header.values()];
  const prefix = VAE_PREFIXES.find((p) => infos.some((i) => i.name.startsWith(p + 'encoder.') || i.name.startsWith(p + 'decoder.'))) ?? '';
  const kind = detectKind(infos.map((i) => i.name.slice(prefix.length)));
  if (kind !== 'vae-ldm' && kind !== 'vae-diffusers') {
    throw new CheckpointError(`${nodePath.basename(file)} is not a VAE (detected: ${kind})`);
  }
  const ignored: string[] = [];
  const vae = vaeTensors(file, infos.filter((i) => i.name.startsWith(prefix)), prefix, ignored);
  if (!vae.has('decoder.conv_out.weight')) throw new CheckpointError(`${nodePath.basename(file)}: VAE has no decoder`);
  return vae;
}

/** Loads a ControlNet: diffusers folder or file, or single-file LDM (`control_model.*` or unprefixed). */
export function loadControlNet(path: string): TensorMap {
  let file = path;
  if (fs.existsSync(path) && fs.statSync(path).isDirectory()) file = findWeightsFile(path, ['diffusion_pytorch_model']);
  const header = headerOf(file);
  const kind = detectKind(header.keys());
  const out = new Map<string, LazyTensor>();
  const ignored: string[] = [];
  const infos = [...header.values()];
  if (kind === 'controlnet-diffusers') {
    mapInto(out, file, infos, '', (k) => k, ignored);
    return out;
  }
  // Rerender ships its ControlNets as one file holding `control_model.*` beside a whole SD 1.5,
  // which detects as a checkpoint: its control model is used here.
  const bundled = kind === 'sd-checkpoint' && infos.some((i) => i.name.startsWith('control_model.input_hint_block.'));
  if (kind !== 'controlnet-ldm' && !bundled) throw new CheckpointError(`${nodePath.basename(file)} is not a ControlNet (detected: ${kind})`);
  const prefix = infos.some((i) => i.name.startsWith('control_model.')) ? 'control_model.' : '';
  const own = infos.filter((i) => i.name.startsWith(prefix));
  const names = own.map((i) => i.name.slice(prefix.length));
  const layout = inferUnetLayout(names);
  const hintLast = hintLastIndex(names);
  mapInto(out, file, own, prefix, (k) => ldmControlNetKeyToDiffusers(k, layout, hintLast), ignored);
  return out;
}

/** Number of elements a lazy tensor holds. */
export function tensorSize(t: LazyTensor): number {
  return numel(t.shape);
}
