// Optical flow between neighbouring frames, cached in a folder beside the project
// (`<project>.rrproj.cache/`): it is large (2 floats per pixel per direction) and can always be
// recomputed, so it stays out of the project file, which must remain small enough to move around.
//
// Entries are stored compact (`.flq`): fixed point in 1/32 px (error <= 1/64 px per component,
// far below what bilinear warping or patch matching can notice), each component in its own
// plane, predicted from its neighbours (median edge detector), zigzagged and byte-split so the
// many small residuals compress well, then zstd with a content checksum. At 704x512 that is
// ~130 KiB per direction on animation and ~50 KiB on a fixed camera, against 2.6 MiB for the
// old deflated float32 (`.f32z`), which is still read and migrated. See bench/flow/cache.ts.
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { constants, inflate, zstdCompress, zstdCompressSync, zstdDecompress, zstdDecompressSync } from 'node:zlib';
import type { ZlibOptions, ZstdOptions } from 'node:zlib';
import type { FlowCache, FlowDirection } from '../propagate/flows.ts';

export function cacheDirOf(projectPath: string): string {
  return `${projectPath}.cache`;
}

const MAGIC = 0x4c465252; // 'RRFL' read as little-endian u32
const VERSION = 1;
const LOG2_SCALE = 5; // 1/32 px
const HEADER = 20;
/** Quantised value marking a component kept exactly in the out-of-range list. */
const OUT_OF_RANGE = -32768;
const ZSTD_LEVEL = 9;

export interface FlowEntryHeader {
  width: number;
  height: number;
  /** Pixels per unit of the stored integers (32: 1/32 px). */
  scale: number;
  /** Components that did not fit the fixed-point range (|v| > ~1024 px, NaN): stored as float32. */
  outOfRange: number;
}

/** Largest error (px, per component) the round trip can add to an in-range value. */
export const FLOW_QUANT_ERROR = 0.5 / 2 ** LOG2_SCALE;

// Median edge detector (LOCO-I): left, above or their gradient, whichever the corner suggests.
function predict(q: Int16Array, i: number, x: number, y: number, w: number): number {
  if (y === 0) return x === 0 ? 0 : (q[i - 1] as number);
  const b = q[i - w] as number;
  if (x === 0) return b;
  const a = q[i - 1] as number, c = q[i - w - 1] as number;
  if (c >= Math.max(a, b)) return Math.min(a, b);
  if (c <= Math.min(a, b)) return Math.max(a, b);
  return a + b - c;
}

const inflateAsync = promisify(inflate) as (b: Buffer, o: ZlibOptions) => Promise<Buffer>;
const zstdCompressAsync = promisify(zstdCompress) as (b: Buffer, o: ZstdOptions) => Promise<Buffer>;
const zstdDecompressAsync = promisify(zstdDecompress) as (b: Uint8Array, o: ZstdOptions) => Promise<Buffer>;
const ZSTD_OPTIONS: ZstdOptions = { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL, [constants.ZSTD_c_checksumFlag]: 1 } };

/** Header and uncompressed payload of an entry. */
function pack(flow: Float32Array, width: number, height: number): { header: Buffer; payload: Buffer } {
  const n = width * height;
  if (flow.length !== 2 * n) throw new RangeError(`flow must hold width*height*2 = ${2 * n} values, got ${flow.length}`);
  const scale = 2 ** LOG2_SCALE;
  const q = new Int16Array(2 * n); // planar: all dx, then all dy
  const exceptions: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const v = flow[2 * i + c] as number;
      const r = Math.round(v * scale);
      if (r >= -32767 && r <= 32767) {
        q[c * n + i] = r;
      } else {
        q[c * n + i] = OUT_OF_RANGE;
        exceptions.push(c * n + i, v);
      }
    }
  }
  const count = exceptions.length / 2;
  const payload = Buffer.alloc(4 * n + 8 * count);
  // Residuals, zigzagged (small magnitudes -> small codes), low bytes then high bytes.
  const res = new Int16Array(1);
  for (let c = 0; c < 2; c++) {
    const plane = q.subarray(c * n, (c + 1) * n);
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        res[0] = (plane[i] as number) - predict(plane, i, x, y, width); // wraps to int16
        const r = res[0] as number;
        const z = ((r << 1) ^ (r >> 15)) & 0xffff;
        const k = c * n + i;
        payload[k] = z & 0xff;
        payload[2 * n + k] = z >> 8;
      }
    }
  }
  for (let e = 0; e < count; e++) {
    payload.writeUInt32LE(exceptions[2 * e] as number, 4 * n + 8 * e);
    payload.writeFloatLE(exceptions[2 * e + 1] as number, 4 * n + 8 * e + 4);
  }
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt8(VERSION, 4);
  header.writeUInt8(LOG2_SCALE, 5);
  header.writeUInt32LE(width, 8);
  header.writeUInt32LE(height, 12);
  header.writeUInt32LE(count, 16);
  return { header, payload };
}

/** Packs a (dx, dy)-interleaved flow field of width x height into a cache entry. */
export function encodeFlow(flow: Float32Array, width: number, height: number): Buffer {
  const { header, payload } = pack(flow, width, height);
  return Buffer.concat([header, zstdCompressSync(payload, ZSTD_OPTIONS)]);
}

/** encodeFlow with the compression on libuv's thread pool, off the main process's event loop. */
export async function encodeFlowAsync(flow: Float32Array, width: number, height: number): Promise<Buffer> {
  const { header, payload } = pack(flow, width, height);
  return Buffer.concat([header, await zstdCompressAsync(payload, ZSTD_OPTIONS)]);
}

