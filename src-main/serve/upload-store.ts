// <dataDir>/uploads under a total quota, cleaned at start and after each upload:
//  - leftover `.upload-*.part` files (a crash or a cut connection) are removed, except those of
//    uploads still in flight;
//  - an upload older than the retention (24 h) is removed unless a project uses it as its source
//    (upload-sources.json, kept by the services host) and that project file still exists.
// Only files this store uploaded are candidates: it lists them in `.index.json` (a name no
// upload can take: upload names never start with a dot). Files it did not upload are never
// deleted, whatever their age.
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { TEMP_UPLOAD, UploadError, receiveUpload, type UploadResult } from './upload.ts';
import { uploadsDir, uploadsInUse } from './project-sources.ts';

export const INDEX_FILE = '.index.json';
export const DEFAULT_RETENTION_MS = 24 * 3600 * 1000;

export interface UploadStoreOptions {
  dataDir: string;
  maxFileBytes: number;
  quotaBytes: number;
  retentionMs?: number;
  now?: () => number;
}

type Index = Record<string, { uploadedAt: number }>;

const mib = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MiB`;

export class UploadStore {
  readonly dir: string;
  readonly #opts: UploadStoreOptions;
  /** Temporary file → bytes received so far, for each upload in flight. */
  readonly #inflight = new Map<string, number>();
  /** Index updates and sweeps run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: UploadStoreOptions) {
    this.#opts = opts;
    this.dir = uploadsDir(opts.dataDir);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Bytes of finished uploads on disk (temporary files excluded: in-flight ones are counted live). */
  async storedBytes(): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    let total = 0;
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const s = await stat(path.join(this.dir, n)).catch(() => null);
      if (s?.isFile()) total += s.size;
    }
    return total;
  }

  async receive(req: http.IncomingMessage, rawName: string): Promise<UploadResult> {
    const { quotaBytes } = this.#opts;
    const stored = await this.storedBytes();
    let mine: string | null = null;
    const others = () => [...this.#inflight].reduce((sum, [tmp, n]) => (tmp === mine ? sum : sum + n), 0);
    const check = (bytes: number): UploadError | null => {
      const used = stored + others();
      if (used + bytes <= quotaBytes) return null;
      return new UploadError(
        507,
        'QUOTA_EXCEEDED',
        `The uploads folder is full: ${mib(used)} of its ${mib(quotaBytes)} are used and this file needs ${mib(bytes)}. ` +
          `Remove files from ${this.dir} or start the server with a larger --upload-quota-mb.`,
      );
    };
    try {
      const result = await receiveUpload(req, rawName, this.dir, {
        maxBytes: this.#opts.maxFileBytes,
        check,
        onProgress: (tmp, bytes) => {
          mine = tmp;
          this.#inflight.set(tmp, bytes);
        },
      });
      await this.#serial(async () => {
        const index = await this.#readIndex();
        index[result.name] = { uploadedAt: this.#now() };
        await this.#writeIndex(index);
      });
      return result;
    } finally {
      if (mine !== null) this.#inflight.delete(mine);
    }
  }

  /** Removes leftovers and expired, unused uploads; returns the names removed. */
  sweep(): Promise<string[]> {
    return this.#serial(async () => {
      const names = await readdir(this.dir).catch(() => null);
      if (!names) return [];
      const removed: string[] = [];
      for (const n of names) {
        if (TEMP_UPLOAD.test(n) && !this.#inflight.has(path.join(this.dir, n))) {
          await rm(path.join(this.dir, n), { force: true });
          removed.push(n);
        }
      }
      const index = await this.#readIndex();
      const present = new Set(names);
      const cutoff = this.#now() - (this.#opts.retentionMs ?? DEFAULT_RETENTION_MS);
      const expired = Object.keys(index).filter((n) => index[n]!.uploadedAt < cutoff || !present.has(n));
      if (expired.length === 0) return removed;
      const inUse = await uploadsInUse(this.#opts.dataDir);
      for (const n of expired) {
        const file = path.join(this.dir, n);
        if (!present.has(n)) {
          delete index[n];
        } else if (!inUse.has(file)) {
          await rm(file, { force: true });
          delete index[n];
          removed.push(n);
        }
      }
      await this.#writeIndex(index);
      return removed;
    });
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  async #readIndex(): Promise<Index> {
    try {
      const parsed: unknown = JSON.parse(await readFile(path.join(this.dir, INDEX_FILE), 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
      const out: Index = {};
      for (const [k, v] of Object.entries(parsed)) {
        const at = (v as { uploadedAt?: unknown } | null)?.uploadedAt;
        // Only plain names in this folder: a damaged index must never point the sweep elsewhere.
        if (typeof at === 'number' && k === path.basename(k) && !k.startsWith('.')) out[k] = { uploadedAt: at };
      }
      return out;
    } catch {
      return {};
    }
  }

  async #writeIndex(index: Index): Promise<void> {
    const file = path.join(this.dir, INDEX_FILE);
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(index, null, 2));
    await rename(tmp, file);
  }
}
