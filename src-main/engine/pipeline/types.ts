// Public types of the diffusion pipeline: the run request, its hooks (used by the
// Rerender key-frame algorithm) and the tensors they exchange.
import type { Progress } from '../../jobs/progress.ts';
import type { ProviderNote, ProviderSetting } from '../runtime/providers.ts';
import type { Precision } from '../runtime/precision.ts';
import type { CrossFrameLayers } from '../graph/unet.ts';
import type { FloatType } from '../graph/builder.ts';
import type { FreeUFactors } from '../graph/freeu.ts';
import type { DdimScheduler } from '../scheduler/ddim.ts';
import type { HeldStats } from '../runtime/tensor-data.ts';

/** A float tensor in C order (NCHW for images and latents, [B, tokens, C] for contexts). */
export interface Tensor {
  data: Float32Array;
  dims: number[];
}

export interface LoraSpec {
  path: string;
  /** Strength, e.g. 0.7 (0 leaves the model unchanged). */
  weight: number;
}

/** What a ControlNet was trained on, i.e. which preprocessor makes its control map ('raw': none). */
export type ControlType = 'canny' | 'hed' | 'softedge' | 'depth' | 'lineart' | 'scribble' | 'raw';

export const CONTROL_TYPES: readonly ControlType[] = ['canny', 'hed', 'softedge', 'depth', 'lineart', 'scribble', 'raw'];

export interface ControlNetSpec {
  /** diffusers folder or file, or a single-file LDM ControlNet (.safetensors). */
  path: string;
  /** Folder with the ControlNet's config.json (single files only; else inferred as SD 1.5). */
  configFrom?: string;
  /** For callers choosing the preprocessor; the pipeline itself only checks it. */
  type?: ControlType;
  /** Conditioning scale used when the ControlInput gives none. Default 1. */
  scale?: number;
}

