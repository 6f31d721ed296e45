// The float precision the engine computes in. 'auto' picks float16 where the device runs it fast
// and correctly (CUDA; a WebGPU adapter with shader-f16) and float32 elsewhere (CPU, or a WebGPU
// adapter without 16-bit floats in shaders).
export type Precision = 'auto' | 'fp16' | 'fp32';

export const PRECISIONS: readonly Precision[] = ['auto', 'fp16', 'fp32'];

export function isPrecision(value: unknown): value is Precision {
  return typeof value === 'string' && (PRECISIONS as readonly string[]).includes(value);
}
