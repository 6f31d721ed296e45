// Plain tensors that cross the worker boundary by structured clone.

export type TensorData =
  | { type: 'float32'; dims: number[]; data: Float32Array }
  | { type: 'float16'; dims: number[]; data: Uint16Array }
  | { type: 'int64'; dims: number[]; data: BigInt64Array }
  | { type: 'int32'; dims: number[]; data: Int32Array };

export type Feeds = Record<string, TensorData>;

export function float32(data: Float32Array, dims: number[]): TensorData {
  return { type: 'float32', dims, data };
}

export function int64(data: BigInt64Array, dims: number[]): TensorData {
  return { type: 'int64', dims, data };
}
