// Client side of the session worker: loads models, runs them, releases them.
// Every call is a message to the worker, so the caller's thread never blocks.
import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { providerOrder, ProviderUnavailableError } from './providers.ts';
import type { ExecutionProvider, ProviderNote, ProviderSetting } from './providers.ts';
import type { LoadResult, ProbeResult, Request, RequestBody, Response, RunResult } from './protocol.ts';
import type { HeldStats, RunFeeds, TensorData } from './tensor-data.ts';

export interface InferenceHostOptions {
  /** 'auto' tries cuda → webgpu → cpu; a provider name forces it. */
  provider?: ProviderSetting;
  /** CPU intra-op threads (0: ORT default). */
  intraOpThreads?: number;
  /** A session that moved to the next provider on its first run, and why. */
  onFallback?: (notes: ProviderNote[], model: LoadedModel) => void;
}

export interface LoadedModel {
  readonly id: number;
  readonly modelPath: string;
  /** Where it runs; changes if its first run fails and the next provider takes over. */
  provider: ExecutionProvider;
  /** Providers skipped before this one, with the reason (shown to the user). */
  readonly notes: ProviderNote[];
  readonly inputNames: string[];
  readonly outputNames: string[];
}

export class InferenceWorkerError extends Error {
  constructor(message: string, name = 'InferenceWorkerError') {
    super(message);
    this.name = name;
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

// The worker file sits next to this one, .ts when run from source, .js when built.
const workerUrl = new URL(`./session-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export class InferenceHost {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly provider: ProviderSetting;
  private readonly intraOpThreads: number;
  private readonly onFallback: InferenceHostOptions['onFallback'];
  /** Providers models load on: after a probe, the probed one and those after it. */
  private order: ExecutionProvider[];
  private nextId = 1;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(options: InferenceHostOptions = {}) {
    this.provider = options.provider ?? 'auto';
    this.intraOpThreads = options.intraOpThreads ?? 0;
    this.onFallback = options.onFallback;
    this.order = providerOrder(this.provider);
    this.worker = new Worker(workerUrl);
    this.worker.on('message', (res: Response) => this.settle(res));
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => {
      this.closed = true;
      this.failAll(new InferenceWorkerError(`inference worker exited (code ${code})`));
    });
  }

  /**
   * Which provider this host would use, what its device can do, and why the earlier ones were
   * skipped. Later loads start from that provider, so none tries again one the probe passed over.
   */
  async probe(): Promise<ProbeResult> {
    const order = providerOrder(this.provider);
    const r = (await this.call({ op: 'probe', providers: order })) as ProbeResult;
    this.order = order.slice(order.indexOf(r.provider));
    return r;
  }

  /**
   * Opens a session on the first usable provider. `deviceOutputs` stay in GPU memory where the
   * provider allows it (WebGPU): such outputs can only be kept (run's `keep`), never returned.
   */
  async load(modelPath: string, opts: { provider?: ProviderSetting; deviceOutputs?: string[] } = {}): Promise<LoadedModel> {
    const providers = opts.provider ? providerOrder(opts.provider) : this.order;
    const settings = { providers, intraOpThreads: this.intraOpThreads, ...(opts.deviceOutputs ? { deviceOutputs: opts.deviceOutputs } : {}) };
    const r = (await this.call({ op: 'load', modelPath, settings })) as LoadResult;
    return { id: r.session, modelPath, provider: r.provider, notes: r.notes, inputNames: r.inputNames, outputNames: r.outputNames };
  }

  /**
   * Runs a loaded model. Feeds may name tensors the worker holds ({ held: key }); `keep` maps
   * outputs to keys under which the worker holds them instead of returning them (replacing
   * what a key held). An abort rejects at once; the worker finishes the current run in the
   * background (ORT cannot interrupt it) and drops the result.
   */
  async run(model: LoadedModel, feeds: RunFeeds, opts: { outputs?: string[]; keep?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Record<string, TensorData>> {
    opts.signal?.throwIfAborted();
    const request = (this.call({ op: 'run', session: model.id, feeds, ...(opts.outputs ? { outputs: opts.outputs } : {}), ...(opts.keep ? { keep: opts.keep } : {}) }) as Promise<RunResult>)
      .then((r) => {
        if (r.notes && r.provider) {
          model.provider = r.provider;
          this.onFallback?.(r.notes, model);
        }
        return r.outputs;
      });
    if (!opts.signal) return request;
    const signal = opts.signal;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      request.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Releases held tensors (unknown keys are ignored). */
  async drop(keys: readonly string[]): Promise<HeldStats> {
    return (await this.call({ op: 'drop', keys: [...keys] })) as HeldStats;
  }

  /** What the worker holds; `resetPeak` starts a new peak from now. */
  async held(opts: { resetPeak?: boolean } = {}): Promise<HeldStats> {
    return (await this.call({ op: 'held', ...(opts.resetPeak ? { resetPeak: true } : {}) })) as HeldStats;
  }

  async release(model: LoadedModel): Promise<void> {
    await this.call({ op: 'release', session: model.id });
  }

  /**
   * Ends the worker and every session in it, once the runs still going in it have finished (an
   * aborted run goes on natively; ending the thread under it would abort the whole process).
   * Calls made meanwhile are refused.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    if (!this.closed) await this.send({ op: 'close' }).catch(() => undefined);
    this.closed = true;
    await this.worker.terminate();
  }

  private call(req: RequestBody): Promise<unknown> {
    if (this.closed || this.closing) return Promise.reject(new InferenceWorkerError('inference host is closed'));
    return this.send(req);
  }

  private send(req: RequestBody): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id } as Request);
    });
  }

  private settle(res: Response): void {
    const p = this.pending.get(res.id);
    if (!p) return;
    this.pending.delete(res.id);
    if (res.ok) {
      p.resolve(res.result);
    } else if (res.error.notes) {
      p.reject(new ProviderUnavailableError(res.error.notes, res.error.message));
    } else {
      p.reject(new InferenceWorkerError(res.error.message, res.error.name));
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
