// The entries of a zip file as byte ranges, from its central directory and local headers (zip64
// included: checkpoints pass 4 GB). Only STORED entries have a range: torch.save never compresses,
// so a tensor's bytes lie in the file as they are and are read in place.
import { readAt as readExactRange } from '../read-at.ts';

export class ZipError extends Error {}

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored; anything else is compressed and has no usable byte range. */
  readonly method: number;
  /** Absolute offset of the entry's data in the file, and its size. */
  readonly dataStart: number;
  readonly size: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** Central directories past this size are refused (a state dict of 100k tensors stays far below). */
const MAX_CENTRAL_BYTES = 256 * 1024 * 1024;
const MAX_ENTRIES = 4_000_000;

function readAt(fd: number, position: number, length: number): Buffer {
  return readExactRange(fd, position, length, (at) => new ZipError(`unexpected end of file at byte ${at}`));
}

function u64(b: Buffer, at: number): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('zip64 field out of range');
  return Number(v);
}

/** Reads the directory of a zip file open as `fd`; every range is checked against `fileSize`. */
export function readZipDirectory(fd: number, fileSize: number): Map<string, ZipEntry> {
  if (fileSize < 22) throw new ZipError('file too small to be a zip');
  const tailLen = Math.min(fileSize, 22 + 0xffff);
  const tail = readAt(fd, fileSize - tailLen, tailLen);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('no end-of-central-directory record (truncated zip?)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  const eocdAbs = fileSize - tailLen + eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdAbs < 20) throw new ZipError('zip64 locator missing');
    const loc = readAt(fd, eocdAbs - 20, 20);
    if (loc.readUInt32LE(0) !== EOCD64_LOCATOR) throw new ZipError('zip64 locator missing');
    const recAt = u64(loc, 8);
    if (recAt + 56 > fileSize) throw new ZipError('zip64 record beyond the end of the file');
    const rec = readAt(fd, recAt, 56);
    if (rec.readUInt32LE(0) !== EOCD64) throw new ZipError('zip64 end record missing');
    count = u64(rec, 32);
    cdSize = u64(rec, 40);
    cdOffset = u64(rec, 48);
  }
  if (count > MAX_ENTRIES || cdSize > MAX_CENTRAL_BYTES || cdOffset + cdSize > fileSize) {
    throw new ZipError(`central directory (${count} entries, ${cdSize} bytes at ${cdOffset}) does not fit the ${fileSize}-byte file`);
  }
  const cd = readAt(fd, cdOffset, cdSize);
  const out = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw new ZipError(`central directory entry ${i} is damaged`);
    const method = cd.readUInt16LE(p + 10);
    let compSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localAt = cd.readUInt32LE(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new ZipError(`central directory entry ${i} is damaged`);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extra field: the 64-bit values of the fields set to all ones, in this order
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (e + 4 + len > extraEnd) throw new ZipError(`entry ${name}: damaged extra field`);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len) throw new ZipError(`entry ${name}: short zip64 field`);
          const v = u64(cd, q);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compSize === 0xffffffff) compSize = take();
        if (localAt === 0xffffffff) localAt = take();
      }
      e += 4 + len;
    }
    p = end;
    if (localAt + 30 > fileSize) throw new ZipError(`entry ${name}: local header beyond the end of the file`);
    const local = readAt(fd, localAt, 30);
    if (local.readUInt32LE(0) !== LOCAL) throw new ZipError(`entry ${name}: local header missing`);
    const dataStart = localAt + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (method === 0 && compSize !== size) throw new ZipError(`entry ${name}: stored sizes differ`);
    if (dataStart + compSize > fileSize) throw new ZipError(`entry ${name}: data runs past the end of the file (truncated?)`);
    out.set(name, { name, method, dataStart, size: method === 0 ? size : compSize });
  }
  return out;
}
