// Reads the reference tensors of tests/fixtures/engine/ref (see its README)
// and compares outputs against them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { relError } from '../../helpers/numeric.ts';

export { relError };

export const FIXTURES = fileURLToPath(new URL('../../fixtures/engine/', import.meta.url));
const REF = `${FIXTURES}ref/`;

interface Entry {
  file: string;
  shape: number[];
  dtype: 'float32' | 'int64';
}

let manifest: Record<string, Entry> | null = null;

function entry(name: string): Entry {
  manifest ??= JSON.parse(readFileSync(`${REF}manifest.json`, 'utf8')) as Record<string, Entry>;
  const e = manifest[name];
  if (!e) throw new Error(`reference ${name} not in manifest`);
  return e;
}

function bytes(e: Entry): ArrayBuffer {
  const b = readFileSync(REF + e.file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export function refF32(name: string): { data: Float32Array; dims: number[] } {
  const e = entry(name);
  return { data: new Float32Array(bytes(e)), dims: e.shape };
}

export function refTensor(name: string): ort.Tensor {
  const e = entry(name);
  if (e.dtype === 'int64') return new ort.Tensor('int64', new BigInt64Array(bytes(e)), e.shape);
  return new ort.Tensor('float32', new Float32Array(bytes(e)), e.shape);
}

export function tensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function assertClose(got: ort.Tensor | undefined, want: { data: Float32Array; dims: number[] }, tol: number, what: string): void {
  assert.ok(got, `${what}: missing output`);
  assert.deepEqual([...got.dims], want.dims, `${what}: shape`);
  const err = relError(got.data as Float32Array, want.data);
  assert.ok(err <= tol, `${what}: relative error ${err.toExponential(2)} > ${tol}`);
}
