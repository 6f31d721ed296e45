// PyTorch checkpoints for tests: a writer of the torch.save zip layout (protocol 2 pickle of
// _rebuild_tensor_v2 calls, stored entries, as torch writes them; torch.load reads its output), and
// mutations of real torch.save files (the pickle's opcodes, the zip directory, plain bytes).
import { crc32 } from 'node:zlib';
import type { Rng } from './prng.ts';
import { mutateBytes } from './bytes.ts';

export type TorchDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const STORAGE: Record<TorchDType, string> = {
  F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', F64: 'DoubleStorage', I64: 'LongStorage',
  I32: 'IntStorage', I16: 'ShortStorage', I8: 'CharStorage', U8: 'ByteStorage', BOOL: 'BoolStorage',
};
const ELEM: Record<TorchDType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface TensorToSave {
  readonly dtype: TorchDType;
  readonly shape: readonly number[];
  /** Little-endian element bytes, row-major. */
  readonly bytes: Uint8Array;
}

/** Emits protocol-2 pickle opcodes (only those torch.save uses). */
class PickleOut {
  private readonly parts: Buffer[] = [];
  op(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    this.parts.push(Buffer.from([0x58]), len, b); // BINUNICODE
    return this;
  }
  int(n: number): this {
    const b = Buffer.alloc(5);
    b[0] = 0x4a; // BININT
    b.writeInt32LE(n, 1);
    this.parts.push(b);
    return this;
  }
  global(module: string, name: string): this {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
    return this;
  }
  intTuple(v: readonly number[]): this {
    this.op(0x28);
    for (const x of v) this.int(x);
    return this.op(0x74);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** The data.pkl of a state dict ({name: tensor}, optionally wrapped as {wrap: state_dict}); storage i = tensor i. */
export function statePickle(names: readonly string[], tensors: readonly TensorToSave[], wrap?: string): Buffer {
  const p = new PickleOut().op(0x80, 2);
  if (wrap !== undefined) p.op(0x7d).str(wrap);
  p.op(0x7d, 0x28); // EMPTY_DICT MARK
  tensors.forEach((t, i) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.str(names[i]!).global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    p.op(0x28).str('storage').global('torch', STORAGE[t.dtype]).str(String(i)).str('cpu').int(n).op(0x74, 0x51); // pid, BINPERSID
    p.int(0).intTuple(t.shape).intTuple(strides).op(0x89).global('collections', 'OrderedDict').op(0x29, 0x52); // OrderedDict()
    p.op(0x74, 0x52); // TUPLE REDUCE
  });
  p.op(0x75); // SETITEMS
  if (wrap !== undefined) p.op(0x73); // SETITEM
  return p.op(0x2e).done();
}

/** A stored (uncompressed) zip of the given entries, in order, as torch's writer lays it out. */
export function storedZip(entries: readonly (readonly [string, Uint8Array])[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(data.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(n.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(data.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(n.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, n, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    centrals.push(ch, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A torch.save zip-layout checkpoint of `tensors` (archive name `archive`). */
export function writeTorchZip(tensors: ReadonlyMap<string, TensorToSave>, wrap?: string, pkl?: Uint8Array): Buffer {
  const names = [...tensors.keys()];
  const list = [...tensors.values()];
  for (const t of list) {
    const want = t.shape.reduce((a, b) => a * b, 1) * ELEM[t.dtype];
    if (t.bytes.length !== want) throw new Error(`${t.dtype}${JSON.stringify(t.shape)} needs ${want} bytes, got ${t.bytes.length}`);
  }
  return storedZip([
    ['archive/data.pkl', pkl ?? statePickle(names, list, wrap)],
    ['archive/byteorder', Buffer.from('little')],
    ...list.map((t, i) => [`archive/data/${i}`, t.bytes] as const),
    ['archive/version', Buffer.from('3\n')],
  ]);
}

// ------------------------------------------------------------------ mutations

export interface PickleMutation {
  label: string;
  bytes: Buffer;
}

/** Opcodes (and byte values) worth planting: calls, memo access, marks, huge lengths. */
const HOSTILE: readonly Buffer[] = [
  Buffer.from('cposix\nsystem\n(X\x05\x00\x00\x00touchtR', 'latin1'),
  Buffer.from('cbuiltins\neval\n', 'latin1'),
  Buffer.from('ctorch.storage\n_load_from_bytes\n', 'latin1'),
  Buffer.from([0x68, 0xff]), // BINGET 255
  Buffer.from([0x6a, 0xff, 0xff, 0xff, 0x7f]), // LONG_BINGET huge
  Buffer.from([0x28, 0x28, 0x28]), // MARKs
  Buffer.from([0x31, 0x30, 0x32]), // POP_MARK POP DUP
  Buffer.from([0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), // BINBYTES8 huge
  Buffer.from([0x58, 0xff, 0xff, 0xff, 0x7f]), // BINUNICODE huge
  Buffer.from([0x8a, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x80]), // LONG1 9 bytes
  Buffer.from([0x62]), // BUILD
  Buffer.from([0x52, 0x81]), // REDUCE NEWOBJ
  Buffer.from([0x2e]), // STOP
];

/** Finds the (stored) data.pkl of a zip fixture from its local header (the first entry torch writes). */
function pklRange(src: Buffer): [number, number] | null {
  const at = src.indexOf('data.pkl');
  const lh = src.lastIndexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), at);
  if (at < 0 || lh < 0) return null;
  const start = lh + 30 + src.readUInt16LE(lh + 26) + src.readUInt16LE(lh + 28);
  return [start, start + src.readUInt32LE(lh + 18)];
}

/** One mutation of a real torch.save file; pickle bytes are changed in place so zip offsets still hold. */
export function mutateTorchFile(r: Rng, src: Buffer): PickleMutation {
  const zip = src.readUInt32LE(0) === 0x04034b50;
  const [ps, pe] = zip ? pklRange(src) ?? [0, src.length] : [0, Math.min(src.length, 700)];
  const b = Buffer.from(src);
  switch (r.int(0, 5)) {
    case 0: {
      const n = r.int(1, 6);
      for (let i = 0; i < n; i++) b[r.int(ps, pe - 1)] = r.int(0, 255);
      return { label: `pickle bytes x${n}`, bytes: b };
    }
    case 1: {
      const h = r.pick(HOSTILE);
      const at = r.int(ps, Math.max(ps, pe - h.length));
      h.copy(b, at, 0, Math.min(h.length, pe - at));
      return { label: `plant ${JSON.stringify(h.toString('latin1').slice(0, 12))}@${at - ps}`, bytes: b };
    }
    case 2: {
      // a small integer (offset, size, stride, numel) changed: views reaching past storages
      const ints: number[] = [];
      for (let i = ps; i < pe - 1; i++) if (b[i] === 0x4b || b[i] === 0x4a) ints.push(i);
      if (ints.length === 0) return { label: 'no ints', bytes: b };
      const at = r.pick(ints);
      b[at + 1] = r.pick([0, 1, 2, 7, 200, 255]);
      return { label: `int@${at - ps}=${b[at + 1]}`, bytes: b };
    }
    case 3: {
      // the zip directory or storages (past the pickle)
      const at = r.int(Math.min(pe, src.length - 1), src.length - 1);
      b[at] = r.int(0, 255);
      return { label: `tail byte@${at}`, bytes: b };
    }
    default: {
      const m = mutateBytes(r, src);
      return { label: `bytes ${m.label}`, bytes: m.bytes };
    }
  }
}
