// Turns the user's model choice (checkpoint, config folder, VAE, LoRAs, ControlNet)
// into compiler ModelSources, a tokenizer and the DDIM config.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadControlNet, loadStableDiffusion, CheckpointError } from '../weights/checkpoint.ts';
import type { TensorMap } from '../weights/checkpoint.ts';
import { applyLoras, parseLora } from '../weights/lora.ts';
import type { LoraApplication } from '../weights/lora.ts';
import type { ModelSource } from '../graph/compile.ts';
import { MissingWeightError } from '../graph/tensor-source.ts';
import type { TensorSource } from '../graph/tensor-source.ts';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import { ddimConfigFromJson, SD15_DDIM } from '../scheduler/ddim.ts';
import type { DdimConfig } from '../scheduler/ddim.ts';
import { PipelineError } from './errors.ts';
import { inferControlNetConfig, inferTextConfig, inferUnetConfig, inferVaeConfig } from './sd15-configs.ts';
import type { ShapeOf } from './sd15-configs.ts';
import type { ControlNetSpec, LoraSpec } from './types.ts';

type Json = Record<string, unknown>;

export interface ModelFiles {
  textEncoder: ModelSource;
  unet: ModelSource;
  vae: ModelSource;
  controlnet: ModelSource | null;
  tokenizer: ClipTokenizer;
  ddim: DdimConfig;
  /** LoRA modules that matched no weight (reported to the user). */
  unmatchedLoraModules: string[];
}

export interface ModelChoice {
  model: string;
  configFrom?: string | undefined;
  vae?: string | undefined;
  loras?: readonly LoraSpec[] | undefined;
  controlnet?: string | ControlNetSpec | undefined;
}

/** The compiler's view of a lazy tensor map. */
export function mapTensorSource(map: TensorMap, where: string): TensorSource {
  return {
    count: map.size,
    has: (name) => map.has(name),
    get: (name) => {
      const t = map.get(name);
      if (!t) throw new MissingWeightError(name, where);
      return { dims: [...t.shape], data: t.read() };
    },
  };
}

function fileStamp(path: string): string {
  const st = statSync(path);
  return `${path}:${st.size}:${st.mtimeMs}`;
}

/** Identity of a tensor map: the files its tensors come from (path, size, mtime), hashed. */
export function mapIdentity(map: TensorMap): string {
  const files = new Set<string>();
  for (const t of map.values()) files.add(t.source.split('#')[0]!);
  const h = createHash('sha256');
  for (const f of [...files].sort()) h.update(fileStamp(f) + '\n');
  return h.digest('hex');
}

function shapeOf(map: TensorMap): ShapeOf {
  return (name) => map.get(name)?.shape;
}

function readJson(path: string): Json | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Json) : null;
}

function requireExists(path: string, what: string): void {
  if (!existsSync(path)) throw new PipelineError('MODEL_MISSING', `${what} not found: ${path}`);
}

/** CLIP's vocabulary, next to the sources (src-main/...) or the build (dist/src-main/...). */
function defaultVocab(): string {
  const candidates = ['../../../assets/clip/bpe_simple_vocab_16e6.txt.gz', '../../../../assets/clip/bpe_simple_vocab_16e6.txt.gz']
    .map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const hit = candidates.find((p) => existsSync(p));
  if (!hit) throw new PipelineError('MODEL_MISSING', `CLIP vocabulary not found (looked for ${candidates.join(', ')})`);
  return hit;
}

function loadWeights(choice: ModelChoice): ReturnType<typeof loadStableDiffusion> {
  requireExists(choice.model, 'model');
  if (choice.vae !== undefined) requireExists(choice.vae, 'VAE');
  try {
    return loadStableDiffusion(choice.model, choice.vae !== undefined ? { vaeOverride: choice.vae } : {});
  } catch (err) {
    if (err instanceof CheckpointError) throw new PipelineError('UNSUPPORTED_MODEL', err.message, { cause: err });
    throw err;
  }
}

