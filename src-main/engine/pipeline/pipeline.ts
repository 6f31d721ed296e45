// Stable Diffusion 1.x (+ ControlNet) sampling with DDIM and classifier-free
// guidance, over compiled ONNX graphs run in the inference worker. The step
// hooks let the Rerender key-frame algorithm steer x̂0, x_{t-1} and self-attention.
import { InferenceHost } from '../runtime/inference-host.ts';
import type { ExecutionProvider, ProviderNote } from '../runtime/providers.ts';
import type { ProbeResult } from '../runtime/protocol.ts';
import { asChosen, choosePrecision, deviceLine } from '../runtime/device.ts';
import type { DeviceInfo, PrecisionChoice } from '../runtime/device.ts';
import { isPrecision, PRECISIONS } from '../runtime/precision.ts';
import type { Feeds, HeldStats, RunFeeds, TensorData } from '../runtime/tensor-data.ts';
import type { FloatType } from '../graph/builder.ts';
import { FreeUOptionError, normalizeFreeU } from '../graph/freeu.ts';
import type { FreeUFactors } from '../graph/freeu.ts';
import { CONTEXT_OUTPUT_PREFIX, contextInputName, contextOutputName } from '../graph/unet.ts';
import { fromHalf } from '../half.ts';
import { classifierFreeGuidance, DdimScheduler, ddimTimesteps, img2imgTimesteps } from '../scheduler/ddim.ts';
import { gaussianNoise } from '../scheduler/noise.ts';
import { ProgressTracker, throwIfAborted } from '../../jobs/progress.ts';
import { invalid } from './errors.ts';
import { GraphSet } from './graphs.ts';
import { plainChoice } from './compile-worker.ts';
import type { Graph } from './graphs.ts';
import { controlNetSpecs, resolveModelFiles } from './model-files.ts';
import type { ModelFiles } from './model-files.ts';
import { promptIds } from './prompt.ts';
import type {
  AttentionControl, ControlInput, ControlInputs, ControlNetSpec, DenoiseRequest, GenerateRequest, GenerateResult, PipelineOptions, PromptOptions, StepInfo,
  StepPosition, Tensor, TextEmbeddings,
} from './types.ts';
import { CONTROL_TYPES } from './types.ts';

const LATENT_CHANNELS = 4;
/** The UNet halves the latent three times, so image sides must divide by 8·8. */
const SIZE_MULTIPLE = 64;
/** VAE sampling draws from its own stream so it never repeats the starting noise. */
const VAE_SEED_OFFSET = 0x9e3779b9;

function f32(data: Float32Array, dims: number[]): TensorData {
  return { type: 'float32', dims, data };
}

function asF32(t: TensorData | undefined, what: string): Float32Array {
  if (!t || t.type !== 'float32') throw new Error(`graph output ${what} missing or not float32`);
  return t.data;
}

function checkSize(width: number, height: number): void {
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < SIZE_MULTIPLE || v % SIZE_MULTIPLE !== 0) throw invalid(`${name} must be a positive multiple of ${SIZE_MULTIPLE}, got ${v}`);
  }
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw invalid(`seed must be an integer in 0..4294967295, got ${seed}`);
}

function checkedFreeU(f: FreeUFactors | null | undefined): FreeUFactors | null {
  try {
    return normalizeFreeU(f);
  } catch (err) {
    if (err instanceof FreeUOptionError) throw invalid(err.message);
    throw err;
  }
}

/** The ControlNets of the options, checked (type, scale) before anything is read. */
function checkedControlNets(controlnet: PipelineOptions['controlnet']): ControlNetSpec[] {
  const specs = controlNetSpecs(controlnet);
  for (const [i, spec] of specs.entries()) {
    const what = specs.length > 1 ? `ControlNet ${i + 1} (${spec.path})` : `ControlNet ${spec.path}`;
    if (typeof spec.path !== 'string' || spec.path === '') throw invalid(`ControlNet ${i + 1}: path must be a non-empty string`);
    if (spec.type !== undefined && !CONTROL_TYPES.includes(spec.type)) throw invalid(`${what}: type must be one of ${CONTROL_TYPES.join(', ')}, got ${String(spec.type)}`);
    if (spec.scale !== undefined && !Number.isFinite(spec.scale)) throw invalid(`${what}: scale must be a finite number`);
  }
  return specs;
}

function duplicate(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length * 2);
  out.set(data, 0);
  out.set(data, data.length);
  return out;
}

