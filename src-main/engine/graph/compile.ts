// Compiles a diffusers component (config + weights) to an ONNX model with
// external weights, cached on disk by a hash of everything that shapes it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from './builder.ts';
import type { FloatType, OpsetImport, WeightTensor } from './builder.ts';
import type { LayerContext, OpChoices } from './layers.ts';
import { clipTextConfig, controlNetConfig, unetConfig, vaeConfig } from './model-config.ts';
import { buildClipText } from './clip-text.ts';
import { buildUNet } from './unet.ts';
import type { UNetGraphOptions } from './unet.ts';
import { normalizeFreeU } from './freeu.ts';
import { buildControlNet } from './controlnet.ts';
import { buildVaeDecoder, buildVaeEncoder } from './vae.ts';
import type { TensorSource } from './tensor-source.ts';
import { makeFoldersSync } from '../../folders.ts';

/** Bumped whenever a change in this folder changes the graphs produced. */
export const COMPILER_VERSION = 1;

export type ModelKind = 'text-encoder' | 'unet' | 'controlnet' | 'vae-encoder' | 'vae-decoder';
export type Target = 'cpu' | 'cuda' | 'webgpu';

export interface CompileOptions {
  kind: ModelKind;
  target: Target;
  floatType: FloatType;
  /** Overrides of the per-target op choices (tests compare variants). */
  ops?: Partial<OpChoices>;
  /** UNet only. */
  unet?: Partial<UNetGraphOptions>;
}

export interface ModelSource {
  /** The component's config.json. */
  config: Record<string, unknown>;
  weights: TensorSource;
  /** Stable identity of the base weights (e.g. path + size + mtime, or a content hash). */
  identity: string;
  /** LoRAs already merged into `weights` (part of the cache key). */
  loras?: { id: string; scale: number }[];
}

export interface CompiledModel {
  kind: ModelKind;
  key: string;
  modelPath: string;
  dataPath: string;
  cacheHit: boolean;
  ops: OpChoices;
  floatType: FloatType;
  /** UNet: hooked attn1 module paths (inputs attn1_kv.<k>.<path>, outputs attn1_ctx.<path>). */
  crossFrameLayers: string[];
  /** UNet/ControlNet: number of down residuals (12 for SD 1.5). */
  residualCount: number;
  /** VAE: latent scaling factor (the decoder applies 1/scaling inside). */
  scalingFactor: number | null;
}

