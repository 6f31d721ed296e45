// Worker entry for compile-worker.ts: resolves the model choice on this thread (lazy
// tensors cannot cross threads), compiles one component and posts the result back.
import { parentPort, workerData } from 'node:worker_threads';
import { cacheKey, compileModel } from '../graph/compile.ts';
import type { ModelKind, ModelSource } from '../graph/compile.ts';
import { PipelineError } from './errors.ts';
import { resolveModelFiles } from './model-files.ts';
import type { ModelFiles } from './model-files.ts';
import type { CompileJob, CompileThreadMessage } from './compile-worker.ts';

function component(files: ModelFiles, kind: ModelKind): ModelSource {
  switch (kind) {
    case 'text-encoder': return files.textEncoder;
    case 'unet': return files.unet;
    case 'vae-encoder':
    case 'vae-decoder': return files.vae;
    case 'controlnet':
      if (!files.controlnet) throw new PipelineError('MODEL_MISSING', 'no ControlNet was chosen for this model');
      return files.controlnet;
  }
}

const post = (msg: CompileThreadMessage): void => parentPort!.postMessage(msg);
const job = workerData as CompileJob;
try {
  const source = component(resolveModelFiles(job.choice), job.options.kind);
  post({ type: 'key', key: cacheKey(source, job.options) });
  const compiled = compileModel(source, job.options, job.cacheDir, { onProgress: (done, total) => post({ type: 'progress', done, total }) });
  post({ type: 'done', compiled });
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  post({ type: 'error', error: { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) } });
}