export class StableDiffusionPipeline {
  readonly provider: ExecutionProvider;
  /** Providers skipped before `provider`, and why. */
  readonly notes: readonly ProviderNote[];
  readonly floatType: FloatType;
  /** What the provider's device can do (name, fp16 support, binding limit). */
  readonly device: DeviceInfo;
  /** One line for the user: where it runs and in which precision, and why. */
  readonly deviceLine: string;
  readonly hasControlNet: boolean;
  /** ControlNets run at each step (their residuals summed); a control request gives one input per ControlNet. */
  readonly controlnetCount: number;
  /** FreeU factors compiled into the UNet (null: off). */
  readonly freeu: FreeUFactors | null;
  /** Element type of the attention contexts (compiled into the record/replace UNets). */
  readonly contextType: FloatType;
  /** The contexts' type as loaded: float32 replaces float16 on a device without 16-bit floats. */
  readonly contextTypeAsked: FloatType;
  private readonly files: ModelFiles;
  private readonly controlnets: readonly ControlNetSpec[];
  /** Keys of contexts kept in the worker (AttentionControl.keep), so a bad source fails up front. */
  private readonly kept = new Set<string>();
  private readonly host: InferenceHost;
  private readonly graphs: GraphSet;
  private readonly onWarning: ((message: string) => void) | undefined;

  private constructor(files: ModelFiles, controlnets: readonly ControlNetSpec[], host: InferenceHost, graphs: GraphSet, probe: ProbeResult, precision: PrecisionChoice, contextTypeAsked: FloatType, onWarning?: (m: string) => void) {
    this.files = files;
    this.controlnets = controlnets;
    this.host = host;
    this.graphs = graphs;
    this.provider = probe.provider;
    this.notes = probe.notes;
    this.device = probe.device;
    this.floatType = precision.floatType;
    this.deviceLine = deviceLine(probe.device, precision);
    this.controlnetCount = files.controlnets.length;
    this.hasControlNet = this.controlnetCount > 0;
    this.freeu = graphs.freeu;
    this.contextType = graphs.contextType;
    this.contextTypeAsked = contextTypeAsked;
    this.onWarning = onWarning;
  }

  /** Reads the model's weights (lazily) and starts the inference worker; graphs compile on first use. */
  static async load(options: PipelineOptions): Promise<StableDiffusionPipeline> {
    if (!options.cacheDir) throw invalid('cacheDir is required');
    for (const l of options.loras ?? []) {
      if (!Number.isFinite(l.weight)) throw invalid(`LoRA ${l.path}: weight must be a finite number`);
    }
    const freeu = checkedFreeU(options.freeu);
    const contextType = options.contextType ?? 'float16';
    if (contextType !== 'float16' && contextType !== 'float32') throw invalid(`contextType must be float16 or float32, got ${String(contextType)}`);
    const controlnets = checkedControlNets(options.controlnet);
    const files = resolveModelFiles({ ...options, controlnet: controlnets });
    if (files.unmatchedLoraModules.length > 0) {
      options.onWarning?.(`${files.unmatchedLoraModules.length} LoRA module(s) match no weight of the model and are ignored (e.g. ${files.unmatchedLoraModules[0]!})`);
    }
    const precision = options.precision ?? 'auto';
    if (!isPrecision(precision)) throw invalid(`precision must be one of ${PRECISIONS.join(', ')}, got ${String(precision)}`);
    let graphs: GraphSet | null = null;
    const host = new InferenceHost({
      provider: options.provider ?? 'auto',
      intraOpThreads: options.intraOpThreads ?? 0,
      // A session whose first run failed moved on to the next provider: said once per reason.
      onFallback: (notes) => { for (const n of notes) graphs?.warnOnce(n.message); },
    });
    try {
      const probe = await host.probe();
      const chosen: PrecisionChoice = options.floatType ? asChosen(options.floatType) : choosePrecision(probe.device, precision);
      // Contexts pass through float16 casts inside the graph, which such a device cannot run.
      const keptContextType = probe.device.float16 ? contextType : 'float32';
      graphs = new GraphSet({
        files, choice: plainChoice({ ...options, controlnet: undefined }), controlnets, host, provider: probe.provider, floatType: chosen.floatType, cacheDir: options.cacheDir, crossFrame: options.crossFrame ?? 'decoder-loose', freeu, contextType: keptContextType,
        maxBindingBytes: probe.device.maxBindingBytes, onWarning: options.onWarning, onCompileProgress: options.onCompileProgress, signal: options.signal,
      });
      // Through the graph set, so each graph's load, which tries the providers again, does not repeat them.
      for (const n of probe.notes) graphs.warnOnce(n.message);
      if (chosen.warning) graphs.warnOnce(chosen.warning);
      return new StableDiffusionPipeline(files, controlnets, host, graphs, probe, chosen, contextType, options.onWarning);
    } catch (err) {
      await host.close();
      throw err;
    }
  }