export function resolveModelFiles(choice: ModelChoice): ModelFiles {
  const weights = loadWeights(choice);
  const folder = weights.format === 'diffusers' ? choice.model : choice.configFrom;
  if (folder !== undefined) requireExists(folder, 'config folder');
  const cfg = (component: string): Json | null => (folder !== undefined ? readJson(join(folder, component, 'config.json')) : null);

  let unetMap = weights.unet;
  let textMap = weights.textEncoder;
  const loraIds: { id: string; scale: number }[] = [];
  const unmatched: string[] = [];
  if (choice.loras && choice.loras.length > 0) {
    const apps: LoraApplication[] = choice.loras.map((l) => {
      requireExists(l.path, 'LoRA');
      const lora = parseLora(l.path, { unet: weights.unet.keys(), textEncoder: weights.textEncoder.keys() });
      unmatched.push(...lora.unmatched);
      loraIds.push({ id: fileStamp(l.path), scale: l.weight });
      return { lora, weight: l.weight };
    });
    unetMap = applyLoras(weights.unet, 'unet', apps);
    textMap = applyLoras(weights.textEncoder, 'textEncoder', apps);
  }
  const source = (map: TensorMap, config: Json, where: string, loras: boolean): ModelSource => ({
    config,
    weights: mapTensorSource(map, where),
    identity: mapIdentity(map),
    ...(loras && loraIds.length ? { loras: loraIds } : {}),
  });

  const tokenizer = folder !== undefined && existsSync(join(folder, 'tokenizer', 'vocab.json'))
    ? ClipTokenizer.fromFolder(join(folder, 'tokenizer'))
    : ClipTokenizer.fromBpeGz(defaultVocab());
  // A token id past the embedding table would only fail deep inside onnxruntime; say what is wrong.
  const embedRows = textMap.get('text_model.embeddings.token_embedding.weight')?.shape[0];
  if (embedRows !== undefined && embedRows < tokenizer.size) {
    throw new PipelineError(
      'UNSUPPORTED_MODEL',
      `${basename(choice.model)}: its text encoder knows ${embedRows} tokens but the tokenizer has ${tokenizer.size}. ` +
        (folder === undefined
          ? 'It is not a standard SD 1.x checkpoint; use it with a diffusers folder that holds its tokenizer (configFrom).'
          : 'The tokenizer in the config folder does not belong to this text encoder.'),
    );
  }
  const schedulerJson = folder !== undefined ? readJson(join(folder, 'scheduler', 'scheduler_config.json')) : null;

  return {
    unet: source(unetMap, cfg('unet') ?? inferUnetConfig(shapeOf(unetMap)), `${choice.model} (UNet)`, true),
    textEncoder: source(textMap, cfg('text_encoder') ?? inferTextConfig(shapeOf(textMap)), `${choice.model} (text encoder)`, true),
    vae: source(weights.vae, (choice.vae === undefined ? cfg('vae') : null) ?? inferVaeConfig(shapeOf(weights.vae)), `${choice.vae ?? choice.model} (VAE)`, false),
    controlnet: choice.controlnet !== undefined ? controlNetSource(choice.controlnet) : null,
    tokenizer,
    ddim: schedulerJson ? ddimConfigFromJson(schedulerJson) : SD15_DDIM,
    unmatchedLoraModules: unmatched,
  };
}

function controlNetSource(spec: string | ControlNetSpec): ModelSource {
  const { path, configFrom } = typeof spec === 'string' ? { path: spec, configFrom: undefined } : spec;
  requireExists(path, 'ControlNet');
  let map: TensorMap;
  try {
    map = loadControlNet(path);
  } catch (err) {
    if (err instanceof CheckpointError) throw new PipelineError('UNSUPPORTED_MODEL', err.message, { cause: err });
    throw err;
  }
  const folder = configFrom ?? (statSync(path).isDirectory() ? path : undefined);
  const config = folder !== undefined ? readJson(join(folder, 'config.json')) : null;
  return {
    config: config ?? inferControlNetConfig(shapeOf(map)),
    weights: mapTensorSource(map, `${path} (ControlNet)`),
    identity: mapIdentity(map),
  };
}
