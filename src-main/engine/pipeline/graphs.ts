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

export interface Graph {
  compiled: CompiledModel;
  model: LoadedModel;
}

export interface GraphSetOptions {
  files: ModelFiles;
  /** The choice `files` was resolved from: the compile worker resolves it again on its own thread. */
  choice: ModelChoice;
  host: InferenceHost;
  provider: ExecutionProvider;
  floatType: FloatType;
  cacheDir: string;
  crossFrame: Exclude<CrossFrameLayers, 'none'>;
  /** Normalized FreeU factors (null: off), the same for every UNet variant. */
  freeu: FreeUFactors | null;
  /** Element type of the record/replace variants' contexts. */
  contextType: FloatType;
  onWarning?: ((message: string) => void) | undefined;
  onCompileProgress?: ((component: string, done: number, total: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export class GraphSet {
  private readonly opts: GraphSetOptions;
  private readonly graphs = new Map<string, Promise<Graph>>();
  private readonly warned = new Set<string>();

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

  vaeEncoder(): Promise<Graph> {
    return this.get('vae-encoder', this.opts.files.vae);
  }

  vaeDecoder(): Promise<Graph> {
    return this.get('vae-decoder', this.opts.files.vae);
  }

  controlnet(): Promise<Graph> | null {
    const src = this.opts.files.controlnet;
    return src ? this.get('controlnet', src) : null;
  }

  /**
   * The UNet with ControlNet residual inputs or not. `sources`: null, ordinary attention; 0, the
   * hooked layers also output their contexts; n > 0, they attend to n context inputs instead.
   */
  unet(residuals: boolean, sources: number | null): Promise<Graph> {
    const unet: CompiledUNetOptions = sources === null
      ? { controlnetResiduals: residuals, crossFrame: 'none', crossFrameSources: 0, contextType: 'float32', freeu: this.opts.freeu }
      : { controlnetResiduals: residuals, crossFrame: this.opts.crossFrame, crossFrameSources: sources, contextType: this.opts.contextType, freeu: this.opts.freeu };
    return this.get('unet', this.opts.files.unet, unet, `${residuals}:${sources ?? 'plain'}`);
  }

  /** Every loaded session, for release. */
  async all(): Promise<Graph[]> {
    const settled = await Promise.allSettled(this.graphs.values());
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  private get(kind: ModelKind, source: ModelSource, unet?: CompiledUNetOptions, tag = ''): Promise<Graph> {
    const key = `${kind}:${tag}`;
    let g = this.graphs.get(key);
    if (!g) {
      g = this.build(kind, source, unet);
      // A failed build is not cached: the next call retries (e.g. after an abort).
      g.catch(() => this.graphs.delete(key));
      this.graphs.set(key, g);
    }
    return g;
  }

  private async build(kind: ModelKind, source: ModelSource, unet?: CompiledUNetOptions): Promise<Graph> {
    const { host, provider, floatType, cacheDir, onCompileProgress, signal, choice } = this.opts;
    const options: CompileOptions = { kind, target: provider, floatType, ...(unet ? { unet } : {}) };
    // A cache hit is answered here; only a real build pays for a worker thread (see cachedModel).
    const compiled = cachedModel(source, options, cacheDir) ?? await compileInWorker({ choice, options, cacheDir }, {
      signal,
      onProgress: onCompileProgress ? (done: number, total: number) => onCompileProgress(kind, done, total) : undefined,
    });
    // The host's own provider setting, so a model that fails on the probed provider still falls back.
    // Attention contexts stay in GPU memory where the provider allows (they are only ever kept).
    const deviceOutputs = compiled.crossFrameLayers.map(contextOutputName);
    const model = await host.load(compiled.modelPath, deviceOutputs.length > 0 ? { deviceOutputs } : {});
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