export interface CompileHooks {
  signal?: AbortSignal;
  /** Weights written so far / weights expected (expected may grow while building). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Op forms per execution provider. WebGPU lacks GroupNorm and packed-QKV
 * attention kernels, so it gets InstanceNormalization and plain MatMul
 * attention; CPU and CUDA run com.microsoft MultiHeadAttention with separate
 * Q, K, V. GroupNorm uses the InstanceNormalization form everywhere: on CPU
 * it beats GroupNormalization-21 (bench/engine/run.ts), and CUDA's fused NHWC
 * GroupNorm could not be verified without a GPU.
 */
export function opsForTarget(target: Target): OpChoices {
  switch (target) {
    case 'cpu': return { groupNorm: 'instance', attention: 'mha' };
    case 'cuda': return { groupNorm: 'instance', attention: 'mha' };
    case 'webgpu': return { groupNorm: 'instance', attention: 'matmul' };
  }
}

const UNET_DEFAULTS: UNetGraphOptions = { controlnetResiduals: true, crossFrame: 'none', crossFrameSources: 0, contextType: 'float32', freeu: null };

function normalized(options: CompileOptions): { ops: OpChoices; unet: UNetGraphOptions | null } {
  const ops = { ...opsForTarget(options.target), ...options.ops };
  const chunks = ops.attentionChunks ?? [];
  if (!chunks.every((n) => Number.isInteger(n) && n >= 1 && n <= 65536)) throw new RangeError(`attentionChunks must be integers in 1..65536, got [${chunks.join(', ')}]`);
  // Only the MatMul form splits. Trailing ones change nothing, and no split at all is the unsplit
  // graph under its unchanged key.
  let used = chunks.length;
  while (used > 0 && chunks[used - 1] === 1) used--;
  if (used === 0 || ops.attention !== 'matmul') delete ops.attentionChunks;
  else ops.attentionChunks = chunks.slice(0, used);
  let unet = options.kind === 'unet' ? { ...UNET_DEFAULTS, ...options.unet, freeu: normalizeFreeU(options.unet?.freeu) } : null;
  if (unet?.crossFrame === 'none') unet = { ...unet, crossFrameSources: 0, contextType: 'float32' };
  if (unet && !(Number.isInteger(unet.crossFrameSources) && unet.crossFrameSources >= 0 && unet.crossFrameSources <= 8)) {
    throw new RangeError(`crossFrameSources must be an integer in 0..8, got ${unet.crossFrameSources}`);
  }
  return { ops, unet };
}

/** The UNet options as hashed: without FreeU when it is off, so keys from before FreeU still hold. */
function hashedUNet(unet: UNetGraphOptions | null): Omit<UNetGraphOptions, 'freeu'> & { freeu?: UNetGraphOptions['freeu'] } | null {
  if (!unet || unet.freeu) return unet;
  const { freeu: _off, ...rest } = unet;
  return rest;
}

export function cacheKey(source: ModelSource, options: CompileOptions): string {
  const { ops, unet: unetOptions } = normalized(options);
  const unet = hashedUNet(unetOptions);
  const payload = {
    compiler: COMPILER_VERSION,
    identity: source.identity,
    loras: source.loras ?? [],
    config: source.config,
    kind: options.kind,
    target: options.target,
    floatType: options.floatType,
    ops,
    unet,
  };
  return createHash('sha256').update(JSON.stringify(payload)).digest('hex').slice(0, 32);
}

interface CacheInfo extends Omit<CompiledModel, 'modelPath' | 'dataPath' | 'cacheHit'> {
  compiler: number;
}

/** Compiles (or finds in `cacheDir`) the graph for `source` under `options`. */
export function compileModel(source: ModelSource, options: CompileOptions, cacheDir: string, hooks: CompileHooks = {}): CompiledModel {
  const key = cacheKey(source, options);
  const dir = join(cacheDir, key);
  const paths = { modelPath: join(dir, 'model.onnx'), dataPath: join(dir, 'model.onnx.data') };
  const infoPath = join(dir, 'info.json');
  if (existsSync(infoPath)) {
    const info = JSON.parse(readFileSync(infoPath, 'utf8')) as CacheInfo;
    if (info.compiler === COMPILER_VERSION && existsSync(paths.modelPath)) {
      return { ...stripCompiler(info), ...paths, cacheHit: true };
    }
  }
  // A --cache folder the system will not make is said plainly, never a hang.
  makeFoldersSync(cacheDir);
  const tmp = join(cacheDir, `${key}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const info = build(source, options, key, join(tmp, 'model.onnx'), join(tmp, 'model.onnx.data'), hooks);
    writeFileSync(join(tmp, 'info.json'), JSON.stringify({ ...info, compiler: COMPILER_VERSION }, null, 1));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return { ...info, ...paths, cacheHit: false };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function stripCompiler(info: CacheInfo): Omit<CompiledModel, 'modelPath' | 'dataPath' | 'cacheHit'> {
  const { compiler: _compiler, ...rest } = info;
  return rest;
}

/** Counts weights read and honours the abort signal while the graph is built. */
function watched(source: TensorSource, hooks: CompileHooks, expected: number): TensorSource {
  let done = 0;
  let total = expected;
  return {
    has: (name) => source.has(name),
    get: (name): WeightTensor => {
      hooks.signal?.throwIfAborted();
      const t = source.get(name);
      done += 1;
      if (done > total) total = done;
      hooks.onProgress?.(done, total);
      return t;
    },
  };
}

function build(source: ModelSource, options: CompileOptions, key: string, modelPath: string, dataPath: string, hooks: CompileHooks): Omit<CompiledModel, 'modelPath' | 'dataPath' | 'cacheHit'> {
  const { ops, unet } = normalized(options);
  const opset: OpsetImport[] = [{ domain: '', version: ops.groupNorm === 'native' ? 21 : 17 }];
  if (ops.attention === 'mha') opset.push({ domain: 'com.microsoft', version: 1 });
  const b = new GraphBuilder({ name: options.kind, floatType: options.floatType, externalPath: dataPath, externalLocation: 'model.onnx.data', opset });
  const ctx: LayerContext = { b, w: watched(source.weights, hooks, source.weights.count ?? 0), ops };
  const result: Omit<CompiledModel, 'modelPath' | 'dataPath' | 'cacheHit'> = {
    kind: options.kind, key, ops, floatType: options.floatType, crossFrameLayers: [], residualCount: 0, scalingFactor: null,
  };
  try {
    switch (options.kind) {
      case 'text-encoder':
        buildClipText(ctx, clipTextConfig(source.config));
        break;
      case 'unet': {
        const info = buildUNet(ctx, unetConfig(source.config), unet ?? UNET_DEFAULTS);
        result.crossFrameLayers = info.crossFrameLayers;
        result.residualCount = info.residualChannels.length;
        break;
      }
      case 'controlnet':
        result.residualCount = buildControlNet(ctx, controlNetConfig(source.config)).residualCount;
        break;
      case 'vae-encoder': {
        const cfg = vaeConfig(source.config);
        buildVaeEncoder(ctx, cfg);
        result.scalingFactor = cfg.scalingFactor;
        break;
      }
      case 'vae-decoder': {
        const cfg = vaeConfig(source.config);
        buildVaeDecoder(ctx, cfg);
        result.scalingFactor = cfg.scalingFactor;
        break;
      }
    }
  } catch (err) {
    b.abort();
    throw err;
  }
  writeFileSync(modelPath, b.finish({ 'rerender.kind': options.kind, 'rerender.key': key }));
  return result;
}
