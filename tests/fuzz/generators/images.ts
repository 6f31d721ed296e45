// Hostile key-frame images and masks: byte mutations of a valid PNG/JPEG, PNGs whose IHDR lies
// (with a correct CRC, so only the declared size is wrong), and a tiny PNG declaring 20000×20000.
import { crc32, deflateSync } from 'node:zlib';
import type { Rng } from './prng.ts';
import { mutateBytes } from './bytes.ts';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** A well-formed PNG header declaring width×height, with a few bytes of (far too little) data. */
export function declaredPng(width: number, height: number, opts: { depth?: number; colorType?: number } = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width >>> 0, 0);
  ihdr.writeUInt32BE(height >>> 0, 4);
  ihdr[8] = opts.depth ?? 8;
  ihdr[9] = opts.colorType ?? 2;
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

/** Rewrites a valid PNG's IHDR fields, recomputing the CRC. */
function lyingIhdr(r: Rng, png: Buffer): { label: string; bytes: Buffer } {
  const b = Buffer.from(png);
  // IHDR data starts at 16 (8 signature + 4 length + 4 type).
  const field = r.int(0, 3);
  let label: string;
  if (field === 0) {
    const w = r.pick([0, 1, 127, 129, 65535, 2 ** 31, 2 ** 32 - 1]);
    b.writeUInt32BE(w >>> 0, 16);
    label = `ihdr width=${w}`;
  } else if (field === 1) {
    const h = r.pick([0, 1, 63, 65, 65535, 2 ** 31, 2 ** 32 - 1]);
    b.writeUInt32BE(h >>> 0, 20);
    label = `ihdr height=${h}`;
  } else if (field === 2) {
    b[24] = r.pick([0, 1, 2, 4, 16, 3, 255]);
    label = `ihdr depth=${b[24]}`;
  } else {
    b[25] = r.pick([0, 1, 3, 4, 5, 6, 7, 255]);
    label = `ihdr colorType=${b[25]}`;
  }
  b.writeUInt32BE(crc32(b.subarray(12, 29)) >>> 0, 29);
  return { label, bytes: b };
}

export interface ImageCase {
  label: string;
  image: Buffer;
  imageExt: 'png' | 'jpg';
  mask: Buffer | null;
  /** The import must be refused (a valid image would otherwise be accepted). */
  mustFail: boolean;
  /** Must be refused fast: decoding the declared size would need gigabytes. */
  quick: boolean;
}

export function imageCase(r: Rng, valid: { png: Buffer; jpg: Buffer; mask: Buffer }): ImageCase {
  switch (r.int(0, 7)) {
    case 0:
      return { label: 'png 20000x20000 declared', image: declaredPng(20000, 20000), imageExt: 'png', mask: null, mustFail: true, quick: true };
    case 1:
    case 6: {
      const m = mutateBytes(r, valid.png);
      return { label: `png ${m.label}`, image: m.bytes, imageExt: 'png', mask: null, mustFail: false, quick: false };
    }
    case 2: {
      const m = lyingIhdr(r, valid.png);
      return { label: `png ${m.label}`, image: m.bytes, imageExt: 'png', mask: null, mustFail: false, quick: true };
    }
    case 3:
    case 7: {
      const m = mutateBytes(r, valid.jpg);
      return { label: `jpg ${m.label}`, image: m.bytes, imageExt: 'jpg', mask: null, mustFail: false, quick: false };
    }
    case 4: {
      const m = r.bool() ? mutateBytes(r, valid.mask) : lyingIhdr(r, valid.mask);
      return { label: `mask ${m.label}`, image: valid.png, imageExt: 'png', mask: m.bytes, mustFail: false, quick: false };
    }
    default:
      return { label: 'mask 20000x20000 declared', image: valid.png, imageExt: 'png', mask: declaredPng(20000, 20000, { colorType: 0 }), mustFail: true, quick: true };
  }
}
