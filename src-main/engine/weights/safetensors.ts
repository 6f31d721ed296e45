// safetensors reader and writer. Tensors are read on demand with positioned fd reads so a
// multi-GB checkpoint is never held in one Buffer; the header is validated against the file size.
import fs from 'node:fs';
import { CodedError } from '../../errors.ts';
import { toHalf } from '../half.ts';
import { readAt } from './read-at.ts';

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<DType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Header larger than this is treated as corrupt (real files have headers of a few MB at most). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsError extends CodedError<'BAD_MODEL'> {
  readonly path: string;
  constructor(path: string, message: string) {
    super('BAD_MODEL', `${path}: ${message}`);
    this.path = path;
  }
}

export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Absolute byte range in the file (for a strided view: from its first to past its last element). */
  readonly begin: number;
  readonly end: number;
  /**
   * Element strides of a non-contiguous view (PyTorch checkpoints: a transposed or sliced tensor
   * sharing a storage); absent for contiguous data, which is the plain byte range.
   */
  readonly strides?: readonly number[];
}

export interface SafetensorsHeader {
  readonly path: string;
  readonly fileSize: number;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
}

export function dtypeBytes(dtype: DType): number {
  return DTYPE_BYTES[dtype];
}

function isDType(v: unknown): v is DType {
  return typeof v === 'string' && Object.hasOwn(DTYPE_BYTES, v);
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}


/** Reads and validates the header only. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = fs.openSync(path, 'r');
  try {
    const fileSize = fs.fstatSync(fd).size;
    if (fileSize < 8) throw new SafetensorsError(path, `file too small (${fileSize} bytes) to be safetensors`);
    const short = (at: number) => new SafetensorsError(path, `unexpected end of file at byte ${at}`);
    const lenBuf = readAt(fd, 0, 8, short);
    const headerLen = lenBuf.readBigUInt64LE(0);
    if (headerLen > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) {
      throw new SafetensorsError(path, `header length ${headerLen} exceeds the file size ${fileSize} (corrupt or not safetensors)`);
    }
    const hb = readAt(fd, 8, Number(headerLen), short);
    let json: unknown;
    try {
      json = JSON.parse(hb.toString('utf8'));
    } catch (e) {
      throw new SafetensorsError(path, `header is not valid JSON (${(e as Error).message})`);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new SafetensorsError(path, 'header is not a JSON object');
    }
    const dataStart = 8 + Number(headerLen);
    const dataSize = fileSize - dataStart;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    const ranges: [number, number, string][] = [];
    for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = parseMetadata(path, raw);
        continue;
      }
      const info = parseEntry(path, name, raw, dataSize);
      tensors.set(name, { ...info, begin: dataStart + info.begin, end: dataStart + info.end });
      ranges.push([info.begin, info.end, name]);
    }
    ranges.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) {
      const prev = ranges[i - 1]!;
      const cur = ranges[i]!;
      if (cur[0] < prev[1]) throw new SafetensorsError(path, `tensors ${prev[2]} and ${cur[2]} overlap`);
    }
    return { path, fileSize, tensors, metadata };
  } finally {
    fs.closeSync(fd);
  }
}

function parseMetadata(path: string, raw: unknown): Record<string, string> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SafetensorsError(path, '__metadata__ is not an object');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new SafetensorsError(path, `__metadata__.${k} is not a string`);
    out[k] = v;
  }
  return out;
}

function parseEntry(path: string, name: string, raw: unknown, dataSize: number): TensorInfo {
  if (raw === null || typeof raw !== 'object') throw new SafetensorsError(path, `tensor ${name}: entry is not an object`);
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!isDType(e.dtype)) throw new SafetensorsError(path, `tensor ${name}: unsupported dtype ${String(e.dtype)}`);
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new SafetensorsError(path, `tensor ${name}: invalid shape ${JSON.stringify(e.shape)}`);
  }
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new SafetensorsError(path, `tensor ${name}: invalid data_offsets ${JSON.stringify(off)}`);
  }
  const [begin, end] = off as [number, number];
  const shape = e.shape as number[];
  const want = numel(shape) * DTYPE_BYTES[e.dtype];
  if (end < begin || end - begin !== want) {
    throw new SafetensorsError(path, `tensor ${name}: data_offsets [${begin}, ${end}] do not hold ${want} bytes for ${e.dtype}${JSON.stringify(shape)}`);
  }
  if (end > dataSize) {
    throw new SafetensorsError(path, `tensor ${name}: data ends at ${end} beyond the ${dataSize} data bytes (truncated file?)`);
  }
  return { name, dtype: e.dtype, shape, begin, end };
}

/** Raw bytes of one tensor (little-endian, as stored; a strided view gathered into row-major order). */
export function readTensorBytes(path: string, info: TensorInfo): Buffer {
  const fd = fs.openSync(path, 'r');
  let buf: Buffer;
  try {
    buf = readAt(fd, info.begin, info.end - info.begin, (at) => new SafetensorsError(path, `unexpected end of file at byte ${at}`));
  } finally {
    fs.closeSync(fd);
  }
  return info.strides ? gatherStrided(buf, info.shape, info.strides, DTYPE_BYTES[info.dtype]) : buf;
}

