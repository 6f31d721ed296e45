// Worker thread owning the onnxruntime sessions: session.run blocks the thread
// it runs on, so it must never run on the app's main thread.
import { existsSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { GraphBuilder } from '../graph/builder.ts';
import { DataType } from '../graph/onnx-proto.ts';
import { diagnose, fallbackNote, openWithFallback, ProviderDeclinedError, providerLabel, ProviderUnavailableError, shortReason } from './providers.ts';
import type { ExecutionProvider, ProviderNote } from './providers.ts';
import type { LoadResult, ProbeResult, Request, Response, RunResult, SessionSettings } from './protocol.ts';
import { WEBGPU_BASELINE_BINDING_BYTES } from './device.ts';
import type { DeviceInfo } from './device.ts';
import { queryWebGpuAdapter, vulkanDriverInstalled } from './webgpu-adapter.ts';
import type { HeldStats, RunFeeds, TensorData } from './tensor-data.ts';
import { HeldTensors } from './held-tensors.ts';
import { keepsOutputsOnDevice, sessionOptions } from './session-options.ts';

const port = parentPort;
if (!port) throw new Error('session-worker must run in a worker thread');

// ORT's own log would print each provider that fails to start as an error; those failures reach
// the user as provider notes with their remedy, so only fatal messages are logged.
ort.env.logLevel = 'fatal';

const sessions = new Map<number, OpenSession>();
const held = new HeldTensors();
let nextSession = 1;

/** A one-node model: enough for a provider to prove it can start. */
function probeModel(): Uint8Array {
  const b = new GraphBuilder({ name: 'probe', floatType: 'float32', opset: [{ domain: '', version: 17 }] });
  const x = b.input('x', [1]);
  b.output(b.op1('Relu', [x]), 'y', [1]);
  return b.finish();
}

/** Computes in float16 inside: a WebGPU adapter without shader-f16 refuses to run it. */
function float16ProbeModel(): Uint8Array {
  const b = new GraphBuilder({ name: 'probe-f16', floatType: 'float16', opset: [{ domain: '', version: 17 }] });
  const x = b.input('x', [2]);
  const half = b.op1('Cast', [x], { to: { i: DataType.FLOAT16 } });
  const y = b.op1('Mul', [half, b.constFloat([2, 3], [2])]);
  b.output(b.op1('Cast', [y], { to: { i: DataType.FLOAT } }), 'y', [2]);
  return b.finish();
}

async function runsOn(bytes: Uint8Array, provider: ExecutionProvider, x: Float32Array): Promise<Float32Array> {
  // Fatal only: a failure here is an answer (e.g. no fp16 shaders), not an error to print.
  const s = await ort.InferenceSession.create(bytes, { ...sessionOptions(provider, { intraOpThreads: 1 }), logSeverityLevel: 4 });
  try {
    const out = await s.run({ x: new ort.Tensor('float32', x, [x.length]) });
    return out['y']!.data as Float32Array;
  } finally {
    await s.release();
  }
}

async function deviceOf(provider: ExecutionProvider, forced: boolean): Promise<DeviceInfo> {
  requireDriver(provider);
  if (provider !== 'webgpu') {
    await runsOn(probeModel(), provider, Float32Array.of(1));
    return { provider, name: provider === 'cpu' ? 'cpu' : 'cuda', software: false, float16: true, maxBindingBytes: null };
  }
  const query = await queryWebGpuAdapter();
  const adapter = query.adapter;
  if (adapter?.software && !forced) {
    throw new ProviderDeclinedError(`only a software renderer (${adapter.name}) was found, slower than the CPU`);
  }
  await runsOn(probeModel(), provider, Float32Array.of(1));
  // The adapter's feature list says what Dawn offers; whether ORT's kernels run is what counts.
  const y = await runsOn(float16ProbeModel(), provider, Float32Array.of(1, 1)).catch(() => null);
  const float16 = y !== null && y[0] === 2 && y[1] === 3;
  const limits = adapter ? Math.min(adapter.maxStorageBufferBindingSize, adapter.maxBufferSize) : WEBGPU_BASELINE_BINDING_BYTES;
  return { provider, name: adapter?.name ?? 'an unnamed WebGPU adapter', software: adapter?.software ?? false, float16, maxBindingBytes: limits };
}

/**
 * Fails, worded as onnxruntime words it, where the provider's driver is surely absent:
 * - CUDA needs an NVIDIA GPU. Where none can be present (macOS) or the kernel driver shows none
 *   (Linux), the note then says so rather than advise installing CUDA on a machine without one.
 * - WebGPU without a Vulkan driver (Linux): Dawn would print loader warnings before failing.
 */
function requireDriver(provider: ExecutionProvider): void {
  if (provider === 'cuda') {
    const none = process.platform === 'darwin' || (process.platform === 'linux' && !existsSync('/dev/nvidia0') && !existsSync('/proc/driver/nvidia/version'));
    if (none) throw new Error('no CUDA-capable device is detected');
  }
  if (provider === 'webgpu' && !vulkanDriverInstalled()) throw new Error('Failed to get a WebGPU adapter: no Vulkan driver is installed');
}

async function probe(providers: ExecutionProvider[]): Promise<ProbeResult> {
  const forced = providers.length === 1;
  const opened = await openWithFallback(providers, (p) => deviceOf(p, forced));
  return { provider: opened.provider, notes: opened.notes, device: opened.value };
}

interface OpenSession {
  session: InferenceSession;
  modelPath: string;
  settings: SessionSettings;
  /** Index in settings.providers of the provider it runs on. */
  at: number;
  /** Until a run succeeds, a failure moves the session to the next provider. */
  proven: boolean;
  /** Runs not yet settled: a session is released only after them (see 'release'). */
  running: Set<Promise<RunResult>>;
}

async function load(modelPath: string, settings: SessionSettings): Promise<LoadResult> {
  // External data (model.onnx.data) resolves relative to the model file.
  const opened = await openWithFallback(settings.providers, async (p) => {
    requireDriver(p);
    return ort.InferenceSession.create(modelPath, sessionOptions(p, settings));
  });
  const id = nextSession++;
  sessions.set(id, { session: opened.value, modelPath, settings, at: settings.providers.indexOf(opened.provider), proven: false, running: new Set() });
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

function hasDeviceOutputs(open: OpenSession): boolean {
  return keepsOutputsOnDevice(open.settings.providers[open.at]!, open.settings);
}

/** Identity graphs on WebGPU by element type and rank: their outputs come back in host memory. */
const downloaders = new Map<string, Promise<InferenceSession>>();

function identityModel(type: 'float32' | 'float16', rank: number): Uint8Array {
  const b = new GraphBuilder({ name: 'download', floatType: 'float32', opset: [{ domain: '', version: 17 }] });
  const dims = Array.from({ length: rank }, (_, i) => `d${i}`);
  const elem = type === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
  b.output(b.op1('Identity', [b.input('x', dims, elem)]), 'y', dims, elem);
  return b.finish();
}

/**
 * A tensor in GPU memory copied to host memory. The binding's own download (Tensor.getData) aborts
 * the process in onnxruntime-node 1.30, so an identity run on the same device does the copy.
 */
async function download(t: Tensor): Promise<Tensor> {
  if (t.type !== 'float32' && t.type !== 'float16') throw new Error(`cannot copy a ${t.type} tensor from GPU memory`);
  const key = `${t.type}:${t.dims.length}`;
  let session = downloaders.get(key);
  if (!session) {
    session = ort.InferenceSession.create(identityModel(t.type, t.dims.length), sessionOptions('webgpu', { intraOpThreads: 1 }));
    downloaders.set(key, session);
    session.catch(() => downloaders.delete(key));
  }
  const out = await (await session).run({ x: t });
  t.dispose();
  return out['y']!;
}

/** An output as plain data; one the session left in GPU memory is copied to host memory first. */
async function fromOrt(given: Tensor): Promise<TensorData> {
  const t = given.location === 'cpu' ? given : await download(given);
  const dims = [...t.dims];
  switch (t.type) {
    case 'float32': return { type: 'float32', dims, data: t.data as Float32Array };
    case 'float16': return { type: 'float16', dims, data: float16Bits(t) };
    case 'int64': return { type: 'int64', dims, data: t.data as BigInt64Array };
    case 'int32': return { type: 'int32', dims, data: t.data as Int32Array };
    default: throw new Error(`unsupported output tensor type ${t.type}`);
  }
}

async function run(sessionId: number, feeds: RunFeeds, outputs?: string[], keep?: Record<string, string>): Promise<RunResult> {
  const open = sessions.get(sessionId);
  if (!open) throw new Error(`session ${sessionId} is not loaded (released?)`);
  // Held feeds are acquired for the run's length, so a drop meanwhile cannot free them under it.
  const reading: Tensor[] = [];
  try {
    const ortFeeds: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      if ('held' in t) {
        const h = held.acquire(t.held);
        reading.push(h);
        ortFeeds[name] = heldFeed(h);
      } else {
        ortFeeds[name] = toOrt(t);
      }
    }
    const work = runOn(open, ortFeeds, outputs, keep);
    open.running.add(work);
    try {
      return await work;
    } finally {
      open.running.delete(work);
    }
  } finally {
    for (const h of reading) held.release(h);
  }
}

async function runOn(open: OpenSession, ortFeeds: Record<string, Tensor>, outputs?: string[], keep?: Record<string, string>): Promise<RunResult> {
  const kept = keep ?? {};
  const wanted = outputs ? new Set([...outputs, ...Object.keys(kept)]) : null;
  const notes: ProviderNote[] = [];
  let result: InferenceSession.OnnxValueMapType;
  for (;;) {
    try {
      // onnxruntime-node 1.30 pairs the preferred output locations with the fetched outputs by
      // position, so a session that leaves some outputs in GPU memory must fetch all of them
      // (unasked ones are released below); others fetch only what is asked.
      const fetch = wanted && !hasDeviceOutputs(open) ? [...wanted] : null;
      result = fetch ? await open.session.run(ortFeeds, fetch) : await open.session.run(ortFeeds);
      break;
    } catch (err) {
      const provider = open.settings.providers[open.at]!;
      const next = open.settings.providers[open.at + 1];
      // A provider that opens but cannot run this graph (a missing kernel, a limit) fails on its
      // first run: the next provider takes the session over. Later failures are the run's own.
      if (open.proven || !next) throw new ProviderUnavailableError([...notes, fallbackNote(provider, err, undefined)], `The model failed while running on ${providerLabel(provider)}: ${diagnose(provider, shortReason(err)).what}.`);
      notes.push(fallbackNote(provider, err, next));
      await open.session.release().catch(() => undefined);
      // The next provider that opens the model takes over; one that cannot open it is noted too.
      const rest = open.settings.providers.slice(open.at + 1);
      const reopened = await openWithFallback(rest, (p) => ort.InferenceSession.create(open.modelPath, sessionOptions(p, open.settings))).catch((e: unknown) => {
        throw e instanceof ProviderUnavailableError ? new ProviderUnavailableError([...notes, ...e.notes]) : e;
      });
      notes.push(...reopened.notes);
      open.session = reopened.value;
      open.at = open.settings.providers.indexOf(reopened.provider);
    }
  }
  open.proven = true;
  const out: Record<string, TensorData> = {};
  for (const [name, t] of Object.entries(result)) {
    const key = kept[name];
    if (key !== undefined) held.set(key, t);
    else if (wanted && !wanted.has(name)) t.dispose();
    else out[name] = await fromOrt(t);
  }
  return notes.length > 0 ? { outputs: out, notes, provider: open.settings.providers[open.at]! } : { outputs: out };
}

async function handle(req: Request): Promise<LoadResult | ProbeResult | RunResult | HeldStats | null> {
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
      if (s) await releaseSession(s);
      return null;
    }
    case 'close': return closeAll();
  }
}

