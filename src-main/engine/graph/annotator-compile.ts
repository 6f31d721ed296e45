// Compiles a ControlNet annotator network (HED, Depth Anything) from its original
// weights into the same on-disk cache as the SD graphs, with the same protocol as
// compile.ts: `<cacheDir>/<key>/model.onnx` + `model.onnx.data` + `info.json`,
// written in a temporary folder and renamed into place, info.json last.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from './builder.ts';
import type { FloatType, OpsetImport } from './builder.ts';
import { COMPILER_VERSION, opsForTarget } from './compile.ts';
import type { Target } from './compile.ts';
import type { LayerContext } from './layers.ts';
import type { TensorSource } from './tensor-source.ts';
import { buildHed } from './hed.ts';
import { buildDepthAnything, depthAnythingConfig } from './depth-anything.ts';
import { makeFoldersSync } from '../../folders.ts';

/** Bumped whenever hed.ts or depth-anything.ts change the graphs they produce. */
export const ANNOTATOR_COMPILER_VERSION = 1;

export type AnnotatorKind = 'hed' | 'depth-anything';

export interface AnnotatorSource {
  weights: TensorSource;
  /** Stable identity of the weights file (path + size + mtime). */
  identity: string;
  /** Architecture settings the weights do not say (depth: see depthAnythingConfig). */
  config?: Record<string, unknown>;
}

export interface AnnotatorCompileOptions {
  kind: AnnotatorKind;
  target: Target;
  floatType: FloatType;
}

export interface CompiledAnnotator {
  kind: AnnotatorKind;
  key: string;
  modelPath: string;
  dataPath: string;
  cacheHit: boolean;
  floatType: FloatType;
}

export function annotatorCacheKey(source: AnnotatorSource, options: AnnotatorCompileOptions): string {
  const payload = {
    compiler: COMPILER_VERSION,
    annotator: ANNOTATOR_COMPILER_VERSION,
    identity: source.identity,
    config: source.config ?? {},
    kind: options.kind,
    target: options.target,
    floatType: options.floatType,
  };
  return createHash('sha256').update(JSON.stringify(payload)).digest('hex').slice(0, 32);
}

interface AnnotatorInfo {
  kind: AnnotatorKind;
  key: string;
  floatType: FloatType;
  compiler: number;
  annotator: number;
}

/** Compiles (or finds in `cacheDir`) the annotator graph; `signal` is honoured between weights. */
export function compileAnnotator(source: AnnotatorSource, options: AnnotatorCompileOptions, cacheDir: string, signal?: AbortSignal): CompiledAnnotator {
  const key = annotatorCacheKey(source, options);
  const dir = join(cacheDir, key);
  const paths = { modelPath: join(dir, 'model.onnx'), dataPath: join(dir, 'model.onnx.data') };
  const infoPath = join(dir, 'info.json');
  if (existsSync(infoPath) && existsSync(paths.modelPath)) {
    try {
      const info = JSON.parse(readFileSync(infoPath, 'utf8')) as AnnotatorInfo;
      if (info.compiler === COMPILER_VERSION && info.annotator === ANNOTATOR_COMPILER_VERSION) {
        return { kind: info.kind, key, floatType: info.floatType, ...paths, cacheHit: true };
      }
    } catch {
      // unreadable info: rebuild the entry
    }
  }
  makeFoldersSync(cacheDir);
  const tmp = join(cacheDir, `${key}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    build(source, options, key, join(tmp, 'model.onnx'), join(tmp, 'model.onnx.data'), signal);
    const info: AnnotatorInfo = { kind: options.kind, key, floatType: options.floatType, compiler: COMPILER_VERSION, annotator: ANNOTATOR_COMPILER_VERSION };
    writeFileSync(join(tmp, 'info.json'), JSON.stringify(info, null, 1));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return { kind: options.kind, key, floatType: options.floatType, ...paths, cacheHit: false };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function build(source: AnnotatorSource, options: AnnotatorCompileOptions, key: string, modelPath: string, dataPath: string, signal?: AbortSignal): void {
  const ops = opsForTarget(options.target);
  const opset: OpsetImport[] = [{ domain: '', version: 17 }];
  if (ops.attention === 'mha') opset.push({ domain: 'com.microsoft', version: 1 });
  const b = new GraphBuilder({ name: options.kind, floatType: options.floatType, externalPath: dataPath, externalLocation: 'model.onnx.data', opset });
  const weights: TensorSource = {
    has: (name) => source.weights.has(name),
    get: (name) => {
      signal?.throwIfAborted();
      return source.weights.get(name);
    },
  };
  const ctx: LayerContext = { b, w: weights, ops };
  try {
    if (options.kind === 'hed') buildHed(ctx);
    else buildDepthAnything(ctx, depthAnythingConfig(source.config ?? {}, source.weights));
  } catch (err) {
    b.abort();
    throw err;
  }
  writeFileSync(modelPath, b.finish({ 'rerender.kind': options.kind, 'rerender.key': key }));
}
