// Plain tensors that cross the worker boundary by structured clone.

export type TensorData =
  | { type: 'float32'; dims: number[]; data: Float32Array }
  | { type: 'float16'; dims: number[]; data: Uint16Array }
  | { type: 'int64'; dims: number[]; data: BigInt64Array }
  | { type: 'int32'; dims: number[]; data: Int32Array };

export type Feeds = Record<string, TensorData>;

/** A tensor the worker holds (see InferenceHost.run's `keep`), fed by name without crossing threads. */
export interface HeldRef {
  held: string;
}

export type RunFeeds = Record<string, TensorData | HeldRef>;

/** What the worker holds: bytes now, the most since the last reset, and where they live. */
export interface HeldStats {
  count: number;
  bytes: number;
  peakBytes: number;
  /** Bytes of held tensors in GPU memory (WebGPU buffers); the rest is host memory. */
  deviceBytes: number;
  peakDeviceBytes: number;
}

export function float32(data: Float32Array, dims: number[]): TensorData {
  return { type: 'float32', dims, data };
}

export function int64(data: BigInt64Array, dims: number[]): TensorData {
  return { type: 'int64', dims, data };
}
