// Content-addressed artifacts (source frames, key-frame images, masks, renders): each is named by
// the SHA-256 of its bytes, so a name says what the bytes must be and a reader can check them.
// Only hashes travel through Redis; the bytes move through a store.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
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

function checkHash(hash: string): void {
  if (typeof hash !== 'string' || !SHA256_RE.test(hash)) throw new FarmError('INVALID_ARGUMENT', `not an artifact hash: '${String(hash).slice(0, 80)}'`);
}

/**
 * A shared folder (NFS, SMB, or a local disk for one machine): `<root>/sha256/ab/abcdef…`. Writes
 * go to a temporary name in the same folder and are renamed into place, so a reader never sees a
 * partial file, and two writers of the same artifact write the same bytes.
 */
export class FolderArtifactStore implements ArtifactStore {
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
    await mkdir(path.dirname(file), { recursive: true });
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
}
