// Hostile WebSocket traffic (raw frames after a valid upgrade) and random API calls.
import type { Rng } from './prng.ts';

/** A client frame; `mask` false gives an (illegal) unmasked client frame. */
export function frame(opts: { fin?: boolean; rsv?: number; opcode: number; payload: Uint8Array; mask?: boolean; declaredLength?: bigint }): Buffer {
  const { payload } = opts;
  const head: number[] = [((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | (opts.opcode & 0x0f)];
  const masked = opts.mask ?? true;
  const len = opts.declaredLength ?? BigInt(payload.length);
  const ext: number[] = [];
  let len7: number;
  if (len < 126n) len7 = Number(len);
  else if (len < 65536n) {
    len7 = 126;
    ext.push(Number(len >> 8n) & 255, Number(len) & 255);
  } else {
    len7 = 127;
    for (let i = 7; i >= 0; i--) ext.push(Number((len >> BigInt(8 * i)) & 255n));
  }
  head.push((masked ? 0x80 : 0) | len7, ...ext);
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), key, body]);
}

export interface HostileFrames {
  label: string;
  chunks: Buffer[];
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export function hostileFrames(r: Rng): HostileFrames {
  const call = text(JSON.stringify({ id: 1, method: 'project', args: [] }));
  switch (r.int(0, 8)) {
    case 0:
      return { label: 'unmasked text frame', chunks: [frame({ opcode: 1, payload: call, mask: false })] };
    case 1:
      return { label: 'invalid UTF-8 text', chunks: [frame({ opcode: 1, payload: Uint8Array.from([0x7b, 0xc3, 0x28, 0xff, 0xfe, 0x7d]) })] };
    case 2: {
      const op = r.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]);
      return { label: `reserved opcode ${op}`, chunks: [frame({ opcode: op, payload: r.bytes(r.int(0, 40)) })] };
    }
    case 3:
      return { label: 'RSV1 without extension', chunks: [frame({ opcode: 1, rsv: r.pick([1, 2, 4, 7]), payload: call })] };
    case 4: {
      const len = r.pick([2n ** 63n - 1n, 2n ** 40n, 2n ** 32n, 300n * 1024n * 1024n]);
      return { label: `declared length ${len}`, chunks: [frame({ opcode: r.pick([1, 2]), payload: r.bytes(16), declaredLength: len })] };
    }
    case 5:
      return { label: 'random bytes', chunks: [Buffer.from(r.bytes(r.int(1, 512)))] };
    case 6: {
      const f = frame({ opcode: 1, payload: call });
      const cut = r.int(1, f.length - 1);
      return { label: `truncated frame @${cut}`, chunks: [f.subarray(0, cut)] };
    }
    case 7: {
      const junk = r.pick(['{', 'null', '[]', '{"id":1}', '{"id":"1","method":"project","args":[]}', '{"id":1e400,"method":"x","args":[]}', '"' + 'a'.repeat(100000) + '"']);
      return { label: `malformed message ${junk.slice(0, 20)}`, chunks: [frame({ opcode: r.pick([1, 2]), payload: text(junk) })] };
    }
    default:
      return { label: 'control frame too long / fragmented ping', chunks: [frame({ opcode: 9, payload: r.bytes(200) }), frame({ opcode: 9, fin: false, payload: r.bytes(3) })] };
  }
}

/** Requests the host knows, minus revealFile (it would start a file manager on a valid path). */
const METHODS = [
  'capabilities', 'recentProjects', 'createProject', 'openProject', 'closeProject', 'project', 'updateSettings',
  'addKeyframe', 'removeKeyframe', 'moveKeyframe', 'importKeyframeImage', 'clearKeyframeImage', 'setKeyframeMask',
  'setKeyframePrompt', 'startJob', 'cancelJob', 'listJobs', 'listDirectory', 'pickFile',
];

export function randomValue(r: Rng, depth: number, paths: readonly string[]): unknown {
  switch (r.int(0, depth > 0 ? 9 : 6)) {
    case 0:
      return r.pick([0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, -1e308, 0.5, Number.MIN_VALUE]);
    case 1:
      return r.pick(['', 'NaN', 'Infinity', '-0', '1e999', '__proto__', 'constructor', '\u0000', '../../x', 'a'.repeat(r.int(1, 5000))]);
    case 2:
      return r.pick(paths);
    case 3:
      return r.pick([true, false, null]);
    case 4:
      return { $bytes: r.pick(['', 'AAAA', '!!!', 'iVBORw0KGgo=']) };
    case 5:
      return r.pick(['propagate', 'translate', 'export', 'canny']);
    case 6:
      return r.int(-5, 20);
    case 7: {
      // deep nesting
      let v: unknown = 1;
      for (let i = r.int(10, 2000); i > 0; i--) v = r.bool() ? [v] : { a: v };
      return v;
    }
    case 8:
      return Array.from({ length: r.int(0, 4) }, () => randomValue(r, depth - 1, paths));
    default: {
      const o: Record<string, unknown> = {};
      for (const k of r.pick([['kind', 'frames'], ['kind', 'outPath', 'crf'], ['videoPath', 'projectPath', 'shortSide'], ['x'], ['steps', 'seed', 'prompt']])) o[k] = randomValue(r, depth - 1, paths);
      if (r.bool(0.5) && 'kind' in o) o.kind = r.pick(['propagate', 'translate', 'export', 'x']);
      return o;
    }
  }
}

export function randomCall(r: Rng, paths: readonly string[]): { method: string; args: unknown } {
  const method = r.bool(0.85) ? r.pick(METHODS) : r.pick(['', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 'on', 'dispose', 'x'.repeat(r.int(1, 300))]);
  const args = r.bool(0.9) ? Array.from({ length: r.int(0, 3) }, () => randomValue(r, 2, paths)) : randomValue(r, 2, paths);
  return { method, args };
}
