// The working-size proxy: every source frame as a JPEG at the working geometry, made once in the
// background so the editor can show any frame without decoding the video (a slice of a file and
// the browser's JPEG decoder, instead of an ffmpeg seek and decode per frame).
//
// It lives beside the project (`<project>.rrproj.cache/proxy/<key>/`), in segment files of
// PROXY_SEGMENT frames, each written whole under a temporary name and renamed: a crash leaves
// complete segments and temporary files (swept at the next build), never a partial segment under
// its real name. A segment's header names its key, first frame and count, and indexes every
// image with its CRC-32; a file whose header, size or an image's checksum disagrees is deleted
// (and reported, so the proxy is rebuilt), never served. `key` covers everything the pictures
// depend on (the video's content, the timeline, the working size and crop, the format), so a
// changed source or geometry never finds old pictures. A build only makes the missing segments:
// it resumes where a cancelled or crashed one stopped, and what is done is served at once.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, mkdir, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { DecodeGeometry, DecodeSource } from '../media/decode.ts';
import type { MediaTools } from '../media/locate.ts';
import { PROXY_JPEG_QUALITY, encodeProxyFrames } from '../media/proxy.ts';
import type { Project } from '../project/index.ts';
import { cacheDirOf } from './flow-cache.ts';

/** Frames per segment file: a resume redoes at most this many, and a build serves its work in steps of it. */
export const PROXY_SEGMENT = 120;
const FORMAT = 1;
const MAGIC = 0x58505252; // 'RRPX' read as little-endian u32
const HEADER = 32;
const ENTRY = 12;
const SEEKABLE_CONTAINERS = /(^|,)(mov|mp4|matroska|webm)(,|$)/;

