// Compiles one graph in a worker thread, so the services' event loop keeps serving
// requests during a first compile (about 70 s for a full SD 1.5 UNet).
import { Worker } from 'node:worker_threads';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodedError } from '../../errors.ts';
import { cacheKey, compileModel, COMPILER_VERSION } from '../graph/compile.ts';
import type { CompiledModel, CompileOptions, ModelSource } from '../graph/compile.ts';
import type { ModelChoice } from './model-files.ts';
import type { ControlNetSpec } from './types.ts';

// The entry file sits next to this one, .ts when run from source, .js when built.
const entryUrl = new URL(`./compile-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** What crosses to the worker: plain data only (a ModelSource holds lazy tensor readers). */
export interface CompileJob {
  choice: ModelChoice;
  options: CompileOptions;
  cacheDir: string;
}

export type CompileThreadMessage =
  | { type: 'key'; key: string }
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; compiled: CompiledModel }
  | { type: 'error'; error: { name: string; message: string; code?: string | undefined } };

export interface CompileInWorkerHooks {
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

function plainControlNet(c: NonNullable<ModelChoice['controlnet']>): NonNullable<ModelChoice['controlnet']> {
  const one = (x: string | ControlNetSpec): string | ControlNetSpec => (typeof x === 'string' ? x : { ...x });
  return Array.isArray(c) ? (c as readonly (string | ControlNetSpec)[]).map(one) : one(c as string | ControlNetSpec);
}

/** The plain fields of a model choice, free of anything a worker cannot receive (callbacks, signals). */
export function plainChoice(choice: ModelChoice): ModelChoice {
  const { model, configFrom, vae, loras, controlnet } = choice;
  return {
    model,
    ...(configFrom !== undefined ? { configFrom } : {}),
    ...(vae !== undefined ? { vae } : {}),
    ...(loras !== undefined ? { loras: loras.map((l) => ({ ...l })) } : {}),
    ...(controlnet !== undefined ? { controlnet: plainControlNet(controlnet) } : {}),
  };
}

/**
 * The cached graph for `source` under `options`, or null when it must be compiled. Checked
 * on the calling thread because a worker start (loading the compiler's modules, reopening
 * the weights: about 0.2 s on the test machine) costs far more than a hit (a few ms); the same test compileModel makes, so a non-null
 * answer means compileModel returns at once without building.
 */
export function cachedModel(source: ModelSource, options: CompileOptions, cacheDir: string): CompiledModel | null {
  const dir = join(cacheDir, cacheKey(source, options));
  const infoPath = join(dir, 'info.json');
  if (!existsSync(infoPath) || !existsSync(join(dir, 'model.onnx'))) return null;
  try {
    const info = JSON.parse(readFileSync(infoPath, 'utf8')) as { compiler?: unknown };
    if (info.compiler !== COMPILER_VERSION) return null;
  } catch {
    return null; // unreadable info: let the worker rebuild the entry
  }
  return compileModel(source, options, cacheDir);
}

/** Rebuilds a worker's error on this side, keeping a CodedError's code (the IPC/CLI contract). */
export function rebuildError(e: { name: string; message: string; code?: string | undefined }): Error {
  const err = e.code !== undefined ? new CodedError(e.code, e.message) : new Error(e.message);
  err.name = e.name;
  return err;
}

/**
 * Compiles `job` in a fresh worker thread. An abort terminates the worker (the build cannot
 * be interrupted otherwise) and rejects with the signal's reason, an AbortError by default.
 */
export function compileInWorker(job: CompileJob, hooks: CompileInWorkerHooks = {}): Promise<CompiledModel> {
  const { signal, onProgress } = hooks;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  const started = Date.now();
  return new Promise<CompiledModel>((resolve, reject) => {
    const worker = new Worker(entryUrl, { workerData: { ...job, choice: plainChoice(job.choice) } satisfies CompileJob });
    let settled = false;
    let key: string | null = null;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const onAbort = (): void => {
      finish(() => {
        const reason = signal?.reason as Error;
        // A terminated build leaves its temporary folder behind (the compiler's own cleanup never
        // runs); the finished entry only appears by an atomic rename, so nothing half-written remains.
        void worker.terminate().then(() => removeStaleTemp(job.cacheDir, key, started)).then(() => reject(reason), () => reject(reason));
      });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (msg: CompileThreadMessage) => {
      if (msg.type === 'key') {
        key = msg.key;
      } else if (msg.type === 'progress') {
        if (!settled) onProgress?.(msg.done, msg.total);
      } else if (msg.type === 'done') {
        finish(() => resolve(msg.compiled));
      } else {
        finish(() => reject(rebuildError(msg.error)));
      }
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`compile worker exited (code ${code}) without a result`))));
  });
}

/** Removes the temporary build folders (`<key>.tmp-<pid>-<ms>`) this process started for `key` since `since`. */
function removeStaleTemp(cacheDir: string, key: string | null, since: number): void {
  if (key === null || !existsSync(cacheDir)) return; // killed before it chose a key: nothing written
  const prefix = `${key}.tmp-${process.pid}-`;
  for (const name of readdirSync(cacheDir)) {
    if (!name.startsWith(prefix)) continue;
    const stamp = Number(name.slice(prefix.length));
    if (Number.isFinite(stamp) && stamp >= since) rmSync(join(cacheDir, name), { recursive: true, force: true });
  }
}
