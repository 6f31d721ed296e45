// HED and depth preprocessors compiled by our own ONNX compiler from the networks'
// original weights (graph/hed.ts, graph/depth-anything.ts), cached like the SD graphs.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { compileAnnotator } from '../graph/annotator-compile.ts';
import type { AnnotatorKind } from '../graph/annotator-compile.ts';
import type { Target } from '../graph/compile.ts';
import { safetensorsSource } from '../graph/safetensors-source.ts';
import type { TensorSource } from '../graph/tensor-source.ts';
import type { InferenceHost } from '../runtime/inference-host.ts';
import { ControlError } from './errors.ts';
import { greyToRgb, normalizeMap, planarInput } from './map-image.ts';
import { abortError } from './rgb-image.ts';
import type { Preprocessor } from './preprocessor.ts';

export type BuiltinKind = 'hed' | 'depth';

interface BuiltinSpec {
  compileKind: AnnotatorKind;
  /** File names looked for under `<modelsDir>/annotators/`, first found wins. */
  files: readonly string[];
  what: string;
}

/**
 * hed: lllyasviel/Annotators' ControlNetHED.pth (ControlNet 1.1 soft edge, RGB), or the same
 * state dict as safetensors. depth: Depth Anything V2 Small in the transformers (hub) layout,
 * depth-anything/Depth-Anything-V2-Small-hf's model.safetensors renamed.
 */
export const BUILTIN_ANNOTATORS: Readonly<Record<BuiltinKind, BuiltinSpec>> = {
  hed: { compileKind: 'hed', files: ['ControlNetHED.pth', 'ControlNetHED.safetensors'], what: 'ControlNetHED.pth (lllyasviel/Annotators)' },
  depth: { compileKind: 'depth-anything', files: ['depth_anything_v2_vits.safetensors'], what: 'depth_anything_v2_vits.safetensors (depth-anything/Depth-Anything-V2-Small-hf model.safetensors)' },
};

/** The first weights file of `kind` present under `<modelsDir>/annotators/`, or null. */
export function builtinWeightsPath(modelsDir: string, kind: BuiltinKind): string | null {
  for (const file of BUILTIN_ANNOTATORS[kind].files) {
    const p = path.join(modelsDir, 'annotators', file);
    if (existsSync(p)) return p;
  }
  return null;
}

/** The weights of an annotator file: safetensors or a PyTorch checkpoint (read without unpickling code). */
export function annotatorWeights(file: string): TensorSource {
  return safetensorsSource(file);
}

export interface BuiltinOptions {
  /** The compile cache (the SD graphs' cacheDir). */
  cacheDir: string;
  /** Compile target; default: the provider `host` probes. */
  target?: Target;
  /** Architecture settings the weights do not carry (depth; see graph/depth-anything.ts). */
  config?: Record<string, unknown>;
  signal?: AbortSignal;
}

/** Depth Anything V2's input: the shorter side 518, both multiples of 14, aspect kept. */
export function depthInputSize(width: number, height: number, lower = 518, multiple = 14): [number, number] {
  const scale = lower / Math.min(width, height);
  const fit = (v: number): number => Math.max(multiple, Math.round((v * scale) / multiple) * multiple);
  return [fit(width), fit(height)];
}

/** A preprocessor compiling `weightsPath` (cached in `options.cacheDir`) and running it in `host`. */
export async function builtinPreprocessor(kind: BuiltinKind, weightsPath: string, host: InferenceHost, options: BuiltinOptions): Promise<Preprocessor> {
  const spec = BUILTIN_ANNOTATORS[kind];
  if (!existsSync(weightsPath)) throw new ControlError('MODEL_MISSING', `The ${kind} preprocessor needs ${spec.what} at ${weightsPath}`);
  const target = options.target ?? (await host.probe()).provider;
  const st = statSync(weightsPath);
  const compiled = compileAnnotator({
    weights: annotatorWeights(weightsPath),
    identity: `${path.resolve(weightsPath)}:${st.size}:${st.mtimeMs}`,
    ...(options.config ? { config: options.config } : {}),
  }, { kind: spec.compileKind, target, floatType: 'float32' }, options.cacheDir, options.signal);
  const model = await host.load(compiled.modelPath);
  const output = kind === 'hed' ? 'edge' : 'depth';
  return {
    kind,
    async run(image, signal) {
      if (signal?.aborted) throw abortError(signal);
      if (kind === 'hed' && (image.width < 16 || image.height < 16)) {
        throw new ControlError('INVALID_ARGUMENT', `HED needs an image of at least 16×16 pixels (${image.width}×${image.height} given)`);
      }
      // HED runs at the image's own size, as Rerender's annotator does; depth at 518 on the short side.
      const [w, h] = kind === 'hed' ? [image.width, image.height] : depthInputSize(image.width, image.height);
      const feed = planarInput(image, { width: w, height: h }, 1, 0);
      const out = await host.run(model, { image: feed.tensor }, signal ? { signal, outputs: [output] } : { outputs: [output] });
      const t = out[output];
      if (!t || t.type !== 'float32' || t.data.length !== w * h) throw new ControlError('INVALID_ARGUMENT', `${weightsPath}: unexpected ${output} output`);
      if (kind === 'depth') return greyToRgb(normalizeMap(t.data, false), w, h, image.width, image.height);
      return greyToRgb(edgeBytes(t.data), w, h, w, h);
    },
  };
}

/** HEDdetector's `(edge * 255).clip(0, 255).astype(uint8)`: truncation, not rounding. */
export function edgeBytes(edge: Float32Array): Uint8Array {
  const out = new Uint8Array(edge.length);
  for (let i = 0; i < edge.length; i++) out[i] = Math.min(255, Math.max(0, Math.floor(edge[i]! * 255)));
  return out;
}
