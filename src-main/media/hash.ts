// Content hash of a source file, streamed so large videos never sit in memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { MediaError, cancelledError, fileLabel } from './errors.ts';

/** SHA-256 of the file's bytes, lowercase hex. */
export async function fileContentHash(file: string, options: { signal?: AbortSignal } = {}): Promise<string> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(file), hash, { signal: options.signal });
  } catch (err) {
    if (options.signal?.aborted) throw cancelledError(`Hashing ${fileLabel(file)}`);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MediaError('FILE_NOT_FOUND', `${fileLabel(file)} could not be found at ${file}.`, { cause: err });
    }
    throw err;
  }
  return hash.digest('hex');
}