  /** DDIM for this model's scheduler config with `steps` steps (alphas, addNoise, step). */
  scheduler(steps: number): DdimScheduler {
    return new DdimScheduler(steps, this.files.ddim);
  }

  /** Timesteps a run evaluates: the whole schedule, or img2img's last ⌊steps·strength⌋. */
  timesteps(steps: number, strength?: number): number[] {
    return strength === undefined ? ddimTimesteps(steps, this.files.ddim) : img2imgTimesteps(steps, strength, this.files.ddim);
  }

  /** Seeded latent noise [1, 4, H/8, W/8], the same on every platform. */
  noise(seed: number, width: number, height: number): Float32Array {
    checkSeed(seed);
    return gaussianNoise(seed, LATENT_CHANNELS * (width / 8) * (height / 8));
  }

  /**
   * Compiles and loads, ahead of the first step, every graph a run at this size uses: the text
   * encoder, the VAE both ways, the ControlNet, and the UNet plain and for each count of
   * cross-frame sources (0 records contexts). Returns the time spent compiling and loading so far.
   */
  async prepare(opts: { width: number; height: number; crossFrameSources?: readonly number[] }): Promise<{ compileMs: number; loadMs: number }> {
    checkSize(opts.width, opts.height);
    const latent = [opts.height / 8, opts.width / 8] as const;
    const residuals = this.hasControlNet;
    // One at a time: a full-size graph's compile holds its weights in memory.
    const steps: (() => Promise<unknown> | null)[] = [
      () => this.graphs.textEncoder(), () => this.graphs.vaeEncoder(latent), () => this.graphs.vaeDecoder(latent),
      ...this.controlnets.map((_, i) => () => this.graphs.controlnet(latent, i)),
      () => this.graphs.unet(residuals, null, latent), ...(opts.crossFrameSources ?? []).map((n) => () => this.graphs.unet(residuals, n, latent)),
    ];
    for (const step of steps) await step();
    return { ...this.graphs.timing };
  }

  /** attn1 layers hooked by the record/replace UNet variants (compiles the record variant). */
  async crossFrameLayers(): Promise<string[]> {
    return [...(await this.graphs.unet(this.hasControlNet, 0)).compiled.crossFrameLayers];
  }

  /** Releases contexts kept under these keys (AttentionControl.keep); unknown keys are ignored. */
  async dropContexts(keys: readonly string[]): Promise<HeldStats> {
    const layers = keys.length > 0 ? await this.crossFrameLayers() : [];
    for (const k of keys) this.kept.delete(k);
    return this.host.drop(keys.flatMap((k) => layers.map((l) => heldKey(k, l))));
  }

  /** Memory of kept contexts: now, the peak (since `resetPeak`), and how much is in GPU memory. */
  contextMemory(opts: { resetPeak?: boolean } = {}): Promise<HeldStats> {
    return this.host.held(opts);
  }

  /** Text conditioning for CFG: row 0 the negative prompt, row 1 the prompt. */
  async encodePrompt(opts: PromptOptions, signal?: AbortSignal): Promise<TextEmbeddings> {
    const ids = promptIds(this.files.tokenizer, opts, this.onWarning);
    const all = [...ids.negative, ...ids.positive];
    const flat = BigInt64Array.from(all.flat(), (v) => BigInt(v));
    const g = await this.graphs.textEncoder();
    const out = await this.host.run(g.model, { input_ids: { type: 'int64', dims: [all.length, 77], data: flat } }, signal ? { signal } : {});
    const hidden = out['last_hidden_state'];
    const data = asF32(hidden, 'last_hidden_state');
    const channels = hidden!.dims[2]!;
    // [2k, 77, C] with row-major chunks is already [2, 77k, C]: negative chunks first, then the prompt's.
    return { hidden: { data, dims: [2, 77 * ids.positive.length, channels] }, truncated: ids.truncated };
  }

