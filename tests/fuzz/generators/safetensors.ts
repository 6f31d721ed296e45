// Mutations of a valid safetensors file: the 8-byte header length, the JSON header (dtype, shape,
// offsets, nesting), the tensor data (NaN/Inf), or plain bytes.
import type { Rng } from './prng.ts';
import { mutateBytes } from './bytes.ts';

export interface SafetensorsMutation {
  label: string;
  bytes: Buffer;
  /** The data is non-finite on purpose: a loader must not hand it out as weights. */
  nonFinite: boolean;
}

interface Parsed {
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  data: Buffer;
}

function parse(src: Buffer): Parsed {
  const len = Number(src.readBigUInt64LE(0));
  return { header: JSON.parse(src.subarray(8, 8 + len).toString('utf8')) as Parsed['header'], data: src.subarray(8 + len) };
}

function build(headerText: string, data: Buffer, lengthField?: bigint): Buffer {
  const h = Buffer.from(headerText, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthField ?? BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

const NUMBERS: unknown[] = [-1, 0, 1, 1.5, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1e308, -(2 ** 53), 'NaN', null, '1', [], {}];

export function mutateSafetensors(r: Rng, src: Buffer): SafetensorsMutation {
  const { header, data } = parse(src);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = r.pick(names);
  const entry = header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
  const text = JSON.stringify(header);
  switch (r.int(0, 7)) {
    case 0: {
      const v = r.pick([0n, 1n, 2n ** 63n, 2n ** 64n - 1n, BigInt(text.length) + BigInt(r.int(1, 4096)), BigInt(Math.max(0, text.length - r.int(1, 8))), 2n ** 53n + 1n]);
      return { label: `headerLen=${v}`, bytes: build(text, data, v), nonFinite: false };
    }
    case 1: {
      const cut = r.int(0, text.length - 1);
      const junk = r.pick(['', '\u0000', '{', ']', '\ud800', '"', '{"a":' + '['.repeat(r.int(100, 20000))]);
      return { label: `json cut@${cut}+${JSON.stringify(junk).slice(0, 12)}`, bytes: build(text.slice(0, cut) + junk + text.slice(cut + r.int(0, 8)), data), nonFinite: false };
    }
    case 2: {
      entry.dtype = r.pick(['F16', 'BF16', 'F64', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'Q4', '', 'f32', 'constructor', '__proto__']);
      return { label: `${name}.dtype=${entry.dtype}`, bytes: build(JSON.stringify(header), data), nonFinite: false };
    }
    case 3: {
      const i = r.int(0, 1);
      const v = r.pick(NUMBERS);
      (entry.data_offsets as unknown[])[i] = v;
      if (r.bool(0.2)) (entry as Record<string, unknown>).data_offsets = r.pick<unknown>([[], [0], [0, 1, 2], 'x', null]);
      return { label: `${name}.offsets[${i}]=${JSON.stringify(v)}`, bytes: build(JSON.stringify(header), data), nonFinite: false };
    }
    case 4: {
      const v = r.pick(NUMBERS);
      if (entry.shape.length > 0) (entry.shape as unknown[])[r.int(0, entry.shape.length - 1)] = v;
      else (entry as Record<string, unknown>).shape = [v];
      return { label: `${name}.shape=${JSON.stringify(entry.shape)}`, bytes: build(JSON.stringify(header), data), nonFinite: false };
    }
    case 5: {
      // Two tensors share or swap byte ranges.
      const other = header[r.pick(names)] as { data_offsets: [number, number] };
      const tmp = entry.data_offsets;
      entry.data_offsets = other.data_offsets;
      other.data_offsets = tmp;
      return { label: `${name} offsets swapped`, bytes: build(JSON.stringify(header), data), nonFinite: false };
    }
    case 6: {
      // NaN / Inf written into an F32 or F16 tensor's data.
      const floats = names.filter((n) => ['F32', 'F16'].includes((header[n] as { dtype: string }).dtype) && (header[n] as { data_offsets: number[] }).data_offsets[1]! > (header[n] as { data_offsets: number[] }).data_offsets[0]!);
      const n = r.pick(floats);
      const e = header[n] as { dtype: string; data_offsets: [number, number] };
      const d = Buffer.from(data);
      const [b, end] = e.data_offsets;
      const size = e.dtype === 'F32' ? 4 : 2;
      const count = r.int(1, 4);
      for (let k = 0; k < count; k++) {
        const at = b + size * r.int(0, (end - b) / size - 1);
        const bits = r.pick(['nan', 'inf', '-inf']);
        if (size === 4) d.writeFloatLE(bits === 'nan' ? NaN : bits === 'inf' ? Infinity : -Infinity, at);
        else d.writeUInt16LE(bits === 'nan' ? 0x7e00 : bits === 'inf' ? 0x7c00 : 0xfc00, at);
      }
      return { label: `${n} ${count} non-finite`, bytes: build(text, d), nonFinite: true };
    }
    default: {
      const m = mutateBytes(r, src);
      return { label: `bytes ${m.label}`, bytes: m.bytes, nonFinite: false };
    }
  }
}
