// What the compiler reads weights from: any name → float32 tensor map (a
// safetensors folder, a checkpoint with LoRAs merged, a test fixture).
import type { WeightTensor } from './builder.ts';
import { CodedError } from '../../errors.ts';

export interface TensorSource {
  has(name: string): boolean;
  /** Float32 copy or view of the tensor; throws MissingWeightError when absent. */
  get(name: string): WeightTensor;
  /** Number of tensors, when known (progress reporting). */
  count?: number;
}

export class MissingWeightError extends CodedError<'BAD_MODEL'> {
  readonly weight: string;
  constructor(weight: string, where: string) {
    super('BAD_MODEL', `weight "${weight}" not found in ${where}`);
    this.weight = weight;
  }
}

/** A source over an in-memory map (tests, merged weights). */
export function mapSource(tensors: Map<string, WeightTensor>, where = 'tensor map'): TensorSource {
  return {
    count: tensors.size,
    has: (name) => tensors.has(name),
    get: (name) => {
      const t = tensors.get(name);
      if (!t) throw new MissingWeightError(name, where);
      return t;
    },
  };
}

/** Names under `prefix.` (the diffusers module path), e.g. prefixed('text_model'). */
export function prefixed(source: TensorSource, prefix: string): TensorSource {
  if (!prefix) return source;
  return {
    has: (name) => source.has(`${prefix}.${name}`),
    get: (name) => source.get(`${prefix}.${name}`),
  };
}