  /** E(x): latents (× scaling factor) of `image` [1, 3, H, W] in [-1, 1]: the VAE mean, or a seeded sample. */
  async encodeImage(image: Tensor, opts: { mode?: 'mean' | 'sample'; seed?: number; signal?: AbortSignal } = {}): Promise<Float32Array> {
    const [b, c, h, w] = image.dims;
    if (image.dims.length !== 4 || b !== 1 || c !== 3 || !h || !w || h % 8 || w % 8) throw invalid(`image must be [1, 3, H, W] with H, W multiples of 8, got [${image.dims.join(', ')}]`);
    if (image.data.length !== 3 * h * w) throw invalid('image data does not match its dims');
    const g = await this.graphs.vaeEncoder([h / 8, w / 8]);
    const out = await this.host.run(g.model, { image: f32(image.data, image.dims) }, opts.signal ? { signal: opts.signal } : {});
    const moments = asF32(out['moments'], 'moments');
    const n = LATENT_CHANNELS * (h / 8) * (w / 8);
    const scale = g.compiled.scalingFactor ?? 0.18215;
    const latents = new Float32Array(n);
    const sample = (opts.mode ?? 'mean') === 'sample';
    let eps: Float32Array | null = null;
    if (sample) {
      const seed = opts.seed ?? 0;
      checkSeed(seed);
      eps = gaussianNoise((seed + VAE_SEED_OFFSET) >>> 0, n);
    }
    for (let i = 0; i < n; i++) {
      let v = moments[i]!;
      if (eps) {
        const logvar = Math.min(20, Math.max(-30, moments[n + i]!));
        v += Math.exp(0.5 * logvar) * eps[i]!;
      }
      latents[i] = v * scale;
    }
    return latents;
  }

  /** D(z): image [1, 3, H, W] in about [-1, 1] from UNet-space latents. */
  async decodeLatents(latents: Float32Array, width: number, height: number, signal?: AbortSignal): Promise<Tensor> {
    const dims = [1, LATENT_CHANNELS, height / 8, width / 8];
    if (!Number.isInteger(dims[2]) || !Number.isInteger(dims[3]) || latents.length !== LATENT_CHANNELS * (width / 8) * (height / 8)) {
      throw invalid(`latents of ${latents.length} values do not fit a ${width}×${height} image`);
    }
    const g = await this.graphs.vaeDecoder([height / 8, width / 8]);
    const out = await this.host.run(g.model, { latents: f32(latents, dims) }, signal ? { signal } : {});
    const image = out['image'];
    return { data: asF32(image, 'image'), dims: [...image!.dims] };
  }

