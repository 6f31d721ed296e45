// Worker thread owning the onnxruntime sessions: session.run blocks the thread
// it runs on, so it must never run on the app's main thread.
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { GraphBuilder } from '../graph/builder.ts';
import { openWithFallback, ProviderUnavailableError } from './providers.ts';
import type { ExecutionProvider } from './providers.ts';
import type { LoadResult, ProbeResult, Request, Response, SessionSettings } from './protocol.ts';
import type { HeldStats, RunFeeds, TensorData } from './tensor-data.ts';
import { HeldTensors } from './held-tensors.ts';
import { sessionOptions } from './session-options.ts';

const port = parentPort;
if (!port) throw new Error('session-worker must run in a worker thread');

// ORT's own log would print each provider that fails to start as an error; those failures reach
// the user as provider notes with their remedy, so only fatal messages are logged.
ort.env.logLevel = 'fatal';

const sessions = new Map<number, InferenceSession>();
const held = new HeldTensors();
let nextSession = 1;

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
    const s = await ort.InferenceSession.create(bytes, sessionOptions(p, { intraOpThreads: 1 }));
    await s.run({ x: new ort.Tensor('float32', Float32Array.of(1), [1]) });
    await s.release();
  });
  return { provider: opened.provider, notes: opened.notes };
}

async function load(modelPath: string, settings: SessionSettings): Promise<LoadResult> {
  // External data (model.onnx.data) resolves relative to the model file.
  const opened = await openWithFallback(settings.providers, (p) => ort.InferenceSession.create(modelPath, sessionOptions(p, settings)));
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
  return t.type === 'float16' ? float16Feed(t.data, t.dims) : new ort.Tensor(t.type, t.data, t.dims);
}

/**
 * A float16 feed the binding can read. Where the runtime has Float16Array (Node ≥ 24), ort.Tensor
 * stores float16 data as one, which this binding reads as zero bytes; it takes the raw bits as a
 * Uint16Array, and session.run accepts any tensor-shaped object.
 */
function float16Feed(bits: Uint16Array, dims: readonly number[]): Tensor {
  return { type: 'float16', dims: [...dims], data: bits, location: 'cpu', size: bits.length } as unknown as Tensor;
}

/** The raw bits of a float16 output, which ORT hands out as a Float16Array where the runtime has one. */
function float16Bits(t: Tensor): Uint16Array {
  const d = t.data as unknown as ArrayBufferView;
  return new Uint16Array(d.buffer, d.byteOffset, d.byteLength / 2);
}

/** A held tensor as a feed (float16 as its raw bits; see float16Feed). */
function heldFeed(t: Tensor): Tensor {
  return t.type === 'float16' && t.location === 'cpu' ? float16Feed(float16Bits(t), t.dims) : t;
}

function fromOrt(name: string, t: Tensor): TensorData {
  if (t.location !== 'cpu') throw new Error(`output ${name} is in GPU memory: it can be kept in the worker, not returned`);
  const dims = [...t.dims];
  switch (t.type) {
    case 'float32': return { type: 'float32', dims, data: t.data as Float32Array };
    case 'float16': return { type: 'float16', dims, data: float16Bits(t) };
    case 'int64': return { type: 'int64', dims, data: t.data as BigInt64Array };
    case 'int32': return { type: 'int32', dims, data: t.data as Int32Array };
    default: throw new Error(`unsupported output tensor type ${t.type}`);
  }
}

async function run(sessionId: number, feeds: RunFeeds, outputs?: string[], keep?: Record<string, string>): Promise<Record<string, TensorData>> {
  const session = sessions.get(sessionId);
  if (!session) throw new Error(`session ${sessionId} is not loaded (released?)`);
  const ortFeeds: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = 'held' in t ? heldFeed(held.get(t.held)) : toOrt(t);
  const kept = keep ?? {};
  const fetch = outputs ? [...new Set([...outputs, ...Object.keys(kept)])] : null;
  const result = fetch ? await session.run(ortFeeds, fetch) : await session.run(ortFeeds);
  const out: Record<string, TensorData> = {};
  for (const [name, t] of Object.entries(result)) {
    const key = kept[name];
    if (key !== undefined) held.set(key, t);
    else out[name] = fromOrt(name, t);
  }
  return out;
}

async function handle(req: Request): Promise<LoadResult | ProbeResult | Record<string, TensorData> | HeldStats | null> {
  switch (req.op) {
    case 'probe': return probe(req.providers);
    case 'load': return load(req.modelPath, req.settings);
    case 'run': return run(req.session, req.feeds, req.outputs, req.keep);
    case 'drop':
      for (const key of req.keys) held.drop(key);
      return held.stats();
    case 'held': return held.stats(req.resetPeak);
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
