// Kernel parameter layouts and slots (gpu/params.ts): the WGSL struct and the host's words come
// from one declaration, WGSL's uniform alignment is kept, and each slot holds exactly one
// dispatch's values with the right bit patterns. Host-only: no GPU needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParamSlots, SLOT_BYTES, paramLayout } from '../../../src-main/propagate/gpu/params.ts';
import { BLEND_PARAMS } from '../../../src-main/propagate/gpu/blend-kernels.ts';
import { GUIDE_PARAMS } from '../../../src-main/propagate/gpu/guide-kernels.ts';
import { SYNTH_PARAMS } from '../../../src-main/propagate/gpu/kernels.ts';

/** The struct's members, in order, as the WGSL declares them. */
function members(wgsl: string): [string, string][] {
  const body = /struct P \{([^}]*)\}/.exec(wgsl)?.[1] ?? '';
  return body.split(',').map((m) => m.trim()).filter(Boolean).map((m) => m.split(':').map((x) => x.trim()) as [string, string]);
}

test('a vec4f starts on a 16-byte boundary and the struct ends on one, padded with u32 words', () => {
  const l = paramLayout({ a: 'u32', b: 'f32', v: 'vec4f', c: 'i32' });
  assert.deepEqual(l.word, { a: 0, b: 1, v: 4, c: 8 });
  assert.equal(l.bytes, 48);
  assert.deepEqual(members(l.wgsl), [['a', 'u32'], ['b', 'f32'], ['pad2', 'u32'], ['pad3', 'u32'], ['v', 'vec4f'], ['c', 'i32'], ['pad9', 'u32'], ['pad10', 'u32'], ['pad11', 'u32']]);
  assert.match(l.wgsl, /@group\(0\) @binding\(0\) var<uniform> p: P;/);
});

test('the WGSL members sit at the words the host writes, for every kernel family', () => {
  for (const layout of [SYNTH_PARAMS, BLEND_PARAMS, GUIDE_PARAMS]) {
    let word = 0;
    for (const [name, type] of members(layout.wgsl)) {
      if (!name.startsWith('pad')) {
        assert.equal((layout.word as Record<string, number>)[name], word, name);
        assert.equal((layout.fields as Record<string, string>)[name], type, name);
      }
      word += type === 'vec4f' ? 4 : 1;
    }
    assert.equal(word * 4, layout.bytes);
    assert.ok(layout.bytes <= SLOT_BYTES);
  }
});

test('a layout larger than one slot is refused', () => {
  const many = Object.fromEntries(Array.from({ length: SLOT_BYTES / 4 + 1 }, (_, i) => [`f${i}`, 'u32' as const]));
  assert.throws(() => paramLayout(many), /more than a 256-byte slot/);
});

test('each slot holds one dispatch: typed bits, zeros where a field is left out, its byte offset returned', () => {
  const l = paramLayout({ i: 'i32', u: 'u32', f: 'f32', v: 'vec4f' });
  const slots = new ParamSlots(l, 3);
  assert.equal(slots.push({ i: -2, u: 0xfffffffe, f: 0.1, v: [1, 2, 3] }), 0);
  assert.equal(slots.push({ u: 7 }), SLOT_BYTES);
  assert.equal(slots.used, 2);
  const writes: [GPUBuffer, number, ArrayBuffer, number, number][] = [];
  const queue = { writeBuffer: (...a: [GPUBuffer, number, ArrayBuffer, number, number]) => writes.push(a) } as unknown as GPUQueue;
  const uniform = {} as GPUBuffer;
  slots.upload(queue, uniform);
  assert.equal(writes.length, 1);
  const [buffer, at, data, from, size] = writes[0] as (typeof writes)[number];
  assert.equal(buffer, uniform);
  assert.deepEqual([at, from, size], [0, 0, 2 * SLOT_BYTES]);
  const i32 = new Int32Array(data), u32 = new Uint32Array(data), f32 = new Float32Array(data);
  assert.equal(i32[0], -2);
  assert.equal(u32[1], 0xfffffffe);
  assert.equal(f32[2], Math.fround(0.1));
  assert.deepEqual([...f32.subarray(4, 8)], [1, 2, 3, 0]);
  // The second slot: only u, though the first slot's words were non-zero at the same places.
  const second = u32.subarray(SLOT_BYTES / 4, SLOT_BYTES / 4 + 8);
  assert.deepEqual([...second], [0, 7, 0, 0, 0, 0, 0, 0]);

  slots.push({});
  assert.throws(() => slots.push({}), /all 3 parameter slots are used/);
  slots.clear();
  assert.equal(slots.used, 0);
  slots.upload(queue, uniform);
  assert.equal(writes.length, 1, 'nothing to upload after clear()');
  assert.equal(slots.push({ i: 1 }), 0);
});
