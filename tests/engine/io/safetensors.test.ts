import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import {
  SafetensorsError, float32ToF16Bits, readSafetensorsHeader, readTensorFloat32, readTensorInt64, writeSafetensors,
} from '../../../src-main/engine/weights/safetensors.ts';
import { FIXTURES } from './fixtures.ts';

const tmp = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'st-'));

test('write then read roundtrips F32, F16, BF16, I64 and metadata', () => {
  const p = nodePath.join(tmp, 'rt.safetensors');
  const f32 = new Float32Array([1.5, -2.25, 3e-8, 65504, 0.1, -0]);
  const bf = new Uint16Array([0x3f80, 0xc000, 0x4049]); // 1, -2, 3.140625
  writeSafetensors(p, {
    a: { dtype: 'F32', shape: [2, 3], data: f32 },
    h: { dtype: 'F16', shape: [6], data: float32ToF16Bits(f32) },
    b: { dtype: 'BF16', shape: [3], data: bf },
    i: { dtype: 'I64', shape: [1, 3], data: new BigInt64Array([0n, -5n, 76n]) },
    s: { dtype: 'F32', shape: [], data: new Float32Array([4]) },
  }, { format: 'pt' });
  const h = readSafetensorsHeader(p);
  assert.equal(((8 + Number(fs.readFileSync(p).readBigUInt64LE(0))) % 8), 0, 'data starts 8-byte aligned');
  assert.deepEqual(h.metadata, { format: 'pt' });
  assert.deepEqual(h.tensors.get('a')!.shape, [2, 3]);
  assert.deepEqual(readTensorFloat32(p, h.tensors.get('a')!), f32);
  const half = readTensorFloat32(p, h.tensors.get('h')!);
  assert.deepEqual([half[0], half[1], half[3]], [1.5, -2.25, 65504]);
  assert.ok(Math.abs(half[4]! - 0.1) < 1e-4);
  assert.ok(Math.abs(half[2]! - 3e-8) < 3e-8, 'subnormal half');
  assert.deepEqual([...readTensorFloat32(p, h.tensors.get('b')!)], [1, -2, 3.140625]);
  assert.deepEqual([...readTensorInt64(p, h.tensors.get('i')!)], [0n, -5n, 76n]);
  assert.deepEqual([...readTensorFloat32(p, h.tensors.get('s')!)], [4]);
});

test('reads files written by the Python safetensors library (F16 LoRA, I64 position ids)', () => {
  const p = nodePath.join(FIXTURES, 'tiny-sd.safetensors');
  const h = readSafetensorsHeader(p);
  const ids = h.tensors.get('cond_stage_model.transformer.text_model.embeddings.position_ids')!;
  assert.equal(ids.dtype, 'I64');
  assert.deepEqual([...readTensorInt64(p, ids)].slice(0, 3), [0n, 1n, 2n]);
  const lora = nodePath.join(FIXTURES, 'lora-kohya-ldm-f16.safetensors');
  const lh = readSafetensorsHeader(lora);
  const alpha = [...lh.tensors.values()].find((t) => t.name.endsWith('.alpha'))!;
  assert.equal(alpha.dtype, 'F16');
  assert.deepEqual(alpha.shape, []);
  assert.ok(readTensorFloat32(lora, alpha)[0]! > 0);
});

function corrupt(name: string, bytes: Buffer): string {
  const p = nodePath.join(tmp, name);
  fs.writeFileSync(p, bytes);
  return p;
}

function withHeader(json: string, dataBytes: number): Buffer {
  const h = Buffer.from(json);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, Buffer.alloc(dataBytes)]);
}

test('corrupt headers give SafetensorsError with a clear message', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['tiny', Buffer.from([1, 2, 3]), /too small/],
    ['hugelen', Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), Buffer.alloc(16)]), /exceeds the file size/],
    ['badjson', withHeader('{"a": ', 0), /not valid JSON/],
    ['array', withHeader('[1,2]', 0), /not a JSON object/],
    ['dtype', withHeader('{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', 1), /unsupported dtype/],
    ['size', withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', 8), /do not hold 8 bytes/],
    ['beyond', withHeader('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8), /beyond/],
    ['overlap', withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', 12), /overlap/],
    ['shape', withHeader('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4), /invalid shape/],
  ];
  for (const [name, bytes, re] of cases) {
    const p = corrupt(`${name}.safetensors`, bytes);
    assert.throws(() => readSafetensorsHeader(p), (e: unknown) => e instanceof SafetensorsError && re.test(e.message), name);
  }
});

test('a truncated real file is detected', () => {
  const full = fs.readFileSync(nodePath.join(FIXTURES, 'lora-peft.safetensors'));
  const p = corrupt('trunc.safetensors', full.subarray(0, full.length - 10));
  assert.throws(() => readSafetensorsHeader(p), /beyond|truncated/);
});