/** What a proxy's pictures depend on, as a short stable key. */
export function proxyKeyOf(parts: { sha256: string; working: unknown; timeline: unknown; frameCount: number }): string {
  const text = JSON.stringify({ format: FORMAT, quality: PROXY_JPEG_QUALITY, ...parts });
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

/** The project's proxy key: its video's content, timeline, working size and crop. */
export function proxyKey(project: Project): string {
  const { sha256, working, probe } = project.source();
  const p = (probe ?? {}) as Partial<DecodeSource>;
  return proxyKeyOf({
    sha256,
    working: { width: working.width, height: working.height, crop: working.crop },
    timeline: { fps: p.fps ?? null, startTime: p.startTime ?? null, streamIndex: p.streamIndex ?? null },
    frameCount: project.frameCount,
  });
}

/** The folder holding the project's proxies (one sub-folder per key). */
export function proxyRootOf(projectPath: string): string {
  return path.join(cacheDirOf(projectPath), 'proxy');
}

interface SegmentIndex {
  file: string;
  /** offset, length, crc32 per frame. */
  entries: Uint32Array;
}

export interface ProxyStoreOptions {
  /** Frames per segment (tests use small ones). */
  segment?: number;
  /** A segment was found damaged and deleted: the proxy needs rebuilding. */
  onDamaged?: (file: string) => void;
}

/** One key's segments: reads frames, says what is missing, writes segments atomically. */
export class ProxyStore {
  readonly root: string;
  readonly key: string;
  readonly dir: string;
  readonly frameCount: number;
  readonly segment: number;
  readonly #onDamaged: ((file: string) => void) | undefined;
  readonly #index = new Map<number, SegmentIndex>();
  /**
   * Segments known not to be on disk: only this store writes them, so a miss is remembered until
   * it does (a request for a frame the proxy lacks then costs no file system call). Null until
   * the first look, which finds the whole folder missing or not.
   */
  #absent: Set<number> | null = null;

  constructor(root: string, key: string, frameCount: number, options: ProxyStoreOptions = {}) {
    if (!/^[0-9a-f]{16}$/.test(key)) throw new RangeError(`a proxy key is 16 hex digits, got '${key}'`);
    if (!Number.isSafeInteger(frameCount) || frameCount < 1) throw new RangeError(`a proxy needs at least one frame, got ${frameCount}`);
    const segment = options.segment ?? PROXY_SEGMENT;
    if (!Number.isSafeInteger(segment) || segment < 1) throw new RangeError(`frames per segment must be a positive integer, got ${segment}`);
    this.root = root;
    this.key = key;
    this.dir = path.join(root, key);
    this.frameCount = frameCount;
    this.segment = segment;
    this.#onDamaged = options.onDamaged;
  }

  get segments(): number {
    return Math.ceil(this.frameCount / this.segment);
  }

  /** Frames of segment `s`. */
  rangeOf(s: number): { start: number; count: number } {
    const start = s * this.segment;
    return { start, count: Math.min(this.segment, this.frameCount - start) };
  }

  fileOf(s: number): string {
    return path.join(this.dir, `s${String(this.rangeOf(s).start).padStart(9, '0')}.rrpx`);
  }

  /** The JPEG of `frame`, or null when its segment is not made yet (or was damaged: then deleted). */
  async read(frame: number): Promise<Uint8Array | null> {
    if (!Number.isSafeInteger(frame) || frame < 0 || frame >= this.frameCount) return null;
    const s = Math.floor(frame / this.segment);
    if (this.#knownAbsent(s)) return null;
    const index = await this.#load(s);
    if (!index) return null;
    const i = frame - this.rangeOf(s).start;
    const offset = index.entries[3 * i]!;
    const length = index.entries[3 * i + 1]!;
    const bytes = new Uint8Array(length);
    try {
      const fh = await open(index.file, 'r');
      try {
        const { bytesRead } = await fh.read(bytes, 0, length, offset);
        if (bytesRead !== length) return await this.#damaged(s, index.file);
      } finally {
        await fh.close();
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.#index.delete(s);
        this.#absent?.add(s);
        return null;
      }
      throw e;
    }
    if (crc32(bytes) !== index.entries[3 * i + 2]) return this.#damaged(s, index.file);
    return bytes;
  }

  /** Segments not (validly) on disk, in order. */
  async missing(): Promise<number[]> {
    const out: number[] = [];
    for (let s = 0; s < this.segments; s++) if (!(await this.#load(s))) out.push(s);
    return out;
  }

  /** Whether every segment is on disk and sound (headers and sizes; images are checked as they are read). */
  async complete(): Promise<boolean> {
    for (let s = 0; s < this.segments; s++) if (!(await this.#load(s))) return false;
    return true;
  }

  /** How many frames the proxy can serve now (from the segments known to this store). */
  get available(): number {
    let n = 0;
    for (const s of this.#index.keys()) n += this.rangeOf(s).count;
    return n;
  }

  /** Writes segment `s` whole (under a temporary name, then renamed). */
  async write(s: number, jpegs: readonly Uint8Array[]): Promise<void> {
    const { start, count } = this.rangeOf(s);
    if (jpegs.length !== count) throw new RangeError(`segment ${s} holds ${count} frames, got ${jpegs.length}`);
    const entries = new Uint32Array(3 * count);
    let offset = HEADER + ENTRY * count;
    jpegs.forEach((j, i) => {
      entries[3 * i] = offset;
      entries[3 * i + 1] = j.length;
      entries[3 * i + 2] = crc32(j);
      offset += j.length;
    });
    const head = Buffer.alloc(HEADER + ENTRY * count);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt32LE(FORMAT, 4);
    head.writeUInt32LE(start, 8);
    head.writeUInt32LE(count, 12);
    head.write(this.key, 16, 16, 'latin1');
    for (let i = 0; i < entries.length; i++) head.writeUInt32LE(entries[i]!, HEADER + 4 * i);
    await mkdir(this.dir, { recursive: true });
    const file = this.fileOf(s);
    const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      await writeFile(tmp, [head, ...jpegs]);
      await rename(tmp, file);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    this.#index.set(s, { file, entries });
    this.#absent?.delete(s);
  }

  /** Deletes other keys' proxies and temporary files left by a crash (none of ours is being written). */
  async sweep(): Promise<void> {
    const others = await readdir(this.root).catch(() => [] as string[]);
    for (const name of others) if (name !== this.key) await rm(path.join(this.root, name), { recursive: true, force: true });
    const mine = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of mine) if (name.includes('.tmp-')) await unlink(path.join(this.dir, name)).catch(() => undefined);
  }

  #knownAbsent(s: number): boolean {
    if (this.#absent === null) {
      this.#absent = new Set();
      if (!existsSync(this.dir)) for (let i = 0; i < this.segments; i++) this.#absent.add(i);
    }
    return this.#absent.has(s);
  }

  async #load(s: number): Promise<SegmentIndex | null> {
    const known = this.#index.get(s);
    if (known) return known;
    if (this.#knownAbsent(s)) return null;
    const file = this.fileOf(s);
    const { start, count } = this.rangeOf(s);
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.#absent?.add(s);
        return null;
      }
      throw e;
    }
    let sound = false;
    const entries = new Uint32Array(3 * count);
    try {
      const size = (await fh.stat()).size;
      const head = Buffer.alloc(HEADER + ENTRY * count);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      if (
        bytesRead === head.length && head.readUInt32LE(0) === MAGIC && head.readUInt32LE(4) === FORMAT &&
        head.readUInt32LE(8) === start && head.readUInt32LE(12) === count && head.toString('latin1', 16, 32) === this.key
      ) {
        // The images tile the file exactly, in order, from the end of the index.
        let expect = head.length;
        sound = true;
        for (let i = 0; i < count; i++) {
          entries[3 * i] = head.readUInt32LE(HEADER + ENTRY * i);
          entries[3 * i + 1] = head.readUInt32LE(HEADER + ENTRY * i + 4);
          entries[3 * i + 2] = head.readUInt32LE(HEADER + ENTRY * i + 8);
          if (entries[3 * i] !== expect || entries[3 * i + 1] === 0) sound = false;
          expect += entries[3 * i + 1]!;
        }
        if (expect !== size) sound = false;
      }
    } finally {
      await fh.close();
    }
    if (!sound) {
      await this.#damaged(s, file);
      return null;
    }
    const index = { file, entries };
    this.#index.set(s, index);
    return index;
  }

  async #damaged(s: number, file: string): Promise<null> {
    this.#index.delete(s);
    this.#absent?.add(s);
    await unlink(file).catch(() => undefined);
    this.#onDamaged?.(file);
    return null;
  }
}

export interface ProxySource {
  file: string;
  probe: DecodeSource;
  geometry: DecodeGeometry;
}

export interface BuildProxyOptions {
  tools: MediaTools;
  signal?: AbortSignal;
  /** Frames in the proxy so far (done) of all (total), after each frame. */
  onProgress?: (done: number, total: number) => void;
  /** ffmpeg passes at once over separate parts of the video (default 2; 1 where seeking is not possible). */
  workers?: number;
}

/** Splits `items` into at most `parts` contiguous, nearly equal pieces. */
function split<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = [];
  const n = Math.min(parts, items.length);
  for (let k = 0; k < n; k++) out.push(items.slice(Math.floor((k * items.length) / n), Math.floor(((k + 1) * items.length) / n)));
  return out;
}

/** Runs of consecutive numbers. */
function runs(sorted: readonly number[]): number[][] {
  const out: number[][] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && last.at(-1) === s - 1) last.push(s);
    else out.push([s]);
  }
  return out;
}