  /** The sampling loop: from `latents` over `timesteps`, with the step hooks. Returns the final latents. */
  async denoise(req: DenoiseRequest): Promise<Float32Array> {
    checkSize(req.width, req.height);
    const lh = req.height / 8;
    const lw = req.width / 8;
    const n = LATENT_CHANNELS * lh * lw;
    if (req.latents.length !== n) throw invalid(`latents have ${req.latents.length} values; ${n} expected for ${req.width}×${req.height}`);
    if (req.text.hidden.dims[0] !== 2) throw invalid('text embeddings must hold the CFG pair [negative, prompt]');
    const sched = this.scheduler(req.steps);
    const guidance = req.guidance ?? 7.5;
    const control = req.control ? await this.controlFeeds(req.control, req.width, req.height) : null;
    const full = sched.timesteps;
    const stride = Math.floor(sched.cfg.numTrainTimesteps / req.steps);
    const tracker = new ProgressTracker({ stage: 'denoise', total: req.timesteps.length, ...(req.onProgress ? { onProgress: req.onProgress } : {}) });
    const latentDims = [2, LATENT_CHANNELS, lh, lw];
    const ehs = f32(req.text.hidden.data, req.text.hidden.dims);
    const runOpts = req.signal ? { signal: req.signal } : {};

    let x: Float32Array = Float32Array.from(req.latents);
    for (let index = 0; index < req.timesteps.length; index++) {
      throwIfAborted(req.signal);
      const t = req.timesteps[index]!;
      const at = full.indexOf(t);
      const pos: StepPosition = { index, step: at >= 0 ? at : index, total: req.timesteps.length, t, tPrev: t - stride };
      const attention = req.attention?.(pos) ?? null;
      const sources = this.checkedSources(attention);
      const hooked = sources.length > 0 || attention?.record === true || attention?.keep !== undefined;
      const unet = await this.graphs.unet(control !== null, hooked ? sources.length : null, [lh, lw]);
      const common: Feeds = { sample: f32(duplicate(x), latentDims), timestep: f32(Float32Array.of(t), [1]), encoder_hidden_states: ehs };
      let feeds: RunFeeds = { ...common };
      if (control) feeds = { ...feeds, ...(await this.controlResiduals(control, common, runOpts)) };
      const layers = unet.compiled.crossFrameLayers;
      for (const layer of sources.length > 0 ? layers : []) {
        sources.forEach((key, k) => { feeds[contextInputName(k, layer)] = { held: heldKey(key, layer) }; });
      }
      const contextOutputs = layers.map(contextOutputName);
      const keep = attention?.keep;
      const out = await this.host.run(unet.model, feeds, {
        ...runOpts,
        outputs: ['noise_pred', ...(attention?.record ? contextOutputs : [])],
        ...(keep !== undefined ? { keep: Object.fromEntries(layers.map((l, i) => [contextOutputs[i]!, heldKey(keep, l)])) } : {}),
      });
      if (keep !== undefined) this.kept.add(keep);
      const pred = asF32(out['noise_pred'], 'noise_pred');
      const eps = classifierFreeGuidance(pred.subarray(0, n), pred.subarray(n, 2 * n), guidance);
      const contexts = attention?.record ? contextsOf(out) : null;

      const sa = Math.sqrt(sched.alphaAt(t));
      const sb = Math.sqrt(1 - sched.alphaAt(t));
      const x0 = new Float32Array(n);
      for (let i = 0; i < n; i++) x0[i] = (x[i]! - sb * eps[i]!) / sa;
      const sap = Math.sqrt(sched.alphaPrev(t));
      const sbp = Math.sqrt(1 - sched.alphaPrev(t));
      const update = (pred0: Float32Array): Float32Array => {
        if (pred0.length !== n) throw invalid(`x0 has ${pred0.length} values; ${n} expected`);
        const next = new Float32Array(n);
        for (let i = 0; i < n; i++) next[i] = sap * pred0[i]! + sbp * eps[i]!;
        return next;
      };
      const info: StepInfo = { ...pos, latents: x, eps, x0, contexts, update };
      const override = (await req.onStep?.(info)) ?? undefined;
      if (override?.latents) {
        if (override.latents.length !== n) throw invalid(`onStep returned latents of ${override.latents.length} values; ${n} expected`);
        x = Float32Array.from(override.latents);
      } else {
        x = update(override?.x0 ?? x0);
      }
      tracker.advance();
    }
    return x;
  }

  /** txt2img, or img2img with `init`; ControlNet with `control`. */
  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const width = req.width ?? 512;
    const height = req.height ?? 512;
    checkSize(width, height);
    const steps = req.steps ?? 20;
    const seed = req.seed ?? 0;
    checkSeed(seed);
    if (req.guidance !== undefined && !Number.isFinite(req.guidance)) throw invalid('guidance must be a finite number');
    const n = LATENT_CHANNELS * (width / 8) * (height / 8);
    const noise = req.noise ?? this.noise(seed, width, height);
    if (noise.length !== n) throw invalid(`noise has ${noise.length} values; ${n} expected for ${width}×${height}`);
    const sched = this.scheduler(steps);
    let timesteps: number[];
    let latents: Float32Array;
    if (req.init) {
      const [, , h, w] = req.init.image.dims;
      if (h !== height || w !== width) throw invalid(`init image is ${w}×${h}; the output is ${width}×${height}`);
      if (!(req.init.strength > 0 && req.init.strength <= 1)) throw invalid(`strength must be in (0, 1], got ${req.init.strength}`);
      timesteps = this.timesteps(steps, req.init.strength);
      if (timesteps.length === 0) throw invalid(`strength ${req.init.strength} with ${steps} steps leaves no denoising step; raise --strength or --steps`);
      const x0 = await this.encodeImage(req.init.image, { mode: req.init.encode ?? 'sample', seed, ...(req.signal ? { signal: req.signal } : {}) });
      latents = sched.addNoise(x0, noise, timesteps[0]!);
    } else {
      timesteps = this.timesteps(steps);
      latents = Float32Array.from(noise);
    }
    const text = await this.encodePrompt(req, req.signal);
    const final = await this.denoise({
      text, latents, width, height, steps, timesteps, guidance: req.guidance ?? 7.5, control: req.control ?? null,
      ...(req.attention ? { attention: req.attention } : {}),
      ...(req.onStep ? { onStep: req.onStep } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    });
    const image = await this.decodeLatents(final, width, height, req.signal);
    return { latents: final, image, timesteps };
  }