/**
 * onnxruntime-node aborts the whole process when a session is released, or the thread ends, under
 * a call still running natively; a caller's abort does not stop that call (ORT cannot interrupt a
 * run). So a session is released only once its runs have settled.
 */
async function releaseSession(s: OpenSession): Promise<void> {
  await Promise.allSettled([...s.running]);
  await s.session.release();
}

/** Every other request settled, then every session and helper session released: the thread may end. */
async function closeAll(): Promise<null> {
  await Promise.allSettled([...inflight]);
  const open = [...sessions.values()];
  sessions.clear();
  await Promise.allSettled(open.map(releaseSession));
  const helpers = [...downloaders.values()];
  downloaders.clear();
  await Promise.allSettled(helpers.map(async (h) => (await h).release()));
  held.clear();
  return null;
}

/** Requests being handled, for 'close' to wait on. */
const inflight = new Set<Promise<unknown>>();

port.on('message', (req: Request) => {
  const work = handle(req);
  if (req.op !== 'close') {
    inflight.add(work);
    void work.finally(() => inflight.delete(work)).catch(() => undefined);
  }
  work.then(
    (result) => port.postMessage({ id: req.id, ok: true, result } satisfies Response),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      const notes = err instanceof ProviderUnavailableError ? err.notes : undefined;
      port.postMessage({ id: req.id, ok: false, error: { name: e.name, message: e.message, ...(notes ? { notes } : {}) } } satisfies Response);
    },
  );
});
