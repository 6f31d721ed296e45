// Messages between InferenceHost (any thread) and the session worker.
import type { HeldStats, RunFeeds, TensorData } from './tensor-data.ts';
import type { ExecutionProvider, ProviderNote } from './providers.ts';
import type { DeviceInfo } from './device.ts';

export interface SessionSettings {
  /** Providers to try, in order. */
  providers: ExecutionProvider[];
  /** Threads for the CPU provider's intra-op pool (0: ORT's default). */
  intraOpThreads: number;
  /** Outputs to leave in GPU memory where the provider can (WebGPU); they can only be kept, not returned. */
  deviceOutputs?: string[];
}

export type Request =
  | { id: number; op: 'probe'; providers: ExecutionProvider[] }
  | { id: number; op: 'load'; modelPath: string; settings: SessionSettings }
  | { id: number; op: 'run'; session: number; feeds: RunFeeds; outputs?: string[]; keep?: Record<string, string> }
  | { id: number; op: 'release'; session: number }
  | { id: number; op: 'drop'; keys: string[] }
  | { id: number; op: 'held'; resetPeak?: boolean }
  /** Waits for every other request, then releases everything: the worker may then be ended. */
  | { id: number; op: 'close' };

/** A request before the host numbers it. */
export type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface LoadResult {
  session: number;
  provider: ExecutionProvider;
  notes: ProviderNote[];
  inputNames: string[];
  outputNames: string[];
}

export interface ProbeResult {
  provider: ExecutionProvider;
  notes: ProviderNote[];
  device: DeviceInfo;
}

export interface RunResult {
  outputs: Record<string, TensorData>;
  /** Set when the session moved to another provider during this run (its first). */
  notes?: ProviderNote[];
  provider?: ExecutionProvider;
}

export type Response =
  | { id: number; ok: true; result: LoadResult | ProbeResult | RunResult | HeldStats | null }
  | { id: number; ok: false; error: { name: string; message: string; notes?: ProviderNote[] } };
