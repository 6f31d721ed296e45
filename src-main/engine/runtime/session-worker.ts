// Worker thread owning the onnxruntime sessions: session.run blocks the thread
// it runs on, so it must never run on the app's main thread.
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { GraphBuilder } from '../graph/builder.ts';
import { openWithFallback, ProviderUnavailableError } from './providers.ts';
import type { ExecutionProvider } from './providers.ts';
import type { LoadResult, ProbeResult, Request, Response, SessionSettings } from './protocol.ts';
import type { Feeds, TensorData } from './tensor-data.ts';

const port = parentPort;
if (!port) throw new Error('session-worker must run in a worker thread');

const sessions = new Map<number, InferenceSession>();
let nextSession = 1;

function options(provider: ExecutionProvider, settings: Pick<SessionSettings, 'intraOpThreads'>): InferenceSession.SessionOptions {
  const opts: InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  if (settings.intraOpThreads > 0) opts.intraOpNumThreads = settings.intraOpThreads;
  return opts;
}

/** A one-node model: enough for a provider to prove it can start. */
function probeModel(): Uint8Array {
  const b = new GraphBuilder({ name: 'probe', floatType: 'float32', opset: [{ domain: '', version: 17 }] });
  const x = b.input('x', [1]);
  b.output(b.op1('Relu', [x]), 'y', [1]);
  return b.finish();
}

async function probe(providers: ExecutionProvider[]): Promise<ProbeResult> {
  const bytes = probeModel();
  const opened = await openWithFallback(providers, async (p) => {
    const s = await ort.InferenceSession.create(bytes, options(p, { intraOpThreads: 1 }));
    await s.run({ x: new ort.Tensor('float32', Float32Array.of(1), [1]) });
    await s.release();
  });
  return { provider: opened.provider, notes: opened.notes };
}

async function load(modelPath: string, settings: SessionSettings): Promise<LoadResult> {
  // External data (model.onnx.data) resolves relative to the model file.
  const opened = await openWithFallback(settings.providers, (p) => ort.InferenceSession.create(modelPath, options(p, settings)));
  const id = nextSession++;
  sessions.set(id, opened.value);
  return {
    session: id,
    provider: opened.provider,
    notes: opened.notes,
    inputNames: [...opened.value.inputNames],
    outputNames: [...opened.value.outputNames],
  };
}

function toOrt(t: TensorData): Tensor {
  return new ort.Tensor(t.type, t.data, t.dims);
}

function fromOrt(t: Tensor): TensorData {
  const dims = [...t.dims];
  switch (t.type) {
    case 'float32': return { type: 'float32', dims, data: t.data as Float32Array };
    case 'float16': return { type: 'float16', dims, data: t.data as Uint16Array };
    case 'int64': return { type: 'int64', dims, data: t.data as BigInt64Array };
    case 'int32': return { type: 'int32', dims, data: t.data as Int32Array };
    default: throw new Error(`unsupported output tensor type ${t.type}`);
  }
}

async function run(sessionId: number, feeds: Feeds, outputs?: string[]): Promise<Record<string, TensorData>> {
  const session = sessions.get(sessionId);
  if (!session) throw new Error(`session ${sessionId} is not loaded (released?)`);
  const ortFeeds: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(t);
  const result = outputs ? await session.run(ortFeeds, outputs) : await session.run(ortFeeds);
  const out: Record<string, TensorData> = {};
  for (const [name, t] of Object.entries(result)) out[name] = fromOrt(t);
  return out;
}

async function handle(req: Request): Promise<LoadResult | ProbeResult | Record<string, TensorData> | null> {
  switch (req.op) {
    case 'probe': return probe(req.providers);
    case 'load': return load(req.modelPath, req.settings);
    case 'run': return run(req.session, req.feeds, req.outputs);
    case 'release': {
      const s = sessions.get(req.session);
      sessions.delete(req.session);
      if (s) await s.release();
      return null;
    }
  }
}

port.on('message', (req: Request) => {
  handle(req).then(
    (result) => port.postMessage({ id: req.id, ok: true, result } satisfies Response),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      const notes = err instanceof ProviderUnavailableError ? err.notes : undefined;
      port.postMessage({ id: req.id, ok: false, error: { name: e.name, message: e.message, ...(notes ? { notes } : {}) } } satisfies Response);
    },
  );
});
