// What the chosen execution provider's device can do, and the precision chosen from it.
import type { FloatType } from '../graph/builder.ts';
import type { ExecutionProvider } from './providers.ts';
import type { Precision } from './precision.ts';

export interface DeviceInfo {
  provider: ExecutionProvider;
  /** For people: the adapter's name on WebGPU, else the provider. */
  name: string;
  /** A CPU implementation of a GPU API (SwiftShader). */
  software: boolean;
  /** 16-bit float kernels run here (checked by running one on WebGPU). */
  float16: boolean;
  /** Largest buffer one kernel may bind, in bytes; null where the provider has no such limit. */
  maxBindingBytes: number | null;
}

/**
 * The binding limit every WebGPU implementation must offer (the spec's default
 * maxStorageBufferBindingSize): assumed where the adapter's own cannot be read.
 */
export const WEBGPU_BASELINE_BINDING_BYTES = 128 * 1024 * 1024;

export interface PrecisionChoice {
  floatType: FloatType;
  /** One line for the user: the precision and why. */
  reason: string;
  /** Set when the request could not be honoured. */
  warning?: string;
}

/** A float type taken as given (an explicit choice, or a benchmark's forced type). */
export function asChosen(floatType: FloatType): PrecisionChoice {
  return { floatType, reason: `${floatType === 'float16' ? 'fp16' : 'fp32'} (as chosen)` };
}

export function choosePrecision(device: DeviceInfo, precision: Precision): PrecisionChoice {
  if (precision === 'fp32') return asChosen('float32');
  if (precision === 'fp16') {
    if (device.float16) return asChosen('float16');
    return {
      floatType: 'float32',
      reason: 'fp32: this GPU has no 16-bit float shaders',
      warning: `Half precision (fp16) was chosen, but ${device.name} cannot compute in 16-bit floats: using full precision (fp32).`,
    };
  }
  if (device.provider === 'cpu') return { floatType: 'float32', reason: 'fp32: the CPU computes fp16 no faster' };
  if (!device.float16) return { floatType: 'float32', reason: 'fp32: this GPU has no 16-bit float shaders' };
  return { floatType: 'float16', reason: 'fp16: supported by this GPU' };
}

/** "webgpu on google · SwiftShader driver 5.0.0 (software), fp32: …" */
export function deviceLine(device: DeviceInfo, choice: PrecisionChoice): string {
  const where = device.provider === 'webgpu' ? `webgpu on ${device.name}${device.software ? ' (software renderer)' : ''}` : device.name;
  return `${where}, ${choice.reason}`;
}
