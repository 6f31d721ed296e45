// A Python pickle reader that never runs anything: it interprets the opcodes of protocols 2-5 into
// inert values. GLOBAL only names a class or function (a PyGlobal); REDUCE/NEWOBJ/BUILD on one
// asks `reduce` (torch.ts decides which few names mean something, such as a tensor rebuild) and
// otherwise yields an inert PyObject. Nothing is imported, called or evaluated.

/** A pickle that cannot be read (bad opcode, truncated, malformed). Caught and worded by the caller. */
export class PickleError extends Error {}

/** A module-level name the pickle refers to (class or function); never resolved. */
export class PyGlobal {
  readonly module: string;
  readonly name: string;
  constructor(module: string, name: string) {
    this.module = module;
    this.name = name;
  }
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The inert result of calling or instantiating a name that is not on the allow-list. */
export class PyObject {
  /** The name whose call produced this (the first one, when calls are chained). */
  readonly origin: PyGlobal;
  readonly args: unknown;
  state: unknown = undefined;
  constructor(origin: PyGlobal, args: unknown) {
    this.origin = origin;
    this.args = args;
  }
}

/** A Python dict (insertion-ordered; keys of any value, primitive keys compared by value). */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  /** State set by BUILD (an OrderedDict's attributes, such as a state dict's _metadata). */
  state: unknown = undefined;
}

/** A Python tuple: a frozen array, told apart from a list. */
export type PyTuple = readonly unknown[] & { readonly __tuple: true };

export function isTuple(v: unknown): v is PyTuple {
  return Array.isArray(v) && Object.isFrozen(v);
}

function tuple(items: unknown[]): PyTuple {
  return Object.freeze(items) as unknown as PyTuple;
}

export interface UnpickleHooks {
  /** BINPERSID: the persistent id (a tuple for torch storages) to the object it stands for. */
  persistentLoad(pid: unknown): unknown;
  /** REDUCE/NEWOBJ of a global on the caller's allow-list; return undefined for an inert PyObject. */
  reduce(fn: PyGlobal, args: PyTuple): unknown;
}

export interface UnpickleResult {
  readonly value: unknown;
  /** Offset just past STOP, for files holding several pickles in a row (legacy torch). */
  readonly end: number;
}

/** Bounds the memo so a hostile pickle cannot grow it without limit. */
const MAX_MEMO = 2_000_000;

/**
 * Interprets one pickle starting at `start` in `buf`. Throws PickleError on anything malformed;
 * a pickle cut short by the end of `buf` throws PickleTruncated (the caller may retry with more).
 */
export class PickleTruncated extends PickleError {}

export function unpickle(buf: Uint8Array, start: number, hooks: UnpickleHooks): UnpickleResult {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  let pos = start;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const need = (n: number): void => {
    if (n < 0 || pos + n > buf.length) throw new PickleTruncated(`pickle ends inside an opcode at byte ${pos}`);
  };
  const u8 = (): number => {
    need(1);
    return buf[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(buf.length)) throw new PickleTruncated(`length ${v} at byte ${pos - 8} runs past the pickle`);
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) throw new PickleTruncated(`unterminated text line at byte ${pos}`);
    const s = latin1.decode(buf.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const utf8 = (n: number): string => {
    try {
      return dec.decode(bytes(n));
    } catch (e) {
      if (e instanceof PickleError) throw e;
      throw new PickleError(`invalid UTF-8 string at byte ${pos - n}`);
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw new PickleError(`stack underflow at byte ${pos - 1}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new PickleError(`stack underflow at byte ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) throw new PickleError(`MARK missing at byte ${pos - 1}`);
    stack = prev;
    return items;
  };
  const put = (i: number, v: unknown): void => {
    if (memo.size >= MAX_MEMO && !memo.has(i)) throw new PickleError('pickle memo too large');
    memo.set(i, v);
  };
  const get = (i: number): unknown => {
    if (!memo.has(i)) throw new PickleError(`memo entry ${i} used before it is set (byte ${pos})`);
    return memo.get(i);
  };
  const setItems = (d: unknown, kv: unknown[]): void => {
    if (kv.length % 2 !== 0) throw new PickleError(`odd number of dict items at byte ${pos - 1}`);
    const target = d instanceof PyDict ? d.map : null;
    for (let i = 0; i < kv.length; i += 2) {
      // items set on an inert object (a dict subclass from elsewhere) are dropped
      if (target) target.set(kv[i], kv[i + 1]);
      else if (!(d instanceof PyObject)) throw new PickleError(`SETITEM on a non-dict at byte ${pos - 1}`);
    }
  };
  const append = (l: unknown, items: unknown[]): void => {
    if (Array.isArray(l) && !isTuple(l)) l.push(...items);
    else if (!(l instanceof PyObject)) throw new PickleError(`APPEND on a non-list at byte ${pos - 1}`);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!isTuple(args)) throw new PickleError(`call arguments are not a tuple at byte ${pos - 1}`);
    if (fn instanceof PyGlobal) return hooks.reduce(fn, args) ?? new PyObject(fn, args);
    // calling an inert object (a class made by an inert call, say) stays inert
    if (fn instanceof PyObject) return new PyObject(fn.origin, args);
    throw new PickleError(`call of a non-callable at byte ${pos - 1}`);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new PickleError(`pickle protocol above 5 at byte ${at}`);
        break;
      case 0x95: // FRAME (a length hint; the bytes follow inline)
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) throw new PickleError(`STOP with ${stack.length} values on the stack at byte ${at}`);
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0 && marks.length > 0) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: { // LONG4
        const n = op === 0x8a ? u8() : u32();
        if (n > 64) throw new PickleError(`integer of ${n} bytes at byte ${at} is too large`);
        const b = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(bytes(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(bytes(u64()));
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x8f: // EMPTY_SET (kept as a list: sets never hold weights)
        stack.push([]);
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x91: // FROZENSET
      case 0x74: { // TUPLE
        // popMark() replaces `stack`: take the items before naming the stack to push on
        const items = tuple(popMark());
        stack.push(items);
        break;
      }
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x6c: { // LIST
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x64: { // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x71: // BINPUT
        put(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        put(u32(), top());
        break;
      case 0x94: // MEMOIZE
        put(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(get(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(get(u32()));
        break;
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        stack.push(new PyGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError(`STACK_GLOBAL without two strings at byte ${at}`);
        stack.push(new PyGlobal(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x62: { // BUILD: state set on an object; only inert containers take it
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject || obj instanceof PyDict) obj.state = state;
        else if (!(obj instanceof TensorLike)) throw new PickleError(`BUILD on a plain value at byte ${at}`);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at} (only binary protocols 2-5 as torch.save writes them are read)`);
    }
  }
}

/** Base class of the values the caller's reduce hook makes (tensors): BUILD state on them is ignored. */
export class TensorLike {}
