// Streams a set of float tensors to a safetensors file one tensor at a time, so a multi-GB
// random UNet never sits in memory whole (engine/weights' writeSafetensors takes them all at once).
import { closeSync, openSync, writeSync } from 'node:fs';
import { float32ToF16Bits } from '../../src-main/engine/weights/safetensors.ts';

export interface TensorProducer {
  /** Name → shape, in file order. */
  shapes: ReadonlyMap<string, readonly number[]>;
  /** The tensor's values (length = product of its shape). */
  get(name: string): Float32Array;
}

/** Writes the tensors as F32, or as F16 (converted one tensor at a time). */
export function writeFloatSafetensors(path: string, producer: TensorProducer, dtype: 'F32' | 'F16' = 'F32'): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const width = dtype === 'F16' ? 2 : 4;
  let offset = 0;
  for (const [name, shape] of producer.shapes) {
    const bytes = shape.reduce((a, b) => a * b, 1) * width;
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // data starts 8-byte aligned
  const head = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, head);
    for (const [name, shape] of producer.shapes) {
      const data = producer.get(name);
      const want = shape.reduce((a, b) => a * b, 1);
      if (data.length !== want) throw new Error(`${name}: ${data.length} values for shape ${JSON.stringify(shape)}`);
      const out = dtype === 'F16' ? float32ToF16Bits(data) : data;
      writeSync(fd, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}
