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
import { checkComponentShapes } from './model-shapes.ts';
import type { Component } from './model-shapes.ts';
import { clipTextConfig, controlNetConfig, unetConfig, vaeConfig } from '../graph/model-config.ts';
import type { ControlNetSpec, LoraSpec } from './types.ts';

type Json = Record<string, unknown>;

/** Latent channels the pipeline (noise, scheduler, VAE calls) is written for. */
const LATENT_CHANNELS = 4;

export interface ModelFiles {
  textEncoder: ModelSource;
  unet: ModelSource;
  vae: ModelSource;
  /** The ControlNets in the choice's order (empty: none). */
  controlnets: ModelSource[];
  /** The first of `controlnets` (the compile worker's choice names only the one it compiles). */
  controlnet: ModelSource | null;
  tokenizer: ClipTokenizer;
  ddim: DdimConfig;
  /** LoRA modules that matched no weight (reported to the user). */
  unmatchedLoraModules: string[];
}

export interface ModelChoice {
  model: string;
  /**
   * Configs for a single-file model (key by key over what its tensors imply): a diffusers model
   * folder (unet/, text_encoder/, vae/ config.json, tokenizer/, scheduler/), a component folder
   * holding config.json, or one config.json (a UNet's unless its _class_name says otherwise).
   */
  configFrom?: string | undefined;
  vae?: string | undefined;
  loras?: readonly LoraSpec[] | undefined;
  /** One ControlNet, or several in order. */
  controlnet?: string | ControlNetSpec | readonly (string | ControlNetSpec)[] | undefined;
}