/**
 * Makes the segments `store` is missing from `source`: one pass per run of missing segments,
 * `workers` passes at once on separate parts. Returns how many frames it encoded.
 */
export async function buildProxy(store: ProxyStore, source: ProxySource, options: BuildProxyOptions): Promise<{ encoded: number }> {
  options.signal?.throwIfAborted();
  if (source.probe.frameCount !== store.frameCount) throw new RangeError(`the source has ${source.probe.frameCount} frames, the proxy ${store.frameCount}`);
  await store.sweep();
  const missing = await store.missing();
  const total = store.frameCount;
  let done = total - missing.reduce((n, s) => n + store.rangeOf(s).count, 0);
  options.onProgress?.(done, total);
  if (missing.length === 0) return { encoded: 0 };

  const seekable = SEEKABLE_CONTAINERS.test(source.probe.container);
  const workers = seekable ? Math.max(1, options.workers ?? 2) : 1;
  // One failing pass stops the others; its error (not their cancellation) is what is thrown.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let encoded = 0;
  const pass = async (segments: number[]): Promise<void> => {
    const first = store.rangeOf(segments[0]!).start;
    const last = store.rangeOf(segments.at(-1)!);
    let pending: Uint8Array[] = [];
    let s = segments[0]!;
    await encodeProxyFrames(source.file, source.probe, source.geometry, { start: first, count: last.start + last.count - first }, {
      tools: options.tools,
      signal: stop.signal,
      onFrame: async (_index, jpeg) => {
        // Frames ffmpeg wrote before it was stopped are still in the pipe: none is kept after a cancel.
        stop.signal.throwIfAborted();
        pending.push(jpeg);
        encoded++;
        options.onProgress?.(++done, total);
        if (pending.length === store.rangeOf(s).count) {
          const full = pending;
          pending = [];
          await store.write(s++, full);
        }
      },
    });
  };
  try {
    await Promise.all(split(missing, workers).map(async (part) => {
      try {
        for (const run of runs(part)) await pass(run);
      } catch (e) {
        stop.abort(e);
        throw e;
      }
    }));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return { encoded };
}

/** The project's proxy store (not yet built, perhaps). */
export function projectProxyStore(project: Project, options: ProxyStoreOptions = {}): ProxyStore {
  return new ProxyStore(proxyRootOf(project.path), proxyKey(project), project.frameCount, options);
}
