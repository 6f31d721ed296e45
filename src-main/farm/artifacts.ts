// Content-addressed artifacts (source frames, key-frame images, masks, renders): each is named by
// the SHA-256 of its bytes, so a name says what the bytes must be and a reader can check them.
// Only hashes travel through Redis; the bytes move through a store.
import { createHash, randomBytes } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { makeFolders } from '../folders.ts';
import path from 'node:path';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FarmError } from './errors.ts';

export const SHA256_RE = /^[0-9a-f]{64}$/;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface ArtifactStore {
  /** Stores `bytes` (a no-op when already there) and returns their hash. */
  put(bytes: Uint8Array): Promise<string>;
  /** The bytes named `hash`, checked against it: ARTIFACT_CORRUPT or ARTIFACT_MISSING otherwise. */
  get(hash: string): Promise<Uint8Array>;
  has(hash: string): Promise<boolean>;
}

/**
 * A store that also moves whole files as streams (a source video, an exported MP4): never held in
 * memory, hashed on the way, written to a temporary name and renamed into place.
 */
export interface FileArtifactStore extends ArtifactStore {
  /** Stores the file's bytes (a no-op when already there) and returns their hash. */
  putFile(file: string, signal?: AbortSignal): Promise<string>;
  /** Writes the artifact to `dest` (replacing it), checked against its hash before the rename. */
  getToFile(hash: string, dest: string, signal?: AbortSignal): Promise<void>;
}

export function isFileStore(store: ArtifactStore): store is FileArtifactStore {
  const s = store as Partial<FileArtifactStore>;
  return typeof s.putFile === 'function' && typeof s.getToFile === 'function';
}

/** Passes chunks through unchanged, feeding them to `hash` (and counting them against `limit`). */
export function hashingStream(hash: Hash, limit = Number.POSITIVE_INFINITY): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > limit) return done(new FarmError('INVALID_ARGUMENT', `the artifact is larger than ${limit} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

/** Streams `from` into `dest` through a temporary file beside it; the rename happens only when `accept(hash)` does not throw. */
export async function streamToFile(from: Readable, dest: string, accept: (hash: string) => void, signal?: AbortSignal, limit?: number): Promise<string> {
  await makeFolders(path.dirname(dest));
  const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const h = createHash('sha256');
  try {
    await pipeline(from, hashingStream(h, limit), createWriteStream(tmp, { flush: true }), ...(signal ? [{ signal }] : []));
    const hash = h.digest('hex');
    accept(hash);
    await rename(tmp, dest);
    return hash;
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

function checkHash(hash: string): void {
  if (typeof hash !== 'string' || !SHA256_RE.test(hash)) throw new FarmError('INVALID_ARGUMENT', `not an artifact hash: '${String(hash).slice(0, 80)}'`);
}

/**
 * A shared folder (NFS, SMB, or a local disk for one machine): `<root>/sha256/ab/abcdef…`. Writes
 * go to a temporary name in the same folder and are renamed into place, so a reader never sees a
 * partial file, and two writers of the same artifact write the same bytes.
 */
export class FolderArtifactStore implements FileArtifactStore {
  readonly root: string;

  constructor(root: string) {
    if (typeof root !== 'string' || !path.isAbsolute(root)) throw new FarmError('INVALID_ARGUMENT', `the artifact store needs an absolute folder, got '${String(root)}'`);
    this.root = root;
  }

  #file(hash: string): string {
    checkHash(hash);
    return path.join(this.root, 'sha256', hash.slice(0, 2), hash);
  }

  async has(hash: string): Promise<boolean> {
    return stat(this.#file(hash)).then((s) => s.isFile(), () => false);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes);
    const file = this.#file(hash);
    const existing = await stat(file).catch(() => null);
    if (existing?.isFile() && existing.size === bytes.length) return hash;
    await makeFolders(path.dirname(file));
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(tmp, bytes, { flush: true });
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return hash;
  }

  async get(hash: string): Promise<Uint8Array> {
    const file = this.#file(hash);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FarmError('ARTIFACT_MISSING', `artifact ${hash.slice(0, 12)}… is not in the store ${this.root}`);
      throw err;
    }
    if (sha256(bytes) !== hash) throw new FarmError('ARTIFACT_CORRUPT', `artifact ${hash.slice(0, 12)}… in ${this.root} does not match its hash (damaged or changed)`);
    return bytes;
  }

  /** Where the artifact `hash` lies (whether or not it is there): for streaming it out. */
  fileOf(hash: string): string {
    return this.#file(hash);
  }

  async putFile(file: string, signal?: AbortSignal): Promise<string> {
    return this.putStream(createReadStream(file), undefined, signal);
  }

  /**
   * Stores a stream's bytes, named by their hash; with `expect`, refuses (ARTIFACT_CORRUPT) bytes
   * that hash to another name. The bytes go to a temporary file in the store, renamed into place.
   */
  async putStream(from: Readable, expect?: string, signal?: AbortSignal, limit?: number): Promise<string> {
    if (expect !== undefined) checkHash(expect);
    const incoming = path.join(this.root, 'sha256', `.incoming-${process.pid}-${randomBytes(4).toString('hex')}`);
    let hash = '';
    await streamToFile(from, incoming, (h) => {
      if (expect !== undefined && h !== expect) throw new FarmError('ARTIFACT_CORRUPT', `the bytes sent for artifact ${expect.slice(0, 12)}… hash to ${h.slice(0, 12)}…`);
      hash = h;
    }, signal, limit);
    try {
      const file = this.#file(hash);
      if (await this.has(hash)) return hash; // the same bytes are there already
      await makeFolders(path.dirname(file));
      await rename(incoming, file);
      return hash;
    } finally {
      await unlink(incoming).catch(() => undefined);
    }
  }

  async getToFile(hash: string, dest: string, signal?: AbortSignal): Promise<void> {
    const file = this.#file(hash);
    if (!(await this.has(hash))) throw new FarmError('ARTIFACT_MISSING', `artifact ${hash.slice(0, 12)}… is not in the store ${this.root}`);
    await streamToFile(createReadStream(file), dest, (h) => {
      if (h !== hash) throw new FarmError('ARTIFACT_CORRUPT', `artifact ${hash.slice(0, 12)}… in ${this.root} does not match its hash (damaged or changed)`);
    }, signal);
  }
}
