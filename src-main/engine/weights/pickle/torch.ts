// PyTorch checkpoints (torch.save) read as a tensor index, with nothing run: the pickle is
// interpreted by unpickler.ts with an allow-list of the few names a state dict needs, and every
// tensor becomes a byte range (plus strides for a view) into the file, read later like safetensors.
//
// Layouts: the zip one (torch >= 1.6: `<archive>/data.pkl` + stored `<archive>/data/<key>`) and the
// legacy one (pickles in a row: magic number, protocol, sys info, the object, the storage keys; then
// each storage as an int64 element count and its raw bytes).
//
// Which dict is the state dict: the checkpoint itself when one of its values is a tensor; otherwise
// its 'state_dict', 'model', 'module' or 'params_ema' entry (the first that is a dict), looked up
// again inside that one, up to four levels. Everything else in the file (optimizer state, training
// callbacks, hyperparameters) stays inert and is never looked at.
import fs from 'node:fs';
import { SafetensorsError, dtypeBytes, numel, type DType, type SafetensorsHeader, type TensorInfo } from '../safetensors.ts';
import {
  PickleError, PickleTruncated, PyDict, PyGlobal, PyObject, TensorLike, isTuple, unpickle, type PyTuple, type UnpickleHooks,
} from './unpickler.ts';
import { ZipError, readZipDirectory, type ZipEntry } from './zip.ts';
import { readAt as readExactRange } from '../read-at.ts';

const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64', LongStorage: 'I64',
  IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

const STATE_DICT_KEYS = ['state_dict', 'model', 'module', 'params_ema'];
/** The legacy layout's first pickle: torch.serialization.MAGIC_NUMBER. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** One storage (a flat typed buffer several tensors may view). dataStart is set once known. */
class Storage {
  readonly key: string;
  readonly dtype: DType;
  readonly numel: number;
  dataStart = -1;
  constructor(key: string, dtype: DType, count: number) {
    this.key = key;
    this.dtype = dtype;
    this.numel = count;
  }
}

/** What _rebuild_tensor_v2 would have made: a view of a storage. */
class TorchTensor extends TensorLike {
  readonly storage: Storage;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  constructor(storage: Storage, offset: number, shape: readonly number[], strides: readonly number[]) {
    super();
    this.storage = storage;
    this.offset = offset;
    this.shape = shape;
    this.strides = strides;
  }
}

/** A rebuild call with arguments that make no tensor; refused only if the state dict holds it. */
class InvalidTensor extends TensorLike {
  readonly reason: string;
  constructor(reason: string) {
    super();
    this.reason = reason;
  }
}

function intList(v: unknown): number[] | null {
  if (!Array.isArray(v)) return null;
  return v.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) ? (v as number[]) : null;
}

function rebuildTensor(args: PyTuple): TensorLike | PyObject {
  const [storage, offset, size, stride] = args;
  if (storage instanceof PyObject) return new PyObject(storage.origin, args); // e.g. torch.storage._load_from_bytes
  if (!(storage instanceof Storage)) return new InvalidTensor('its storage is not a storage record');
  const shape = intList(size);
  const strides = intList(stride);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0 || !shape || !strides || shape.length !== strides.length) {
    return new InvalidTensor(`bad view arguments (offset ${String(offset)}, size ${JSON.stringify(size)}, stride ${JSON.stringify(stride)})`);
  }
  return new TorchTensor(storage, offset as number, shape, strides);
}

function isGlobal(v: unknown, qualified: string): boolean {
  return v instanceof PyGlobal && v.qualified === qualified;
}

