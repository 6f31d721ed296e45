// ControlNet preprocessors behind one interface: Canny (native OpenCV), and HED /
// depth compiled from their original weights (builtin.ts) or, failing those, run
// from ONNX models the user exported.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { InferenceHost } from '../runtime/inference-host.ts';
import { ControlError } from './errors.ts';
import { loadCanny } from './canny.ts';
import type { CannyFn, CannyOptions } from './canny.ts';
import { abortError } from './rgb-image.ts';
import type { RgbImage } from './rgb-image.ts';
import { greyToRgb, normalizeMap, planarInput } from './map-image.ts';
import { BUILTIN_ANNOTATORS, builtinPreprocessor, builtinWeightsPath } from './builtin.ts';
import type { BuiltinOptions } from './builtin.ts';

export type PreprocessorKind = 'canny' | 'hed' | 'depth';

export interface Preprocessor {
  readonly kind: PreprocessorKind;
  /** The control image: 3-channel RGB at the input's size. */
  run(image: RgbImage, signal?: AbortSignal): Promise<RgbImage>;
}

export function cannyPreprocessor(options: CannyOptions = {}, canny: CannyFn = loadCanny()): Preprocessor {
  return { kind: 'canny', run: (image, signal) => canny(image, options, signal) };
}

/** How a user-provided annotator model is fed and read. */
interface OnnxAnnotatorSpec {
  kind: Exclude<PreprocessorKind, 'canny'>;
  file: string;
  what: string;
  /** Input pixel scale: pixel·scale + offset, per channel. */
  scale: number;
  offset: number;
  /** Side the input is resized to (null: the image's own size, rounded to a multiple of 8). */
  side: number | null;
  /** Output values are logits (HED): apply a sigmoid before scaling to 0..255. */
  sigmoid: boolean;
}

/**
 * The models folder layout: `<modelsDir>/annotators/<file>`.
 * hed.onnx: input `[1,3,H,W]` RGB 0..255, output `[1,1,H,W]` edge logits (ControlNet's HED, exported).
 * depth.onnx: input `[1,3,384,384]` RGB scaled to [-1,1], output `[1,384,384]` or `[1,1,384,384]` inverse depth (MiDaS/DPT, exported).
 */
export const ANNOTATORS: Readonly<Record<Exclude<PreprocessorKind, 'canny'>, OnnxAnnotatorSpec>> = {
  hed: { kind: 'hed', file: 'hed.onnx', what: 'HED soft-edge model (ControlNet annotator ControlNetHED, exported to ONNX)', scale: 1, offset: 0, side: null, sigmoid: true },
  depth: { kind: 'depth', file: 'depth.onnx', what: 'MiDaS/DPT depth model (exported to ONNX, 384×384 input)', scale: 2 / 255, offset: -1, side: 384, sigmoid: false },
};

export function annotatorPath(modelsDir: string, kind: Exclude<PreprocessorKind, 'canny'>): string {
  return path.join(modelsDir, 'annotators', ANNOTATORS[kind].file);
}

/** A preprocessor running `<modelsDir>/annotators/<kind>.onnx` in `host`; MODEL_MISSING says where to put it. */
export async function onnxPreprocessor(kind: Exclude<PreprocessorKind, 'canny'>, modelsDir: string, host: InferenceHost): Promise<Preprocessor> {
  const spec = ANNOTATORS[kind];
  const file = annotatorPath(modelsDir, kind);
  if (!existsSync(file)) {
    throw new ControlError('MODEL_MISSING', `The ${kind} preprocessor needs a ${spec.what}. Put it at ${file} (input/output layout: see src-main/engine/control/preprocessor.ts), or use --canny.`);
  }
  const model = await host.load(file);
  const input = model.inputNames[0];
  const output = model.outputNames[0];
  if (!input || !output) throw new ControlError('INVALID_ARGUMENT', `${file} has no input or output`);
  return {
    kind,
    async run(image, signal) {
      if (signal?.aborted) throw abortError(signal);
      const feed = planarInput(image, spec.side, spec.scale, spec.offset);
      const out = await host.run(model, { [input]: feed.tensor }, signal ? { signal, outputs: [output] } : { outputs: [output] });
      const t = out[output];
      if (!t || t.type !== 'float32') throw new ControlError('INVALID_ARGUMENT', `${file}: output ${output} is not float32`);
      const dims = t.dims;
      const mw = dims[dims.length - 1]!;
      const mh = dims[dims.length - 2]!;
      if (t.data.length !== mw * mh) throw new ControlError('INVALID_ARGUMENT', `${file}: expected one output map, got [${dims.join(', ')}]`);
      const grey = normalizeMap(t.data, spec.sigmoid);
      return greyToRgb(grey, mw, mh, image.width, image.height);
    },
  };
}

/**
 * HED or depth from the models folder: the original weights under `annotators/` (compiled into
 * `options.cacheDir`), else the user's exported `annotators/<kind>.onnx`; MODEL_MISSING names both.
 */
export async function annotatorPreprocessor(kind: Exclude<PreprocessorKind, 'canny'>, modelsDir: string, host: InferenceHost, options: BuiltinOptions): Promise<Preprocessor> {
  const weights = builtinWeightsPath(modelsDir, kind);
  if (weights) return builtinPreprocessor(kind, weights, host, options);
  if (existsSync(annotatorPath(modelsDir, kind))) return onnxPreprocessor(kind, modelsDir, host);
  const original = path.join(modelsDir, 'annotators', BUILTIN_ANNOTATORS[kind].files[0]!);
  throw new ControlError('MODEL_MISSING', `The ${kind} preprocessor needs ${BUILTIN_ANNOTATORS[kind].what} at ${original} (or a ${ANNOTATORS[kind].what} at ${annotatorPath(modelsDir, kind)}), or use --canny.`);
}
