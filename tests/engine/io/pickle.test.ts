// The pickle interpreter runs nothing: calls stay inert, only the allow-list makes tensors, and a
// weight that needs any other call is refused naming it. The malicious fixtures are armed (their
// maker checks torch.load really runs os.system) and must never touch the marker here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import {
  PickleError, PickleTruncated, PyDict, PyGlobal, PyObject, isTuple, unpickle, type UnpickleHooks,
} from '../../../src-main/engine/weights/pickle/unpickler.ts';
import { readWeightsIndex } from '../../../src-main/engine/weights/tensor-file.ts';
import { loadStableDiffusion } from '../../../src-main/engine/weights/checkpoint.ts';
import { storedZip, writeTorchZip } from '../../fuzz/generators/pickle.ts';
import { FIXTURES } from './fixtures.ts';

const TORCH = nodePath.join(FIXTURES, 'torch');
const MARKER = '/tmp/rerender-studio-pickle-marker';
const inert: UnpickleHooks = { reduce: () => undefined, persistentLoad: (pid) => ({ pid }) };
const run = (bytes: number[] | Buffer, hooks = inert): unknown => unpickle(Buffer.from(bytes), 0, hooks).value;
const text = (s: string): number[] => [...Buffer.from(s, 'latin1')];

test('protocol-2 values: ints, longs, floats, strings, bytes, containers, memo', () => {
  // {'a': [1, -2, 300, 2**40, 1.5, None, True], b'k': ('x', 'é')} with a memoised list reused
  const p = [
    0x80, 2, 0x7d, 0x28,
    0x8c, 1, ...text('a'), 0x5d, 0x71, 0, 0x28, 0x4b, 1, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x4d, 0x2c, 0x01,
    0x8a, 6, 0, 0, 0, 0, 0, 1, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x4e, 0x88, 0x65,
    0x43, 1, ...text('k'), 0x8c, 1, ...text('x'), 0x58, 2, 0, 0, 0, 0xc3, 0xa9, 0x86,
    0x8c, 1, ...text('c'), 0x68, 0, 0x75, 0x2e,
  ];
  const d = run(p) as PyDict;
  assert.ok(d instanceof PyDict);
  const list = d.map.get('a') as unknown[];
  assert.deepEqual(list, [1, -2, 300, 2 ** 40, 1.5, null, true]);
  assert.equal(d.map.get('c'), list, 'BINGET returns the memoised object itself');
  const key = [...d.map.keys()][1] as Uint8Array;
  assert.deepEqual([...key], [0x6b]);
  const t = d.map.get(key);
  assert.ok(isTuple(t));
  assert.deepEqual([...(t as readonly unknown[])], ['x', 'é']);
});

test('a GLOBAL is only a name; REDUCE, NEWOBJ and BUILD on one give inert objects', () => {
  // os.system('touch …') as REDUCE, then NEWOBJ of argparse.Namespace with BUILD state
  const p = [0x80, 2, 0x28, ...text(`cos\nsystem\n`), 0x8c, 5, ...text('touch'), 0x85, 0x52,
    ...text('cargparse\nNamespace\n'), 0x29, 0x81, 0x7d, 0x8c, 2, ...text('lr'), 0x4b, 1, 0x73, 0x62, 0x6c, 0x2e];
  const [call, ns] = run(p) as [PyObject, PyObject];
  assert.ok(call instanceof PyObject && ns instanceof PyObject);
  assert.equal(call.origin.qualified, 'os.system');
  assert.deepEqual([...(call.args as unknown[])], ['touch']);
  assert.equal(ns.origin.qualified, 'argparse.Namespace');
  assert.equal((ns.state as PyDict).map.get('lr'), 1);
  // the reduce hook sees every call, and decides
  const seen: string[] = [];
  run(p, { ...inert, reduce: (fn: PyGlobal) => void seen.push(fn.qualified) });
  assert.deepEqual(seen, ['os.system', 'argparse.Namespace']);
});

