// Models are named on the farm by their content, not their path: the owner's checkpoint at
// /Volumes/models/dreamshaper.safetensors and a worker's copy under another name are the same model
// when their bytes are. A file's hash is the SHA-256 of its bytes; a diffusers folder's is the
// SHA-256 of its files' relative paths and hashes. Hashing gigabytes takes seconds, so hashes are
// cached by path, size and modification time in a small JSON file.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { classifyModel } from '../engine/weights/models-folder.ts';
import type { ModelKind } from '../engine/weights/models-folder.ts';
import { FarmError } from './errors.ts';

const WEIGHT_EXT = /\.(safetensors|ckpt|pth|pt|bin)$/i;

interface CacheEntry {
  size: number;
  mtimeMs: number;
  hash: string;
}

/** Per-file hashes kept across runs; a file whose size or time changed is hashed again. */
export class ModelHashCache {
  readonly file: string | null;
  #entries = new Map<string, CacheEntry>();
  #dirty = false;

  constructor(file: string | null = defaultCacheFile()) {
    this.file = file;
    if (!file) return;
    try {
      const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, CacheEntry>;
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v?.hash === 'string' && /^[0-9a-f]{64}$/.test(v.hash) && typeof v.size === 'number' && typeof v.mtimeMs === 'number') this.#entries.set(k, v);
      }
    } catch {
      // No cache yet, or an unreadable one: every file is hashed again.
    }
  }

  async fileHash(file: string): Promise<string> {
    const st = statSync(file);
    const hit = this.#entries.get(file);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.hash;
    const h = createHash('sha256');
    for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
    const hash = h.digest('hex');
    this.#entries.set(file, { size: st.size, mtimeMs: st.mtimeMs, hash });
    this.#dirty = true;
    return hash;
  }

  /** Writes the cache (temp + rename); a cache that cannot be written only costs time later. */
  save(): void {
    if (!this.file || !this.#dirty) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.#entries)));
      renameSync(tmp, this.file);
      this.#dirty = false;
    } catch {
      // ignored: see above
    }
  }
}

function defaultCacheFile(): string {
  return path.join(os.homedir(), '.rerender-studio', 'cache', 'model-hashes.json');
}

/** Every file under a folder, relative, sorted; hidden files and folders are left out. */
function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesUnder(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

/** The content hash of a model file or diffusers folder. */
export async function modelContentHash(p: string, cache: ModelHashCache): Promise<string> {
  const abs = path.resolve(p);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new FarmError('MODEL_MISSING', `the model ${p} does not exist`);
  }
  if (!st.isDirectory()) return cache.fileHash(abs);
  const h = createHash('sha256');
  for (const rel of filesUnder(abs)) h.update(`${rel}\0${await cache.fileHash(path.join(abs, rel))}\n`);
  return h.digest('hex');
}

function kindOf(p: string): ModelKind | null {
  try {
    return classifyModel(p);
  } catch {
    return null; // an unreadable file is no model
  }
}

export interface IndexedModel {
  path: string;
  kind: ModelKind | null;
}

/**
 * A worker's models, by content hash: each weights file and each model folder (a folder
 * classifyModel recognises is one model; its files are not listed on their own) under `dir`.
 */
export async function indexModels(dir: string, cache: ModelHashCache, depth = 4): Promise<Map<string, IndexedModel>> {
  const out = new Map<string, IndexedModel>();
  const visit = async (d: string, left: number): Promise<void> => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        const kind = kindOf(p);
        if (kind !== null) out.set(await modelContentHash(p, cache), { path: p, kind });
        else if (left > 0) await visit(p, left - 1);
      } else if (e.isFile() && WEIGHT_EXT.test(e.name)) {
        out.set(await cache.fileHash(p), { path: p, kind: kindOf(p) });
      }
    }
  };
  await visit(path.resolve(dir), depth);
  cache.save();
  return out;
}
