// Source frames travel as raw RGB compressed with zstd at a fast level: lossless like PNG, but
// several times quicker to make on the owner, whose uploads must keep many workers fed.
import { promisify } from 'node:util';
import { constants, zstdCompress, zstdDecompress } from 'node:zlib';
import type { ZstdOptions } from 'node:zlib';
import { FarmError } from './errors.ts';

const compress = promisify(zstdCompress) as (b: Uint8Array, o: ZstdOptions) => Promise<Buffer>;
const decompress = promisify(zstdDecompress) as (b: Uint8Array, o: ZstdOptions) => Promise<Buffer>;

export function packFrame(rgb: Uint8Array): Promise<Buffer> {
  return compress(rgb, { params: { [constants.ZSTD_c_compressionLevel]: 3 } });
}

/** The frame's bytes, which must be exactly `bytes` long (width × height × 3). */
export async function unpackFrame(packed: Uint8Array, bytes: number, what: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await decompress(packed, { maxOutputLength: bytes + 1 });
  } catch (err) {
    throw new FarmError('ARTIFACT_CORRUPT', `${what} could not be unpacked: ${(err as Error).message}`);
  }
  if (raw.length !== bytes) throw new FarmError('ARTIFACT_CORRUPT', `${what} holds ${raw.length} bytes, not the ${bytes} of its size`);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
}