test('malformed pickles throw PickleError (truncated: PickleTruncated), never anything else', () => {
  const bad: [number[], RegExp][] = [
    [[0x80, 2, 0x68, 5, 0x2e], /memo entry 5 used before/],
    [[0x80, 2, 0x52, 0x2e], /stack underflow/],
    [[0x80, 2, 0x74, 0x2e], /MARK missing/],
    [[0x80, 2, 0x49, ...text('1\n'), 0x2e], /unsupported pickle opcode 0x49/],
    [[0x80, 2, 0x4b, 1, 0x4b, 2, 0x2e], /STOP with 2 values/],
    [[0x80, 2, 0x4b, 1, 0x73, 0x2e], /stack underflow|SETITEM/],
    [[0x80, 2, 0x58, 2, 0, 0, 0, 0xff, 0xfe, 0x2e], /invalid UTF-8/],
    [[0x80, 9, 0x2e], /protocol above 5/],
  ];
  for (const [p, re] of bad) assert.throws(() => run(p), (e: unknown) => e instanceof PickleError && re.test((e as Error).message), re.source);
  for (const p of [[0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f], [0x80, 2, 0x4b], [0x80, 2, 0x4e]]) {
    assert.throws(() => run(p), PickleTruncated);
  }
});

function refusedWithoutRunning(file: string, re: RegExp): void {
  fs.rmSync(MARKER, { force: true });
  assert.throws(() => readWeightsIndex(file), (e: unknown) => (e as { code?: string }).code === 'BAD_MODEL' && re.test((e as Error).message));
  assert.throws(() => loadStableDiffusion(file), (e: unknown) => (e as { code?: string }).code === 'BAD_MODEL' && re.test((e as Error).message));
  assert.equal(fs.existsSync(MARKER), false, 'the payload ran');
}

test('a malicious torch zip (os.system in __reduce__, protocol 2) is refused naming the call; nothing runs', () => {
  const bytes = fs.readFileSync(nodePath.join(TORCH, 'evil-zip.pt'));
  assert.ok(bytes.includes('posix\nsystem'), 'the fixture holds the call');
  refusedWithoutRunning(nodePath.join(TORCH, 'evil-zip.pt'), /weight evil would need a call to posix\.system/);
});

test('a malicious legacy checkpoint (the whole object is os.system(...)) is refused; nothing runs', () => {
  refusedWithoutRunning(nodePath.join(TORCH, 'evil-legacy.ckpt'), /result of a call to posix\.system/);
});

test('a tensor rebuilt from a storage that needs a non-allowed call (torch.storage._load_from_bytes) is refused', () => {
  const p = [0x80, 2, 0x7d, 0x8c, 1, ...text('w'), ...text('ctorch._utils\n_rebuild_tensor_v2\n'), 0x28,
    ...text('ctorch.storage\n_load_from_bytes\n'), 0x43, 1, 0, 0x85, 0x52, 0x4b, 0, 0x29, 0x29, 0x89, 0x74, 0x52, 0x73, 0x2e];
  const file = nodePath.join(fs.mkdtempSync(nodePath.join(os.tmpdir(), 'rr-pkl-')), 'bytes.pt');
  fs.writeFileSync(file, writeTorchZip(new Map(), undefined, Buffer.from(p)));
  refusedWithoutRunning(file, /weight w would need a call to torch\.storage\._load_from_bytes/);
});

test('torch zips that are compressed, big-endian or point past their storages are refused clearly', () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'rr-pkl-'));
  const t = new Map([['w', { dtype: 'F32' as const, shape: [2], bytes: new Uint8Array(8) }]]);
  const good = writeTorchZip(t);
  const compressed = Buffer.from(good);
  // method field of the central directory entry for data.pkl -> deflate
  compressed.writeUInt16LE(8, compressed.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10);
  const big = storedZip([['archive/data.pkl', good.subarray(30 + 16, 30 + 16 + good.readUInt32LE(18))], ['archive/byteorder', Buffer.from('big')]]);
  const small = writeTorchZip(new Map([['w', { dtype: 'F32' as const, shape: [2], bytes: new Uint8Array(8) }]]));
  // the view's size (2,) -> (9,): MARK BININT 2 TUPLE is the size tuple (the storage's numel follows 'cpu')
  small[small.indexOf(Buffer.from([0x28, 0x4a, 2, 0, 0, 0, 0x74])) + 2] = 9;
  const cases: [string, Buffer, RegExp][] = [
    ['compressed.pt', compressed, /compressed inside the zip/],
    ['big.pt', big, /big-endian/],
    ['past.pt', small, /reaches past its 2-element storage/],
  ];
  for (const [name, bytes, re] of cases) {
    const p = nodePath.join(dir, name);
    fs.writeFileSync(p, bytes);
    assert.throws(() => readWeightsIndex(p), (e: unknown) => (e as { code?: string }).code === 'BAD_MODEL' && re.test((e as Error).message), name);
  }
});
