// A weights file (safetensors or PyTorch checkpoint, engine/weights readers) as a compiler
// TensorSource: index read once, tensors read lazily as the graph builder asks for them.
import { readTensorFloat32 } from '../weights/safetensors.ts';
import { readWeightsIndex } from '../weights/tensor-file.ts';
import type { WeightTensor } from './builder.ts';
import { MissingWeightError } from './tensor-source.ts';
import type { TensorSource } from './tensor-source.ts';

export function safetensorsSource(path: string): TensorSource {
  const header = readWeightsIndex(path);
  return {
    count: header.tensors.size,
    has: (name) => header.tensors.has(name),
    get: (name): WeightTensor => {
      const info = header.tensors.get(name);
      if (!info) throw new MissingWeightError(name, path);
      return { dims: [...info.shape], data: readTensorFloat32(path, info) };
    },
  };
}
