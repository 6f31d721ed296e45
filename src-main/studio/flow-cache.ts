// Optical flow between neighbouring frames, cached in a folder beside the project
// (`<project>.rrproj.cache/`): it is large (2 floats per pixel per direction) and can always be
// recomputed, so it stays out of the project file, which must remain small enough to move around.
//
// Entries are stored compact (`.flq`): fixed point in 1/32 px (error <= 1/64 px per component,
// far below what bilinear warping or patch matching can notice), each component in its own
// plane, predicted from its neighbours (median edge detector), zigzagged and byte-split so the
// many small residuals compress well (native/src/flow/flow_codec.h, off the JS thread), then zstd
// with a content checksum on libuv's thread pool. At 704x512 that is
// ~130 KiB per direction on animation and ~50 KiB on a fixed camera, against 2.6 MiB for the
// old deflated float32 (`.f32z`), which is still read and migrated. See bench/flow/cache.ts.
import { access, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { constants, inflate, zstdCompress, zstdDecompress } from 'node:zlib';
import type { ZlibOptions, ZstdOptions } from 'node:zlib';
import { wholeOutputChunk } from '../media/zlib-output.ts';
import type { FlowCodec } from '../propagate/flow-codec.ts';
import type { FlowCache, FlowDirection } from '../propagate/flows.ts';
import type { FlowMethod } from '../propagate/native.ts';
import type { Project } from '../project/index.ts';

export function cacheDirOf(projectPath: string): string {
  return `${projectPath}.cache`;
}

const MAGIC = 0x4c465252; // 'RRFL' read as little-endian u32
const VERSION = 1;
const LOG2_SCALE = 5; // 1/32 px
const HEADER = 20;
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

const inflateAsync = promisify(inflate) as (b: Buffer, o: ZlibOptions) => Promise<Buffer>;
const zstdCompressAsync = promisify(zstdCompress) as (b: Uint8Array, o: ZstdOptions) => Promise<Buffer>;
const zstdDecompressAsync = promisify(zstdDecompress) as (b: Uint8Array, o: ZstdOptions) => Promise<Buffer>;
const ZSTD_OPTIONS: ZstdOptions = { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL, [constants.ZSTD_c_checksumFlag]: 1 } };

/**
 * Packs a (dx, dy)-interleaved flow field of width x height into a cache entry. The packing runs
 * in the native addon and the compression on libuv's thread pool: nothing per pixel on the JS thread.
 */
export async function encodeFlow(codec: FlowCodec, flow: Float32Array, width: number, height: number): Promise<Buffer> {
  if (flow.length !== 2 * width * height) throw new RangeError(`flow must hold width*height*2 = ${2 * width * height} values, got ${flow.length}`);
  const { payload, outOfRange } = await codec.packFlow(flow, width, height, LOG2_SCALE);
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt8(VERSION, 4);
  header.writeUInt8(LOG2_SCALE, 5);
  header.writeUInt32LE(width, 8);
  header.writeUInt32LE(height, 12);
  header.writeUInt32LE(outOfRange, 16);
  return Buffer.concat([header, await zstdCompressAsync(payload, { ...ZSTD_OPTIONS, chunkSize: wholeOutputChunk(payload.length) })]);
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
export async function decodeFlow(codec: FlowCodec, entry: Uint8Array, width: number, height: number): Promise<Float32Array | undefined> {
  const h = checkHeader(entry, width, height);
  if (!h) return undefined;
  // The bound stops a damaged size field from allocating more than the entry can hold; a bad
  // frame, a checksum mismatch or a longer payload rejects.
  const payload = await zstdDecompressAsync(entry.subarray(HEADER), { maxOutputLength: h.payloadBytes, chunkSize: wholeOutputChunk(h.payloadBytes) }).catch(() => undefined);
  if (!payload || payload.length !== h.payloadBytes) return undefined;
  return (await codec.unpackFlow(payload, width, height, LOG2_SCALE, h.outOfRange)) ?? undefined;
}

function checkHeader(entry: Uint8Array, width: number, height: number): (FlowEntryHeader & { payloadBytes: number }) | undefined {
  const h = readFlowHeader(entry);
  if (!h || h.width !== width || h.height !== height) return undefined;
  return { ...h, payloadBytes: 4 * width * height + 8 * h.outOfRange };
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

/**
 * The project's flow cache for frames of width x height and a flow method: one folder per source
 * content, size and method, so a change of any starts afresh. Propagation and the warm-up share it.
 */
export function projectFlowCache(project: Project, width: number, height: number, method: FlowMethod, codec: FlowCodec): FolderFlowCache {
  return new FolderFlowCache(project.path, `${project.source().sha256.slice(0, 16)}-${width}x${height}-${method}`, width, height, codec);
}

export class FolderFlowCache implements FlowCache {
  readonly #dir: string;
  readonly #width: number;
  readonly #height: number;
  readonly #codec: FlowCodec;

  /** `variant` names what the flow depends on (source content, size, method): a change starts a new folder. */
  constructor(projectPath: string, variant: string, width: number, height: number, codec: FlowCodec) {
    this.#dir = path.join(cacheDirOf(projectPath), 'flow', variant);
    this.#width = width;
    this.#height = height;
    this.#codec = codec;
  }

  #file(i: number, dir: FlowDirection, ext: 'flq' | 'f32z'): string {
    return path.join(this.#dir, `${i}-${dir}.${ext}`);
  }

  async get(i: number, dir: FlowDirection): Promise<Float32Array | undefined> {
    const file = this.#file(i, dir, 'flq');
    const entry = await readFile(file).catch(() => undefined);
    if (entry) return decodeFlow(this.#codec, entry, this.#width, this.#height); // damaged: recomputed and overwritten
    const legacyFile = this.#file(i, dir, 'f32z');
    const legacy = await readFile(legacyFile).catch(() => undefined);
    if (!legacy) return undefined;
    const flow = await decodeLegacy(legacy, this.#width * this.#height * 2);
    // Migrate: the compact entry replaces the old one, which is ~20x larger.
    if (flow) await this.put(i, dir, flow);
    await unlink(legacyFile).catch(() => undefined);
    return flow;
  }

  /** Whether an entry of the compact format is stored (not whether it is sound: get() checks that). */
  async has(i: number, dir: FlowDirection): Promise<boolean> {
    return access(this.#file(i, dir, 'flq')).then(() => true, () => false);
  }

  async put(i: number, dir: FlowDirection, data: Float32Array): Promise<void> {
    if (data.length !== this.#width * this.#height * 2) return;
    await mkdir(this.#dir, { recursive: true });
    const file = this.#file(i, dir, 'flq');
    const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      await writeFile(tmp, await encodeFlow(this.#codec, data, this.#width, this.#height));
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined); // no half-written temp file left behind (disk full)
      throw err;
    }
  }
}