/** The choice's ControlNets as specs, in order. */
export function controlNetSpecs(controlnet: ModelChoice['controlnet']): ControlNetSpec[] {
  if (controlnet === undefined) return [];
  const list: readonly (string | ControlNetSpec)[] = Array.isArray(controlnet) ? controlnet : [controlnet as string | ControlNetSpec];
  return list.map((c) => (typeof c === 'string' ? { path: c } : c));
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
  if (!existsSync(path)) return null;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CheckpointError(`${path} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CheckpointError(`${path} is not a config object`);
  return v as Json;
}

type ConfigPart = 'unet' | 'text_encoder' | 'vae';

/** What a config source gives: component configs, and where a tokenizer / scheduler config may be. */
interface ConfigSource {
  part: (p: ConfigPart) => Json | null;
  folder: string | undefined;
}

/** The component a lone config.json describes, from diffusers' _class_name or transformers' model_type. */
function partOf(cfg: Json): ConfigPart {
  const cls = String(cfg['_class_name'] ?? '');
  const type = String(cfg['model_type'] ?? '');
  if (cls === 'AutoencoderKL') return 'vae';
  if (type.startsWith('clip') || Array.isArray(cfg['architectures'])) return 'text_encoder';
  if (cls !== '' && cls !== 'UNet2DConditionModel') throw new CheckpointError(`a ${cls} config is not a UNet, VAE or text encoder config`);
  return 'unet';
}

function configSource(from: string | undefined): ConfigSource {
  if (from === undefined) return { part: () => null, folder: undefined };
  requireExists(from, 'config');
  if (!statSync(from).isDirectory() || !existsSync(join(from, 'model_index.json')) && existsSync(join(from, 'config.json'))) {
    const file = statSync(from).isDirectory() ? join(from, 'config.json') : from;
    const cfg = readJson(file)!;
    const part = partOf(cfg);
    return { part: (p) => (p === part ? cfg : null), folder: undefined };
  }
  return { part: (p) => readJson(join(from, p, 'config.json')), folder: from };
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
  const singleFile = weights.format === 'single-file';
  const given = configSource(singleFile ? choice.configFrom : choice.model);
  const folder = given.folder;
  // A single file's config: what its tensors imply, overridden key by key by a given one.
  const config = (part: ConfigPart, map: TensorMap, infer: (s: ShapeOf) => Json): Json => {
    const cfg = given.part(part);
    return singleFile ? { ...infer(shapeOf(map)), ...(cfg ?? {}) } : cfg ?? infer(shapeOf(map));
  };

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
          ? 'It is not a standard SD 1.x checkpoint; use it with a diffusers folder that holds its tokenizer (--config).'
          : 'The tokenizer in the config folder does not belong to this text encoder.'),
    );
  }
  const schedulerJson = folder !== undefined ? readJson(join(folder, 'scheduler', 'scheduler_config.json')) : null;

  const unetCfg = config('unet', weights.unet, inferUnetConfig);
  const textCfg = config('text_encoder', weights.textEncoder, inferTextConfig);
  // A VAE override replaces weights of the same architecture: the model's VAE config describes it too.
  const vaeCfg = config('vae', weights.vae, inferVaeConfig);
  // Checked on the unmerged maps: LoRAs keep shapes, and these name the file's own keys.
  const unet = checked({ kind: 'unet', cfg: unetConfig(unetCfg) }, weights.unet, choice.model, given.part('unet'));
  const text = checked({ kind: 'text', cfg: clipTextConfig(textCfg) }, weights.textEncoder, choice.model, given.part('text_encoder'));
  const vae = checked({ kind: 'vae', cfg: vaeConfig(vaeCfg) }, weights.vae, choice.vae ?? choice.model, given.part('vae'));
  checkPipelineFits(unet, vae, choice);
  if (unet.crossAttentionDim !== text.hiddenSize) {
    throw new CheckpointError(
      `${basename(choice.model)}: the UNet attends to ${unet.crossAttentionDim}-wide text contexts (cross_attention_dim, from attn2.to_k) but the text encoder gives ${text.hiddenSize}-wide ones (hidden_size); they do not belong together.`,
    );
  }
  const controlnets = controlNetSpecs(choice.controlnet).map((spec) => {
    const src = controlNetSource(spec);
    checkControlNetFits(controlNetConfig(src.config), unet, spec.path, choice);
    return src;
  });

  return {
    unet: source(unetMap, unetCfg, `${choice.model} (UNet)`, true),
    textEncoder: source(textMap, textCfg, `${choice.model} (text encoder)`, true),
    vae: source(weights.vae, vaeCfg, `${choice.vae ?? choice.model} (VAE)`, false),
    controlnets,
    controlnet: controlnets[0] ?? null,
    tokenizer,
    ddim: schedulerJson ? ddimConfigFromJson(schedulerJson) : SD15_DDIM,
    unmatchedLoraModules: unmatched,
  };
}

/** Parses `c`'s config (UNSUPPORTED_MODEL for variants the graphs lack) and checks every tensor's shape against it. */
function checked<C extends Component>(c: C, map: TensorMap, where: string, given: Json | null): C['cfg'] {
  checkComponentShapes(c, map, { where, given });
  return c.cfg;
}

/** What the pipeline itself fixes: 4-channel latents, RGB images, an 8× VAE. */
function checkPipelineFits(unet: ReturnType<typeof unetConfig>, vae: ReturnType<typeof vaeConfig>, choice: ModelChoice): void {
  const factor = 2 ** (vae.blockOutChannels.length - 1);
  const problems = [
    unet.inChannels !== LATENT_CHANNELS || unet.outChannels !== LATENT_CHANNELS
      ? `its UNet takes ${unet.inChannels} and gives ${unet.outChannels} channels (inpainting and other variants are not supported)` : null,
    vae.latentChannels !== LATENT_CHANNELS ? `its VAE has ${vae.latentChannels} latent channels` : null,
    factor !== 8 ? `its VAE scales by ${factor} (${vae.blockOutChannels.length} blocks), not 8` : null,
    vae.inChannels !== 3 || vae.outChannels !== 3 ? `its VAE takes ${vae.inChannels} and gives ${vae.outChannels} image channels` : null,
  ].filter((p) => p !== null);
  if (problems.length > 0) {
    throw new PipelineError('UNSUPPORTED_MODEL', `${basename(choice.vae ?? choice.model)}: ${problems.join('; ')}; the pipeline runs SD 1.x/2.x-style models (4 latent channels, an 8× VAE, RGB images).`);
  }
}

/** The ControlNet's residuals are added to the UNet's skips: widths, depth and context must agree. */
function checkControlNetFits(cn: ReturnType<typeof controlNetConfig>, unet: ReturnType<typeof unetConfig>, path: string, choice: ModelChoice): void {
  const name = basename(path);
  const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  const problems = [
    !same(cn.blockOutChannels, unet.blockOutChannels) ? `block_out_channels [${cn.blockOutChannels.join(', ')}] vs the UNet's [${unet.blockOutChannels.join(', ')}]` : null,
    cn.layersPerBlock !== unet.layersPerBlock ? `layers_per_block ${cn.layersPerBlock} vs ${unet.layersPerBlock}` : null,
    cn.crossAttentionDim !== unet.crossAttentionDim ? `cross_attention_dim ${cn.crossAttentionDim} vs ${unet.crossAttentionDim}` : null,
  ].filter((p) => p !== null);
  if (problems.length > 0) {
    throw new CheckpointError(`ControlNet ${name} does not fit the model ${basename(choice.model)}: ${problems.join('; ')}. Use a ControlNet trained for this base model.`);
  }
}

function controlNetSource(spec: ControlNetSpec): ModelSource {
  const { path, configFrom } = spec;
  requireExists(path, 'ControlNet');
  let map: TensorMap;
  try {
    map = loadControlNet(path);
  } catch (err) {
    if (err instanceof CheckpointError) throw new PipelineError('UNSUPPORTED_MODEL', err.message, { cause: err });
    throw err;
  }
  const folder = configFrom ?? (statSync(path).isDirectory() ? path : undefined);
  const given = folder !== undefined ? readJson(statSync(folder).isDirectory() ? join(folder, 'config.json') : folder) : null;
  const config = given ?? inferControlNetConfig(shapeOf(map));
  checked({ kind: 'controlnet', cfg: controlNetConfig(config) }, map, path, given);
  return {
    config,
    weights: mapTensorSource(map, `${path} (ControlNet)`),
    identity: mapIdentity(map),
  };
}