/** Copies the elements of a strided view (`span` starts at its first element) into a dense buffer. */
export function gatherStrided(span: Uint8Array, shape: readonly number[], strides: readonly number[], elemBytes: number): Buffer {
  const n = numel(shape);
  const out = Buffer.alloc(n * elemBytes);
  if (n === 0) return out;
  const rank = shape.length;
  // innermost dimension copied as one run when its elements are adjacent
  const inner = rank === 0 ? 1 : shape[rank - 1]!;
  const innerStride = rank === 0 ? 1 : strides[rank - 1]!;
  const run = innerStride === 1 ? inner * elemBytes : 0;
  const idx = new Array<number>(Math.max(0, rank - 1)).fill(0);
  // element-wise copies through same-width integer views (both buffers start aligned: Buffer.alloc)
  const View = elemBytes === 8 ? BigUint64Array : elemBytes === 4 ? Uint32Array : elemBytes === 2 ? Uint16Array : Uint8Array;
  const aligned = span.byteOffset % elemBytes === 0 && span.length % elemBytes === 0;
  const from = aligned ? new View(span.buffer as ArrayBuffer, span.byteOffset, span.length / elemBytes) : null;
  const to = new View(out.buffer as ArrayBuffer, out.byteOffset, n);
  let src = 0; // element offset of the current row's start
  for (let o = 0; o < out.length; ) {
    if (run > 0) {
      out.set(span.subarray(src * elemBytes, src * elemBytes + run), o);
      o += run;
    } else if (from) {
      const e = o / elemBytes;
      for (let j = 0; j < inner; j++) to[e + j] = from[src + j * innerStride]!;
      o += inner * elemBytes;
    } else {
      for (let j = 0; j < inner; j++, o += elemBytes) {
        const at = (src + j * innerStride) * elemBytes;
        out.set(span.subarray(at, at + elemBytes), o);
      }
    }
    // odometer over the outer dimensions
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      src += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      src -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

let halfTable: Float32Array | null = null;

/** All 65536 half values as float32 (256 KB, built once): a lookup is ~30x faster than decoding. */
function halfLookup(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

/** Converts stored bytes of any supported dtype to float32 (int64 goes through Number). */
export function bytesToFloat32(buf: Buffer, dtype: DType): Float32Array {
  const n = buf.length / DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  const aligned = buf.byteOffset % 4 === 0;
  switch (dtype) {
    case 'F32':
      // little-endian hosts (all supported platforms) copy the bytes as they are
      if (LITTLE_ENDIAN && aligned) out.set(new Float32Array(buf.buffer, buf.byteOffset, n));
      else if (LITTLE_ENDIAN) out.set(new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)));
      else for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(i * 4);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = buf.readDoubleLE(i * 8);
      break;
    case 'F16': {
      const table = halfLookup();
      if (LITTLE_ENDIAN && aligned) {
        const h = new Uint16Array(buf.buffer, buf.byteOffset, n);
        for (let i = 0; i < n; i++) out[i] = table[h[i]!]!;
      } else {
        for (let i = 0; i < n; i++) out[i] = table[buf.readUInt16LE(i * 2)]!;
      }
      break;
    }
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = buf.readUInt16LE(i * 2) << 16;
      break;
    }
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = Number(buf.readBigInt64LE(i * 8));
      break;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = buf.readInt32LE(i * 4);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = buf.readInt16LE(i * 2);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = buf.readInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = buf[i]!;
      break;
  }
  return out;
}

const FLOAT_DTYPES: ReadonlySet<DType> = new Set<DType>(['F64', 'F32', 'F16', 'BF16']);

export function isFloatDType(dtype: DType): boolean {
  return FLOAT_DTYPES.has(dtype);
}

/** Refuses an integer tensor where a float weight is needed: typically float bits mislabelled I32/I16. */
export function assertFloatDType(path: string, info: TensorInfo): void {
  if (!isFloatDType(info.dtype)) {
    throw new SafetensorsError(path, `tensor ${info.name} is ${info.dtype}, but the model needs floating-point weights here (F32, F16, BF16 or F64); the file is mislabelled or not this kind of model`);
  }
}

/**
 * Counts NaN/Inf values (exponent bits all ones) in stored little-endian bytes of a float dtype,
 * with integer masks over the raw words: no value is converted, so this runs at memory speed.
 */