/** Header of a cache entry, or undefined when it is not one this version writes. */
export function readFlowHeader(entry: Uint8Array): FlowEntryHeader | undefined {
  if (entry.length < HEADER) return undefined;
  const b = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength);
  if (b.readUInt32LE(0) !== MAGIC || b.readUInt8(4) !== VERSION || b.readUInt8(5) !== LOG2_SCALE || b.readUInt16LE(6) !== 0) return undefined;
  const width = b.readUInt32LE(8), height = b.readUInt32LE(12), outOfRange = b.readUInt32LE(16);
  if (outOfRange > 2 * width * height) return undefined;
  return { width, height, scale: 2 ** LOG2_SCALE, outOfRange };
}

/** Unpacks an entry; undefined when it is damaged or of another size (the caller recomputes). */
export function decodeFlow(entry: Uint8Array, width: number, height: number): Float32Array | undefined {
  const h = checkHeader(entry, width, height);
  if (!h) return undefined;
  let payload: Buffer;
  try {
    // The bound stops a damaged size field from allocating more than the entry can hold.
    payload = zstdDecompressSync(entry.subarray(HEADER), { maxOutputLength: h.payloadBytes });
  } catch {
    return undefined; // bad frame, checksum mismatch or longer than it should be
  }
  return unpack(payload, h);
}

/** decodeFlow with the decompression on libuv's thread pool. */
export async function decodeFlowAsync(entry: Uint8Array, width: number, height: number): Promise<Float32Array | undefined> {
  const h = checkHeader(entry, width, height);
  if (!h) return undefined;
  const payload = await zstdDecompressAsync(entry.subarray(HEADER), { maxOutputLength: h.payloadBytes }).catch(() => undefined);
  return payload && unpack(payload, h);
}

function checkHeader(entry: Uint8Array, width: number, height: number): (FlowEntryHeader & { payloadBytes: number }) | undefined {
  const h = readFlowHeader(entry);
  if (!h || h.width !== width || h.height !== height) return undefined;
  return { ...h, payloadBytes: 4 * width * height + 8 * h.outOfRange };
}

function unpack(payload: Buffer, h: FlowEntryHeader & { payloadBytes: number }): Float32Array | undefined {
  if (payload.length !== h.payloadBytes) return undefined;
  const { width, height } = h;
  const n = width * height;
  const q = new Int16Array(2 * n);
  const rec = new Int16Array(1);
  for (let c = 0; c < 2; c++) {
    const plane = q.subarray(c * n, (c + 1) * n);
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        const k = c * n + i;
        const z = (payload[k] as number) | ((payload[2 * n + k] as number) << 8);
        rec[0] = predict(plane, i, x, y, width) + ((z >>> 1) ^ -(z & 1));
        plane[i] = rec[0] as number;
      }
    }
  }
  const out = new Float32Array(2 * n);
  const inv = 1 / h.scale;
  for (let i = 0; i < n; i++) {
    out[2 * i] = (q[i] as number) * inv;
    out[2 * i + 1] = (q[n + i] as number) * inv;
  }
  let marked = 0;
  for (let k = 0; k < 2 * n; k++) if (q[k] === OUT_OF_RANGE) marked++;
  if (marked !== h.outOfRange) return undefined;
  for (let e = 0; e < h.outOfRange; e++) {
    const k = payload.readUInt32LE(4 * n + 8 * e);
    if (k >= 2 * n || q[k] !== OUT_OF_RANGE) return undefined;
    out[k < n ? 2 * k : 2 * (k - n) + 1] = payload.readFloatLE(4 * n + 8 * e + 4);
  }
  return out;
}

/** Reads an entry of the first format (raw float32, deflated), or undefined. */
async function decodeLegacy(packed: Buffer, expected: number): Promise<Float32Array | undefined> {
  try {
    const raw = await inflateAsync(packed, { maxOutputLength: expected * 4 }); // deflate's adler32 catches damage
    if (raw.length !== expected * 4) return undefined;
    // Copy into an aligned buffer of its own.
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  } catch {
    return undefined;
  }
}

export class FolderFlowCache implements FlowCache {
  readonly #dir: string;
  readonly #width: number;
  readonly #height: number;

  /** `variant` names what the flow depends on (source content, size, method): a change starts a new folder. */
  constructor(projectPath: string, variant: string, width: number, height: number) {
    this.#dir = path.join(cacheDirOf(projectPath), 'flow', variant);
    this.#width = width;
    this.#height = height;
  }

  #file(i: number, dir: FlowDirection, ext: 'flq' | 'f32z'): string {
    return path.join(this.#dir, `${i}-${dir}.${ext}`);
  }

  async get(i: number, dir: FlowDirection): Promise<Float32Array | undefined> {
    const file = this.#file(i, dir, 'flq');
    const entry = await readFile(file).catch(() => undefined);
    if (entry) return decodeFlowAsync(entry, this.#width, this.#height); // damaged: recomputed and overwritten
    const legacyFile = this.#file(i, dir, 'f32z');
    const legacy = await readFile(legacyFile).catch(() => undefined);
    if (!legacy) return undefined;
    const flow = await decodeLegacy(legacy, this.#width * this.#height * 2);
    // Migrate: the compact entry replaces the old one, which is ~20x larger.
    if (flow) await this.put(i, dir, flow);
    await unlink(legacyFile).catch(() => undefined);
    return flow;
  }

  async put(i: number, dir: FlowDirection, data: Float32Array): Promise<void> {
    if (data.length !== this.#width * this.#height * 2) return;
    await mkdir(this.#dir, { recursive: true });
    const file = this.#file(i, dir, 'flq');
    const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      await writeFile(tmp, await encodeFlowAsync(data, this.#width, this.#height));
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined); // no half-written temp file left behind (disk full)
      throw err;
    }
  }
}
