// Compiles (into the cache) and loads each graph the first time a run needs it;
// UNet variants differ by ControlNet residual inputs and attention hooks.
import type { CompiledModel, CompileOptions, ModelKind, ModelSource, Target } from '../graph/compile.ts';
import type { FloatType } from '../graph/builder.ts';
import { contextOutputName } from '../graph/unet.ts';
import type { CrossFrameLayers } from '../graph/unet.ts';
import type { FreeUFactors } from '../graph/freeu.ts';
import type { InferenceHost, LoadedModel } from '../runtime/inference-host.ts';
import type { ExecutionProvider } from '../runtime/providers.ts';
import type { ModelChoice, ModelFiles } from './model-files.ts';
import { cachedModel, compileInWorker } from './compile-worker.ts';
import type { ControlNetSpec } from './types.ts';
import { unetAttentionChunks, vaeAttentionChunks } from '../graph/attention-budget.ts';

export interface Graph {
  compiled: CompiledModel;
  model: LoadedModel;
}

export interface GraphSetOptions {
  files: ModelFiles;
  /**
   * The choice `files` was resolved from, without its ControlNets: the compile worker resolves
   * it again on its own thread, given only the ControlNet it compiles.
   */
  choice: ModelChoice;
  /** The ControlNets of `files.controlnets`, in the same order. */
  controlnets: readonly ControlNetSpec[];
  host: InferenceHost;
  provider: ExecutionProvider;
  floatType: FloatType;
  cacheDir: string;
  crossFrame: Exclude<CrossFrameLayers, 'none'>;
  /** Normalized FreeU factors (null: off), the same for every UNet variant. */
  freeu: FreeUFactors | null;
  /** Element type of the record/replace variants' contexts. */
  contextType: FloatType;
  /** The device's largest buffer binding (null: no limit): attention is split to fit it. */
  maxBindingBytes: number | null;
  onWarning?: ((message: string) => void) | undefined;
  onCompileProgress?: ((component: string, done: number, total: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Latent height and width (image size / 8). */
export type LatentSize = readonly [number, number];

/** 512×512, assumed by calls that do not depend on the size (e.g. listing the hooked layers). */
const DEFAULT_LATENT: LatentSize = [64, 64];

export class GraphSet {
  private readonly opts: GraphSetOptions;
  private readonly graphs = new Map<string, Promise<Graph>>();
  private readonly warned = new Set<string>();
  private lastLatent: LatentSize = DEFAULT_LATENT;
  /** Time spent compiling (cache lookups included) and creating sessions, summed over graphs. */
  readonly timing = { compileMs: 0, loadMs: 0 };

  constructor(opts: GraphSetOptions) {
    this.opts = opts;
  }

  get target(): Target {
    return this.opts.provider;
  }

  get freeu(): FreeUFactors | null {
    return this.opts.freeu;
  }

  get contextType(): FloatType {
    return this.opts.contextType;
  }

  textEncoder(): Promise<Graph> {
    return this.get('text-encoder', this.opts.files.textEncoder);
  }

  vaeEncoder(latent: LatentSize): Promise<Graph> {
    return this.get('vae-encoder', this.opts.files.vae, vaeAttentionChunks(...latent, this.opts.maxBindingBytes));
  }

  vaeDecoder(latent: LatentSize): Promise<Graph> {
    return this.get('vae-decoder', this.opts.files.vae, vaeAttentionChunks(...latent, this.opts.maxBindingBytes));
  }

  /** The `index`th ControlNet (null: there is no such ControlNet). */
  controlnet(latent: LatentSize, index = 0): Promise<Graph> | null {
    const src = this.opts.files.controlnets[index];
    const spec = this.opts.controlnets[index];
    if (!src || !spec) return null;
    const choice: ModelChoice = { ...this.opts.choice, controlnet: { ...spec } };
    return this.get('controlnet', src, unetAttentionChunks('controlnet', src.config, ...latent, 0, this.opts.maxBindingBytes), String(index), undefined, choice);
  }

  /**
   * The UNet with ControlNet residual inputs or not. `sources`: null, ordinary attention; 0, the
   * hooked layers also output their contexts; n > 0, they attend to n context inputs instead.
   */
  unet(residuals: boolean, sources: number | null, latent?: LatentSize): Promise<Graph> {
    if (latent) this.lastLatent = latent;
    const chunks = unetAttentionChunks('unet', this.opts.files.unet.config, ...this.lastLatent, sources ?? 0, this.opts.maxBindingBytes);
    const unet: CompiledUNetOptions = sources === null
      ? { controlnetResiduals: residuals, crossFrame: 'none', crossFrameSources: 0, contextType: 'float32', freeu: this.opts.freeu }
      : { controlnetResiduals: residuals, crossFrame: this.opts.crossFrame, crossFrameSources: sources, contextType: this.opts.contextType, freeu: this.opts.freeu };
    return this.get('unet', this.opts.files.unet, chunks, `${residuals}:${sources ?? 'plain'}`, unet);
  }


  /** Every loaded session, for release. */
  async all(): Promise<Graph[]> {
    const settled = await Promise.allSettled(this.graphs.values());
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  /** `chunks`: attention query slices per level (empty: unsplit), see attention-budget.ts. */
  private get(kind: ModelKind, source: ModelSource, chunks: readonly number[] = [], tag = '', unet?: CompiledUNetOptions, choice = this.opts.choice): Promise<Graph> {
    const key = `${kind}:${tag}:${chunks.join(',')}`;
    let g = this.graphs.get(key);
    if (!g) {
      g = this.build(kind, source, chunks, choice, unet);
      // A failed build is not cached: the next call retries (e.g. after an abort).
      g.catch(() => this.graphs.delete(key));
      this.graphs.set(key, g);
    }
    return g;
  }

  private async build(kind: ModelKind, source: ModelSource, chunks: readonly number[], choice: ModelChoice, unet?: CompiledUNetOptions): Promise<Graph> {
    const { host, provider, floatType, cacheDir, onCompileProgress, signal } = this.opts;
    const options: CompileOptions = { kind, target: provider, floatType, ...(chunks.length > 0 ? { ops: { attentionChunks: chunks } } : {}), ...(unet ? { unet } : {}) };
    const started = performance.now();
    // A cache hit is answered here; only a real build pays for a worker thread (see cachedModel).
    const compiled = cachedModel(source, options, cacheDir) ?? await compileInWorker({ choice, options, cacheDir }, {
      signal,
      onProgress: onCompileProgress ? (done: number, total: number) => onCompileProgress(kind, done, total) : undefined,
    });
    const compiledAt = performance.now();
    this.timing.compileMs += compiledAt - started;
    // The providers from the probed one on, so a model that fails on it still falls back.
    // Attention contexts stay in GPU memory where the provider allows (they are only ever kept).
    const deviceOutputs = compiled.crossFrameLayers.map(contextOutputName);
    const model = await host.load(compiled.modelPath, deviceOutputs.length > 0 ? { deviceOutputs } : {});
    this.timing.loadMs += performance.now() - compiledAt;
    for (const n of model.notes) this.warnOnce(n.message);
    return { compiled, model };
  }

  /** Passes a warning on, once per distinct message. */
  warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.opts.onWarning?.(message);
  }
}

interface CompiledUNetOptions {
  controlnetResiduals: boolean;
  crossFrame: CrossFrameLayers;
  crossFrameSources: number;
  contextType: FloatType;
  freeu: FreeUFactors | null;
}