export function countNonFinite(bytes: Uint8Array, dtype: DType): number {
  if (!isFloatDType(dtype)) return 0;
  // Uint16/Uint32 views need an aligned offset; an unaligned buffer is scanned from a copy
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  let count = 0;
  if (dtype === 'F16' || dtype === 'BF16') {
    const exp = dtype === 'F16' ? 0x7c00 : 0x7f80;
    // two halves per 32-bit word (about twice as fast as a Uint16 loop); Int32 views keep every
    // element a small integer in V8, where Uint32 values above 2^31 become doubles
    const words = new Int32Array(b.buffer, b.byteOffset, b.length >>> 2);
    const lo = exp;
    const hi = exp << 16;
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if ((w & lo) === lo) count++;
      if ((w & hi) === hi) count++;
    }
    if (b.length & 2) {
      const last = b[b.length - 2]! | (b[b.length - 1]! << 8);
      if ((last & exp) === exp) count++;
    }
    return count;
  }
  const words = new Int32Array(b.buffer, b.byteOffset, b.length >>> 2);
  if (dtype === 'F32') {
    for (let i = 0; i < words.length; i++) if ((words[i]! & 0x7f800000) === 0x7f800000) count++;
    return count;
  }
  // F64: the exponent lives in the high (odd, little-endian) word of each pair
  for (let i = 1; i < words.length; i += 2) if ((words[i]! & 0x7ff00000) === 0x7ff00000) count++;
  return count;
}

/** Refuses a float tensor holding NaN or Inf: such a model renders garbage (or black) silently. */
export function assertFinite(path: string, info: TensorInfo, bytes: Uint8Array): void {
  const bad = countNonFinite(bytes, info.dtype);
  if (bad > 0) {
    const total = numel(info.shape);
    throw new SafetensorsError(path, `tensor ${info.name} holds ${bad} NaN or Inf value${bad === 1 ? '' : 's'} (of ${total}); the model file is damaged`);
  }
}

export interface ReadFloatOptions {
  /** Accept integer dtypes too (a scalar such as a LoRA alpha may be stored as an integer). */
  readonly allowInteger?: boolean;
}

/**
 * A tensor as float32. Every weight the engine uses passes here, so this is where a bad model is
 * refused: an integer dtype where a float is needed, and NaN/Inf in float data.
 */
export function readTensorFloat32(path: string, info: TensorInfo, options: ReadFloatOptions = {}): Float32Array {
  if (!options.allowInteger) assertFloatDType(path, info);
  const bytes = readTensorBytes(path, info);
  assertFinite(path, info, bytes);
  return bytesToFloat32(bytes, info.dtype);
}

export function readTensorInt64(path: string, info: TensorInfo): BigInt64Array {
  if (info.dtype !== 'I64') throw new SafetensorsError(path, `tensor ${info.name} is ${info.dtype}, not I64`);
  const buf = readTensorBytes(path, info);
  const out = new BigInt64Array(buf.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = buf.readBigInt64LE(i * 8);
  return out;
}

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

export interface TensorToWrite {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Typed array of the dtype's element type; F16/BF16 take raw Uint16Array bits. */
  readonly data: TensorData;
}

/** Float32 values to F16 bits (round to nearest even), for writing F16 tensors. */
export function float32ToF16Bits(values: Float32Array): Uint16Array {
  return toHalf(values);
}

/** Writes a safetensors file: header padded with spaces to 8 bytes, tensors in the given order. */
export function writeSafetensors(path: string, tensors: ReadonlyMap<string, TensorToWrite> | Record<string, TensorToWrite>, metadata?: Record<string, string>): void {
  const entries: [string, TensorToWrite][] = tensors instanceof Map ? [...(tensors as ReadonlyMap<string, TensorToWrite>).entries()] : Object.entries(tensors as Record<string, TensorToWrite>);
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  const blobs: Uint8Array[] = [];
  for (const [name, t] of entries) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const want = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (bytes.length !== want) throw new SafetensorsError(path, `tensor ${name}: ${bytes.length} bytes given, ${t.dtype}${JSON.stringify(t.shape)} needs ${want}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + want] };
    offset += want;
    blobs.push(bytes);
  }
  let hjson = JSON.stringify(header);
  hjson += ' '.repeat((8 - (Buffer.byteLength(hjson) % 8)) % 8);
  const hbuf = Buffer.from(hjson, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hbuf.length));
  const fd = fs.openSync(path, 'w');
  try {
    fs.writeSync(fd, len);
    fs.writeSync(fd, hbuf);
    for (const b of blobs) fs.writeSync(fd, b);
  } finally {
    fs.closeSync(fd);
  }
}
