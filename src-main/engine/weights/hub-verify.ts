// Checking model files against the hashes the Hugging Face hub publishes: the sha256 of an LFS
// file (the API's lfs.oid, or the x-linked-etag header of its resolve URL) or the git blob sha1 of
// a small file (the API's oid, or its ETag). A huggingface_hub cache names each LFS blob by its
// sha256, so a cached file is checked against its own blob name, without the network.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import nodePath from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DownloadError } from './models-folder.ts';

export type HashAlgo = 'sha256' | 'git-sha1';

export interface PublishedHash {
  readonly algo: HashAlgo;
  /** Lower-case hex. */
  readonly hex: string;
}

/** A downloaded file is not what the hub published: the bytes were damaged on the way (exit 4, like any failed download). */
export class ChecksumError extends DownloadError {
  readonly file: string;
  readonly expected: PublishedHash;
  readonly actual: string;
  constructor(url: string, file: string, expected: PublishedHash, actual: string, message: string) {
    super(url, message);
    this.file = file;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A hash from an ETag-like value: 64 hex digits are a sha256, 40 a git blob sha1; anything else null. */
export function parseHash(value: string | null | undefined): PublishedHash | null {
  if (!value) return null;
  const v = value.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
  if (/^[0-9a-f]{64}$/.test(v)) return { algo: 'sha256', hex: v };
  if (/^[0-9a-f]{40}$/.test(v)) return { algo: 'git-sha1', hex: v };
  return null;
}

/** The file's hash by `algo` (git-sha1: sha1 over "blob <size>\0" and the contents, as git names blobs). */
export async function fileHash(path: string, algo: HashAlgo, signal?: AbortSignal): Promise<string> {
  const h = createHash(algo === 'sha256' ? 'sha256' : 'sha1');
  if (algo === 'git-sha1') h.update(`blob ${fs.statSync(path).size}\0`);
  await pipeline(fs.createReadStream(path), h, signal ? { signal } : {});
  return h.digest('hex');
}

/** The hash a huggingface_hub cache file carries in its blob's name (snapshots/<rev>/f → ../../blobs/<hash>); null when it is not such a link. */
export function cacheBlobHash(snapshotFile: string): PublishedHash | null {
  let target: string;
  try {
    if (!fs.lstatSync(snapshotFile).isSymbolicLink()) return null;
    target = fs.realpathSync(snapshotFile);
  } catch {
    return null;
  }
  if (nodePath.basename(nodePath.dirname(target)) !== 'blobs') return null;
  return parseHash(nodePath.basename(target));
}

function unreachable(url: string, e: unknown): DownloadError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return new DownloadError(url, `could not reach ${new URL(url).host} (${cause?.code ?? cause?.message ?? (e as Error).message}). ` +
    'You may be offline: download the model on another machine and import it into the models folder.');
}

async function hubFetch(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    if (init.signal?.aborted) throw e;
    throw unreachable(url, e);
  }
}

interface TreeItem {
  type?: string;
  path?: string;
  oid?: string;
  lfs?: { oid?: string } | null;
}

/**
 * What the hub publishes for each of `files` of `repo` at main: first from its tree API (one call
 * per folder), else from the resolve URL's x-linked-etag / ETag (a HEAD request that does not
 * follow the redirect to the CDN). Null for a file the hub gives no hash for.
 */
export async function publishedHashes(endpoint: string, repo: string, files: readonly string[], signal?: AbortSignal): Promise<Map<string, PublishedHash | null>> {
  const out = new Map<string, PublishedHash | null>();
  const folders = [...new Set(files.map((f) => nodePath.posix.dirname(f)))];
  for (const folder of folders) {
    const url = `${endpoint}/api/models/${repo}/tree/main${folder === '.' ? '' : `/${folder}`}`;
    const res = await hubFetch(url, { signal: signal ?? null });
    if (!res.ok) {
      await res.body?.cancel();
      continue;
    }
    let items: unknown;
    try {
      items = await res.json();
    } catch {
      continue;
    }
    if (!Array.isArray(items)) continue;
    for (const it of items as TreeItem[]) {
      if (it.type !== 'file' || typeof it.path !== 'string') continue;
      const h = it.lfs ? parseHash(it.lfs.oid) : parseHash(it.oid);
      if (h !== null && (it.lfs ? h.algo === 'sha256' : h.algo === 'git-sha1')) out.set(it.path, h);
    }
  }
  for (const f of files) {
    if (out.get(f)) continue;
    const url = `${endpoint}/${repo}/resolve/main/${f}`;
    const res = await hubFetch(url, { method: 'HEAD', redirect: 'manual', signal: signal ?? null });
    await res.body?.cancel();
    out.set(f, res.status < 400 ? parseHash(res.headers.get('x-linked-etag') ?? res.headers.get('etag')) : null);
  }
  return out;
}

const short = (hex: string): string => `${hex.slice(0, 12)}…`;

/**
 * Checks a downloaded file against `expected`; on a mismatch deletes it (and any leftover .part)
 * and throws ChecksumError saying so.
 */
export async function verifyDownload(path: string, url: string, expected: PublishedHash, signal?: AbortSignal): Promise<void> {
  const actual = await fileHash(path, expected.algo, signal);
  if (actual === expected.hex) return;
  fs.rmSync(path, { force: true });
  fs.rmSync(`${path}.part`, { force: true });
  const algo = expected.algo === 'sha256' ? 'sha256' : 'git blob sha1';
  throw new ChecksumError(url, path, expected, actual,
    `${nodePath.basename(path)} is damaged: its ${algo} is ${short(actual)} but the hub publishes ${short(expected.hex)} for it. ` +
    'The file was deleted; run the command again to download it afresh (if it keeps failing, a proxy or mirror is changing it).');
}
