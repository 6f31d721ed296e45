// One entry point for every weights file: safetensors or a PyTorch checkpoint (zip or legacy
// torch.save layout), told apart by their first bytes, never by the extension, so a renamed file
// still reads. All give the same index (tensor name -> dtype, shape, byte range), read with
// readTensorFloat32 / readTensorBytes from safetensors.ts.
import fs from 'node:fs';
import { readSafetensorsHeader, SafetensorsError, type SafetensorsHeader } from './safetensors.ts';
import { readTorchIndex } from './pickle/torch.ts';

export type WeightsFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

/** The format from the first bytes; null when it is none of them (the safetensors reader words why). */
export function sniffWeightsFormat(path: string): WeightsFormat | null {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 9));
    fs.readSync(fd, head, 0, head.length, 0);
    // safetensors: u64 header length that fits the file, then the JSON header's '{'
    if (head.length === 9 && head.readBigUInt64LE(0) <= BigInt(size - 8) && head[8] === 0x7b) return 'safetensors';
    if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'torch-zip';
    // legacy torch.save: a binary pickle (PROTO 2..5) holding torch's magic number
    if (head.length >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) return 'torch-legacy';
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads the tensor index of a safetensors file or PyTorch checkpoint; a bad file is BAD_MODEL. */
export function readWeightsIndex(path: string): SafetensorsHeader {
  let format: WeightsFormat | null;
  try {
    format = sniffWeightsFormat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') throw new SafetensorsError(path, code === 'ENOENT' ? 'file not found' : 'is a folder, not a weights file');
    throw e;
  }
  if (format === 'torch-zip') return readTorchIndex(path, 'zip');
  if (format === 'torch-legacy') return readTorchIndex(path, 'legacy');
  return readSafetensorsHeader(path);
}
