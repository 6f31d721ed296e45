// Byte-level mutations of a valid file: each returns a new buffer and a short label for the case name.
import type { Rng } from './prng.ts';

export interface Mutation {
  label: string;
  bytes: Buffer;
}

export function flipBits(r: Rng, src: Buffer, count = r.int(1, 16)): Mutation {
  const b = Buffer.from(src);
  for (let i = 0; i < count; i++) b[r.int(0, b.length - 1)]! ^= 1 << r.int(0, 7);
  return { label: `flip${count}`, bytes: b };
}

export function truncate(r: Rng, src: Buffer): Mutation {
  const n = r.int(0, Math.max(0, src.length - 1));
  return { label: `trunc@${n}`, bytes: Buffer.from(src.subarray(0, n)) };
}

export function zeroRange(r: Rng, src: Buffer): Mutation {
  const start = r.int(0, src.length - 1);
  const len = r.int(1, Math.min(4096, src.length - start));
  const b = Buffer.from(src);
  b.fill(0, start, start + len);
  return { label: `zero@${start}+${len}`, bytes: b };
}

/** Swaps two byte ranges, one of them in the first `head` bytes (where headers and indexes live). */
export function swapRanges(r: Rng, src: Buffer, head = 512): Mutation {
  const len = r.int(4, 64);
  const a = r.int(0, Math.max(0, Math.min(head, src.length) - len));
  const c = r.int(0, Math.max(0, src.length - len));
  const b = Buffer.from(src);
  const tmp = Buffer.from(b.subarray(a, a + len));
  b.copy(b, a, c, c + len);
  tmp.copy(b, c);
  return { label: `swap${a}<>${c}+${len}`, bytes: b };
}

export function mutateBytes(r: Rng, src: Buffer): Mutation {
  return r.pick([flipBits, truncate, zeroRange, swapRanges])(r, src);
}
