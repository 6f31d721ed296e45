// Access to tests/fixtures/engine (made by tools/reference/make_fixtures.py).
import fs from 'node:fs';
import nodePath from 'node:path';

export const FIXTURES = nodePath.resolve(import.meta.dirname, '..', '..', 'fixtures', 'engine');
export const REF = nodePath.join(FIXTURES, 'ref');
export const CLIP_VOCAB = nodePath.resolve(import.meta.dirname, '..', '..', '..', 'assets', 'clip', 'bpe_simple_vocab_16e6.txt.gz');

interface ManifestEntry {
  file: string;
  shape: number[];
  dtype: 'float32' | 'int64';
}

const manifest = JSON.parse(fs.readFileSync(nodePath.join(REF, 'manifest.json'), 'utf8')) as Record<string, ManifestEntry>;

export function refNames(): string[] {
  return Object.keys(manifest);
}

export function refShape(name: string): number[] {
  const e = manifest[name];
  if (!e) throw new Error(`no reference ${name}`);
  return e.shape;
}

export function refF32(name: string): Float32Array {
  const e = manifest[name];
  if (!e || e.dtype !== 'float32') throw new Error(`no float32 reference ${name}`);
  const b = fs.readFileSync(nodePath.join(REF, e.file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

export function refI64(name: string): number[] {
  const e = manifest[name];
  if (!e || e.dtype !== 'int64') throw new Error(`no int64 reference ${name}`);
  const b = fs.readFileSync(nodePath.join(REF, e.file));
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 8) out.push(Number(b.readBigInt64LE(i)));
  return out;
}

/** Largest |a-b| / max(1, |b|). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}