  private checkedSources(attention: AttentionControl | null | void): readonly string[] {
    const sources = attention?.sources ?? [];
    if (attention?.sources && sources.length === 0) throw invalid('attention sources must name at least one kept context');
    for (const key of sources) {
      if (!this.kept.has(key)) throw invalid(`attention source "${key}" names no kept contexts (keep them first; dropped ones are gone)`);
    }
    return sources;
  }

  /** Releases every session and stops the worker. */
  async close(): Promise<void> {
    try {
      for (const g of await this.graphs.all()) await this.host.release(g.model).catch(() => undefined);
    } finally {
      await this.host.close();
    }
  }

  /** One ControlNet graph and its fixed feeds (image, scale) per ControlNet, checked before any step. */
  private async controlFeeds(control: ControlInputs, width: number, height: number): Promise<ControlRun[]> {
    if (this.controlnetCount === 0) throw invalid('a control image was given but the pipeline has no ControlNet');
    const inputs: readonly ControlInput[] = Array.isArray(control) ? control : [control as ControlInput];
    if (inputs.length !== this.controlnetCount) {
      throw invalid(`${inputs.length} control input(s) were given for ${this.controlnetCount} ControlNets; give one per ControlNet, in order`);
    }
    const which = (i: number): string => (this.controlnetCount > 1 ? ` ${i + 1}` : '');
    const checked = inputs.map((input, i) => {
      const dims = input?.image?.dims ?? [];
      const [b, c, h, w] = dims;
      if (dims.length !== 4 || b !== 1 || c !== 3 || h !== height || w !== width || input.image.data?.length !== 3 * width * height) {
        throw invalid(`control image${which(i)} must be [1, 3, ${height}, ${width}], got [${dims.join(', ')}]`);
      }
      const scale = input.scale ?? this.controlnets[i]?.scale ?? 1;
      if (!Number.isFinite(scale)) throw invalid(`control scale${which(i)} must be a finite number`);
      return { input, scale };
    });
    const runs: ControlRun[] = [];
    for (const [i, { input, scale }] of checked.entries()) {
      runs.push({
        graph: await this.graphs.controlnet([height / 8, width / 8], i)!,
        feeds: {
          controlnet_cond: f32(duplicate(input.image.data), [2, 3, height, width]),
          conditioning_scale: f32(Float32Array.of(scale), [1]),
        },
      });
    }
    return runs;
  }

  /**
   * The UNet's residual feeds for one step: each ControlNet scales its own in-graph; several are
   * summed in order, as diffusers' MultiControlNetModel does (a single one passes through as is).
   */
  private async controlResiduals(runs: readonly ControlRun[], common: Feeds, runOpts: { signal?: AbortSignal }): Promise<Record<string, TensorData>> {
    let sum: Record<string, TensorData> | null = null;
    for (const run of runs) {
      const res = await this.host.run(run.graph.model, { ...common, ...run.feeds }, runOpts);
      if (!sum) {
        sum = runs.length === 1 ? res : Object.fromEntries(Object.entries(res).map(([k, t]) => [k, f32(Float32Array.from(asF32(t, k)), [...t.dims])]));
        continue;
      }
      for (const [name, t] of Object.entries(sum)) {
        const acc = asF32(t, name);
        const add = asF32(res[name], name);
        if (add.length !== acc.length) throw new Error(`ControlNet residual ${name} differs in size between ControlNets`);
        for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + add[i]!;
      }
    }
    return sum ?? {};
  }
}

interface ControlRun {
  graph: Graph;
  feeds: Feeds;
}

/** Worker key of one layer's kept context. */
function heldKey(key: string, layer: string): string {
  return `ctx:${key}:${layer}`;
}

function contextsOf(out: Record<string, TensorData>): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  for (const [name, t] of Object.entries(out)) {
    if (!name.startsWith(CONTEXT_OUTPUT_PREFIX)) continue;
    const data = t.type === 'float32' ? t.data : t.type === 'float16' ? fromHalf(t.data) : null;
    if (data) m.set(name.slice(CONTEXT_OUTPUT_PREFIX.length), { data, dims: [...t.dims] });
  }
  return m;
}
