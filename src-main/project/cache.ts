// Derived data keyed by (kind, key): thumbnail strips, optical flow fields, edge maps. Everything
// here can be recomputed from the source, so callers may drop a whole kind at any time; it lives in
// the project file only so it travels with it and is not recomputed on every open.
import type Database from 'better-sqlite3';
import { ProjectError } from './errors.ts';
import { toBuffer } from './keyframes.ts';
import { nowIso } from './validate.ts';

export interface CacheEntry {
  data: Buffer;
  meta: unknown;
  createdAt: string;
}

interface Row {
  data: Buffer;
  meta: string | null;
  created_at: string;
}

export class CacheStore {
  readonly #put: Database.Statement<[string, string, Buffer, string | null, string]>;
  readonly #get: Database.Statement<[string, string], Row>;
  readonly #deleteKind: Database.Statement<[string]>;
  readonly #deleteKey: Database.Statement<[string, string]>;
  readonly #keys: Database.Statement<[string], { key: string }>;

  constructor(db: Database.Database) {
    this.#put = db.prepare(
      'INSERT OR REPLACE INTO cache (kind, key, data, meta, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#get = db.prepare('SELECT data, meta, created_at FROM cache WHERE kind = ? AND key = ?');
    this.#deleteKind = db.prepare('DELETE FROM cache WHERE kind = ?');
    this.#deleteKey = db.prepare('DELETE FROM cache WHERE kind = ? AND key = ?');
    this.#keys = db.prepare('SELECT key FROM cache WHERE kind = ? ORDER BY key');
  }

  put(kind: string, key: string, data: Uint8Array, meta?: unknown): void {
    if (typeof kind !== 'string' || kind === '' || typeof key !== 'string') {
      throw new ProjectError('INVALID_ARGUMENT', 'A cache entry needs a non-empty kind and a key');
    }
    if (!(data instanceof Uint8Array)) throw new ProjectError('INVALID_ARGUMENT', 'Cache data must be bytes');
    this.#put.run(kind, key, toBuffer(data), meta === undefined ? null : JSON.stringify(meta), nowIso());
  }

  get(kind: string, key: string): CacheEntry | null {
    const r = this.#get.get(kind, key);
    if (!r) return null;
    return { data: r.data, meta: r.meta === null ? null : (JSON.parse(r.meta) as unknown), createdAt: r.created_at };
  }

  keys(kind: string): string[] {
    return this.#keys.all(kind).map((r) => r.key);
  }

  /** Deletes one entry, or every entry of `kind`; returns how many. */
  delete(kind: string, key?: string): number {
    return (key === undefined ? this.#deleteKind.run(kind) : this.#deleteKey.run(kind, key)).changes;
  }
}
