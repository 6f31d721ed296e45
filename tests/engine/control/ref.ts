// Reads the annotator references of tests/fixtures/engine/annotators (written by
// tools/reference/make_annotator_fixtures.py).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ANNOTATOR_FIXTURES = fileURLToPath(new URL('../../fixtures/engine/annotators/', import.meta.url));

interface Entry {
  file: string;
  shape: number[];
  dtype: 'float32' | 'uint8';
}

let manifest: Record<string, Entry> | null = null;

export function annotatorRef(name: string): { data: Float32Array | Uint8Array; dims: number[] } {
  manifest ??= JSON.parse(readFileSync(`${ANNOTATOR_FIXTURES}manifest.json`, 'utf8')) as Record<string, Entry>;
  const e = manifest[name];
  if (!e) throw new Error(`reference ${name} not in manifest`);
  const b = readFileSync(ANNOTATOR_FIXTURES + e.file);
  const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  return { data: e.dtype === 'uint8' ? new Uint8Array(buf) : new Float32Array(buf), dims: e.shape };
}

export function maxAbs(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!));
  return m;
}

/** PSNR in dB for signals of peak `peak`. */
export function psnr(got: ArrayLike<number>, want: ArrayLike<number>, peak: number): number {
  let se = 0;
  for (let i = 0; i < want.length; i++) se += (got[i]! - want[i]!) ** 2;
  return 10 * Math.log10((peak * peak) / Math.max(se / want.length, 1e-30));
}