export interface PipelineOptions {
  /** diffusers folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/) or single-file .safetensors. */
  model: string;
  /**
   * For a single-file model: a diffusers folder whose component config.json files, tokenizer
   * and scheduler config are used (else SD 1.5 configs with widths inferred from the weights,
   * CLIP's tokenizer from assets/clip, and SD 1.5's DDIM settings).
   */
  configFrom?: string;
  /** A VAE replacing the model's (LDM or diffusers naming). */
  vae?: string;
  /** LoRAs merged into the UNet and text encoder in memory (files are never modified). */
  loras?: readonly LoraSpec[];
  /**
   * One ControlNet, or several in order (diffusers' MultiControlNetModel: each one's residuals
   * times its scale, summed, then added in the UNet).
   */
  controlnet?: string | ControlNetSpec | readonly (string | ControlNetSpec)[];
  /** Where compiled ONNX graphs are cached (reused across runs). */
  cacheDir: string;
  /** 'auto' tries cuda → webgpu → cpu. Default 'auto'. */
  provider?: ProviderSetting;
  /**
   * 'auto' (default): fp16 on CUDA and on a WebGPU adapter that runs 16-bit float shaders, else fp32.
   * 'fp16' on a device without fp16 runs fp32, with a warning.
   */
  precision?: Precision;
  /** Forces the graphs' float type, whatever the device (benchmarks and tests). Overrides `precision`. */
  floatType?: FloatType;
  /** Self-attention layers the record/replace UNet variants hook. Default 'decoder-loose'. */
  crossFrame?: Exclude<CrossFrameLayers, 'none'>;
  /**
   * FreeU factors compiled into every UNet variant (diffusers' enable_freeu: b1/s1 in up block 0,
   * b2/s2 in up block 1). null, absent or all 1: off.
   */
  freeu?: FreeUFactors | null;
  /**
   * Element type of the attention contexts the record/replace UNet variants output and take
   * (compiled in). Default float16: half the memory of float32 for every stored frame.
   */
  contextType?: FloatType;
  /** CPU intra-op threads (0: ORT default). */
  intraOpThreads?: number;
  /** Provider fallbacks and dropped prompt tokens, for the user. */
  onWarning?: (message: string) => void;
  /** Graph compilation (weights written / expected) per component. */
  onCompileProgress?: (component: string, done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Text conditioning for classifier-free guidance: batch row 0 = negative, row 1 = prompt. */
export type { FreeUFactors, HeldStats };

export interface TextEmbeddings {
  /** [2, 77·chunks, C]. */
  hidden: Tensor;
  /** True when the prompt was cut to 75 tokens (longPrompt 'truncate'). */
  truncated: boolean;
}

export interface PromptOptions {
  prompt: string;
  negative?: string;
  /** 'chunk' (default): 75-token pieces encoded apart and concatenated, as A1111 does. */
  longPrompt?: 'chunk' | 'truncate';
}

/**
 * Self-attention context use for one UNet evaluation (both CFG rows). Contexts are kept in the
 * inference worker (on WebGPU in GPU memory) under caller-chosen keys and fed back by key, so
 * the hundreds of megabytes a frame stores never cross threads.
 */
export interface AttentionControl {
  /**
   * Return this step's attn1 contexts in StepInfo.contexts (for inspection and tests). Not on
   * WebGPU, where contexts stay in GPU memory: use `keep` there.
   */
  record?: boolean;
  /** Keep this step's contexts under this key until dropContexts([key]) (a key in use is replaced). */
  keep?: string;
  /**
   * Keys of kept contexts: every hooked layer attends to their concatenation along the tokens
   * instead of to itself (Rerender: [anchor, previous]). Needs `crossFrameLayers()`' layers kept.
   */
  sources?: readonly string[] | null;
}

export interface StepPosition {
  /** 0-based index in this run's timesteps. */
  index: number;
  /** 0-based index in the full `steps` schedule (img2img starts part-way). */
  step: number;
  /** Timesteps this run evaluates. */
  total: number;
  /** DDIM timestep evaluated now (e.g. 951). */
  t: number;
  /** The timestep the update lands on (t − 1000/steps; may be negative on the last step). */
  tPrev: number;
}

export interface StepInfo extends StepPosition {
  /** x_t, [1, 4, h, w]. */
  latents: Float32Array;
  /** Guided ε = ε_u + g·(ε_c − ε_u). */
  eps: Float32Array;
  /** Predicted clean latent x̂0 = (x_t − √(1−ᾱ_t)·ε)/√ᾱ_t. */
  x0: Float32Array;
  /** attn1 contexts per layer ([2, h·w, C], as float32) when AttentionControl.record was set. */
  contexts: ReadonlyMap<string, Tensor> | null;
  /** The DDIM update x_{t-1} = √ᾱ_prev·x0 + √(1−ᾱ_prev)·ε for any x0 (ε of this step). */
  update(x0: Float32Array): Float32Array;
}

/**
 * What a step hook may change: `x0` replaces the prediction before the DDIM update;
 * `latents` replaces x_{t-1} after it (wins over x0).
 */
export interface StepOverride {
  x0?: Float32Array;
  latents?: Float32Array;
}

export interface StepHooks {
  /** Called before each UNet evaluation; says which attention variant runs. */
  attention?: (pos: StepPosition) => AttentionControl | null | undefined | void;
  /** Called after each guided prediction, before the DDIM update. */
  onStep?: (info: StepInfo) => StepOverride | void | Promise<StepOverride | void>;
}

export interface ControlInput {
  /** [1, 3, H, W] in [0, 1] at the output size. */
  image: Tensor;
  /** ControlNet conditioning scale. Default: its ControlNetSpec's scale, else 1. */
  scale?: number;
}

/** One ControlInput per ControlNet in PipelineOptions.controlnet's order (a lone one for a single ControlNet). */
export type ControlInputs = ControlInput | readonly ControlInput[];

export interface DenoiseRequest extends StepHooks {
  text: TextEmbeddings;
  /** Starting latents x_{t0}, [1, 4, H/8, W/8]. */
  latents: Float32Array;
  width: number;
  height: number;
  /** Full schedule length (DDIM steps). */
  steps: number;
  /** Timesteps to run: a tail of the full schedule (all of it for txt2img). */
  timesteps: readonly number[];
  /** Classifier-free guidance scale. Default 7.5. */
  guidance?: number;
  control?: ControlInputs | null;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface GenerateRequest extends StepHooks, PromptOptions {
  width?: number;
  height?: number;
  /** DDIM steps. Default 20. */
  steps?: number;
  guidance?: number;
  /** Seed of the starting noise (and of VAE sampling). Default 0. */
  seed?: number;
  /** Starting noise [1, 4, H/8, W/8] instead of the seeded one (references supply theirs). */
  noise?: Float32Array;
  /** img2img: the init image [1, 3, H, W] in [-1, 1]. */
  init?: { image: Tensor; strength: number; encode?: 'mean' | 'sample' } | null;
  control?: ControlInputs | null;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface GenerateResult {
  /** Final latents [1, 4, H/8, W/8]. */
  latents: Float32Array;
  /** Decoded image [1, 3, H, W] in about [-1, 1] (unclamped). */
  image: Tensor;
  /** Timesteps that ran. */
  timesteps: number[];
}

export interface PipelineInfo {
  provider: string;
  notes: ProviderNote[];
  floatType: FloatType;
  /** The DDIM schedule factory for this model's scheduler config. */
  scheduler(steps: number): DdimScheduler;
}