/** The allow-list: each name maps to what calling it makes, computed here without running anything. */
function allowedReduce(fn: PyGlobal, args: PyTuple): unknown {
  switch (fn.qualified) {
    case 'collections.OrderedDict': {
      const d = new PyDict();
      const items = args[0];
      if (Array.isArray(items)) for (const kv of items) if (Array.isArray(kv) && kv.length === 2) d.map.set(kv[0], kv[1]);
      return d;
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2':
      return rebuildTensor(args);
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      // Parameter(data): the tensor itself
      return args[0] instanceof TensorLike || args[0] instanceof PyObject ? args[0] : new InvalidTensor('parameter without tensor data');
    case 'torch._tensor._rebuild_from_type_v2': {
      // (func, type, args, state): a plain Tensor or Parameter is func(*args)
      const [func, type, inner] = args;
      if (!(func instanceof PyGlobal) || !isTuple(inner)) return undefined;
      if (!isGlobal(type, 'torch._tensor.Tensor') && !isGlobal(type, 'torch.Tensor') && !isGlobal(type, 'torch.nn.parameter.Parameter')) return undefined;
      return allowedReduce(func, inner) ?? new PyObject(func, inner);
    }
    case 'torch.Size':
      return isTuple(args[0]) ? args[0] : undefined;
    default:
      return undefined;
  }
}

function hooksFor(lookup: (key: string, dtype: DType, count: number) => Storage): UnpickleHooks {
  return {
    reduce: allowedReduce,
    persistentLoad(pid: unknown): unknown {
      // ('storage', storage_type, key, location, numel[, view_metadata])
      if (!isTuple(pid) || pid[0] !== 'storage') {
        return new PyObject(new PyGlobal('torch.serialization', 'persistent_load'), pid);
      }
      const [, type, key, , count] = pid;
      if (!(type instanceof PyGlobal) || type.module !== 'torch' || !Object.hasOwn(STORAGE_DTYPES, type.name)) {
        throw new PickleError(`storage of type ${type instanceof PyGlobal ? type.qualified : String(type)} is not supported (float, half, bfloat16 and integer storages are)`);
      }
      if (typeof key !== 'string' || !Number.isSafeInteger(count) || (count as number) < 0) throw new PickleError(`malformed storage record ${String(key)}`);
      return lookup(key, STORAGE_DTYPES[type.name]!, count as number);
    },
  };
}

function storageLookup(): { lookup: (key: string, dtype: DType, count: number) => Storage; storages: Map<string, Storage> } {
  const storages = new Map<string, Storage>();
  const lookup = (key: string, dtype: DType, count: number): Storage => {
    const s = storages.get(key);
    if (s) {
      if (s.dtype !== dtype || s.numel !== count) throw new PickleError(`storage ${key} is described two ways`);
      return s;
    }
    const made = new Storage(key, dtype, count);
    storages.set(key, made);
    return made;
  };
  return { lookup, storages };
}

function describe(v: unknown): string {
  if (v instanceof PyObject) return `an object made by ${v.origin.qualified}`;
  if (v instanceof PyGlobal) return `a reference to ${v.qualified}`;
  if (v instanceof PyDict) return 'a dict';
  return Array.isArray(v) ? 'a list or tuple' : typeof v;
}

function hasTensor(d: PyDict): boolean {
  for (const v of d.map.values()) if (v instanceof TensorLike) return true;
  return false;
}

/** Finds the state dict (see the rule at the top) and its tensors, refusing one made by a call not allowed. */
function stateDictTensors(path: string, root: unknown): Map<string, TorchTensor> {
  if (root instanceof PyObject) {
    throw new SafetensorsError(path, `the checkpoint is the result of a call to ${root.origin.qualified}, which Rerender Studio never runs (not a state dict; possibly malicious)`);
  }
  let d: unknown = root;
  for (let depth = 0; depth < 4 && d instanceof PyDict && !hasTensor(d); depth++) {
    const next = STATE_DICT_KEYS.map((k) => (d as PyDict).map.get(k)).find((v) => v instanceof PyDict);
    if (!next) break;
    d = next;
  }
  if (!(d instanceof PyDict)) throw new SafetensorsError(path, `the checkpoint holds ${describe(d)}, not a state dict of tensors`);
  const out = new Map<string, TorchTensor>();
  for (const [k, v] of d.map) {
    if (typeof k !== 'string') continue;
    if (v instanceof TorchTensor) out.set(k, v);
    else if (v instanceof PyObject) {
      throw new SafetensorsError(path, `weight ${k} would need a call to ${v.origin.qualified}, which Rerender Studio never runs (only plain tensors are read; the file may be malicious)`);
    } else if (v instanceof InvalidTensor) throw new SafetensorsError(path, `weight ${k}: ${v.reason}`);
  }
  if (out.size === 0) throw new SafetensorsError(path, 'the checkpoint holds no tensors in its state dict');
  return out;
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

function tensorInfo(path: string, name: string, t: TorchTensor): TensorInfo {
  const { storage, shape, strides, offset } = t;
  const es = dtypeBytes(storage.dtype);
  const n = numel(shape);
  if (!Number.isSafeInteger(n * es)) throw new SafetensorsError(path, `weight ${name}: shape ${JSON.stringify(shape)} too large`);
  const base = storage.dataStart + offset * es;
  if (n === 0) return { name, dtype: storage.dtype, shape, begin: base, end: base };
  let last = offset;
  for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * strides[i]!;
  if (!Number.isSafeInteger(last) || last >= storage.numel) {
    throw new SafetensorsError(path, `weight ${name}: view (offset ${offset}, shape ${JSON.stringify(shape)}, strides ${JSON.stringify(strides)}) reaches past its ${storage.numel}-element storage`);
  }
  const want = contiguousStrides(shape);
  const contiguous = shape.every((d, i) => d === 1 || strides[i] === want[i]);
  if (contiguous) return { name, dtype: storage.dtype, shape, begin: base, end: base + n * es };
  return { name, dtype: storage.dtype, shape, begin: base, end: storage.dataStart + (last + 1) * es, strides };
}

function indexOf(path: string, fileSize: number, root: unknown, format: string): SafetensorsHeader {
  const tensors = new Map<string, TensorInfo>();
  for (const [name, t] of stateDictTensors(path, root)) tensors.set(name, tensorInfo(path, name, t));
  return { path, fileSize, tensors, metadata: { format } };
}

function readAt(fd: number, position: number, length: number): Buffer {
  return readExactRange(fd, position, length, (at) => new PickleTruncated(`unexpected end of file at byte ${at}`));
}

// ------------------------------------------------------------------ zip layout

function readZipLayout(path: string, fd: number, fileSize: number): SafetensorsHeader {
  const entries = readZipDirectory(fd, fileSize);
  const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) throw new SafetensorsError(path, 'a zip file, but not a PyTorch checkpoint (no <archive>/data.pkl)');
  const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
  const stored = (e: ZipEntry): ZipEntry => {
    if (e.method !== 0) throw new SafetensorsError(path, `${e.name} is compressed inside the zip; torch.save never compresses, so the file was re-packed: save it again with torch.save or convert it to safetensors`);
    return e;
  };
  const order = entries.get(`${prefix}byteorder`);
  if (order && readAt(fd, stored(order).dataStart, Math.min(order.size, 16)).toString('latin1') !== 'little') {
    throw new SafetensorsError(path, 'a big-endian PyTorch checkpoint; only little-endian ones are read');
  }
  const pkl = stored(entries.get(pkls[0]!)!);
  if (pkl.size > MAX_PICKLE_BYTES) throw tooLarge(path, `its ${pkls[0]!}`);
  const { lookup, storages } = storageLookup();
  const { value } = unpickle(readAt(fd, pkl.dataStart, pkl.size), 0, hooksFor(lookup));
  for (const s of storages.values()) {
    const e = entries.get(`${prefix}data/${s.key}`);
    if (!e) throw new SafetensorsError(path, `storage ${s.key} is missing from the zip`);
    stored(e);
    if (e.size < s.numel * dtypeBytes(s.dtype)) throw new SafetensorsError(path, `storage ${s.key} holds ${e.size} bytes, ${s.numel} ${s.dtype} elements need ${s.numel * dtypeBytes(s.dtype)}`);
    s.dataStart = e.dataStart;
  }
  return indexOf(path, fileSize, value, 'torch-zip');
}

/**
 * The pickles of a checkpoint describe tensors, not hold them: a whole SD 1.5's are under 1 MB. A
 * bound keeps a hostile or damaged file from making us read gigabytes into memory to parse.
 */
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

function tooLarge(path: string, what: string): SafetensorsError {
  return new SafetensorsError(path, `${what} is over ${MAX_PICKLE_BYTES / 1024 / 1024} MiB, far larger than any checkpoint's; the file is damaged or not a weights file`);
}

// ------------------------------------------------------------------ legacy layout

function readLegacyLayout(path: string, fd: number, fileSize: number): SafetensorsHeader {
  // the pickles' total length is unknown until parsed: read a window, widen it if they run past
  for (let window = Math.min(fileSize, 1 << 20); ; window = Math.min(fileSize, window * 4)) {
    const head = readAt(fd, 0, window);
    try {
      const noCalls: UnpickleHooks = { reduce: () => undefined, persistentLoad: () => { throw new PickleError('storage outside the main pickle'); } };
      const magic = unpickle(head, 0, noCalls);
      if (magic.value !== LEGACY_MAGIC) throw new SafetensorsError(path, 'a Python pickle, but not a PyTorch checkpoint (no torch magic number)');
      const protocol = unpickle(head, magic.end, noCalls);
      if (protocol.value !== 1001) throw new SafetensorsError(path, `legacy PyTorch checkpoint of unsupported protocol ${String(protocol.value)}`);
      const sysInfo = unpickle(head, protocol.end, noCalls);
      if (sysInfo.value instanceof PyDict && sysInfo.value.map.get('little_endian') === false) {
        throw new SafetensorsError(path, 'a big-endian PyTorch checkpoint; only little-endian ones are read');
      }
      const { lookup, storages } = storageLookup();
      const main = unpickle(head, sysInfo.end, hooksFor(lookup));
      const keys = unpickle(head, main.end, noCalls);
      if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) throw new SafetensorsError(path, 'legacy checkpoint: storage key list is malformed');
      let at = keys.end;
      for (const key of keys.value as string[]) {
        const s = storages.get(key);
        if (!s) throw new SafetensorsError(path, `legacy checkpoint: storage ${key} is listed but never used`);
        if (at + 8 > fileSize) throw new SafetensorsError(path, `legacy checkpoint: storage ${key} starts past the end of the file (truncated?)`);
        const count = readAt(fd, at, 8).readBigInt64LE(0);
        if (count !== BigInt(s.numel)) throw new SafetensorsError(path, `legacy checkpoint: storage ${key} holds ${count} elements, ${s.numel} expected`);
        s.dataStart = at + 8;
        at = s.dataStart + s.numel * dtypeBytes(s.dtype);
        if (at > fileSize) throw new SafetensorsError(path, `legacy checkpoint: storage ${key} runs past the end of the file (truncated?)`);
      }
      for (const s of storages.values()) if (s.dataStart < 0) throw new SafetensorsError(path, `legacy checkpoint: storage ${s.key} has no data`);
      return indexOf(path, fileSize, main.value, 'torch-legacy');
    } catch (e) {
      if (e instanceof PickleTruncated && window < fileSize) {
        if (window >= MAX_PICKLE_BYTES) throw tooLarge(path, 'its pickled description');
        continue;
      }
      throw e;
    }
  }
}

// ------------------------------------------------------------------ entry

export type TorchLayout = 'zip' | 'legacy';

/** Reads a torch.save file's state dict as a tensor index; every failure is a BAD_MODEL SafetensorsError. */
export function readTorchIndex(path: string, layout: TorchLayout): SafetensorsHeader {
  const fd = fs.openSync(path, 'r');
  try {
    const fileSize = fs.fstatSync(fd).size;
    return layout === 'zip' ? readZipLayout(path, fd, fileSize) : readLegacyLayout(path, fd, fileSize);
  } catch (e) {
    if (e instanceof PickleError || e instanceof ZipError) {
      throw new SafetensorsError(path, `not a readable PyTorch checkpoint (${e.message})`);
    }
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}
