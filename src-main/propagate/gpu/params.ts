/// <reference types="@webgpu/types" />
// Per-dispatch kernel parameters. Each kernel family declares its fields once: the declaration
// gives both the WGSL struct its kernels read and the word layout the host writes, so the two
// cannot drift apart. A batch of dispatches gets one 256-byte slot each in one uniform buffer,
// bound with a dynamic offset, and all its slots go up in one write before the batch is submitted.

export type ParamType = 'u32' | 'i32' | 'f32' | 'vec4f';
export type ParamFields = Readonly<Record<string, ParamType>>;
/** One dispatch's values; fields left out are 0. */
export type ParamValues<F extends ParamFields> = { -readonly [K in keyof F]?: F[K] extends 'vec4f' ? readonly number[] : number };

/** A slot's stride: WebGPU's largest minUniformBufferOffsetAlignment, so it suits every adapter. */
export const SLOT_BYTES = 256;
const SLOT_WORDS = SLOT_BYTES / 4;
// WebGPU's numeric flags (the `webgpu` package's globals hold the same values).
const COMPUTE = 0x4;
const USAGE = { COPY_DST: 0x8, UNIFORM: 0x40 } as const;

export interface ParamLayout<F extends ParamFields> {
  readonly fields: F;
  /** WGSL: `struct P` and its uniform binding, `p` at @group(0) @binding(0). */
  readonly wgsl: string;
  /** Size of struct P in bytes: the uniform binding's size. */
  readonly bytes: number;
  /** The 32-bit word of each field within a slot. */
  readonly word: Readonly<Record<keyof F, number>>;
}

export function paramLayout<const F extends ParamFields>(fields: F): ParamLayout<F> {
  const word: Record<string, number> = {};
  const members: string[] = [];
  let at = 0;
  const pad = () => members.push(`pad${at++}: u32`);
  for (const [name, type] of Object.entries(fields)) {
    // WGSL's uniform layout puts a vec4f on a 16-byte boundary.
    if (type === 'vec4f') while (at % 4 !== 0) pad();
    word[name] = at;
    members.push(`${name}: ${type}`);
    at += type === 'vec4f' ? 4 : 1;
  }
  while (at % 4 !== 0) pad();
  if (at > SLOT_WORDS) throw new RangeError(`kernel parameters take ${at * 4} bytes, more than a ${SLOT_BYTES}-byte slot`);
  const wgsl = `
struct P {
  ${members.join(',\n  ')},
}
@group(0) @binding(0) var<uniform> p: P;
`;
  return { fields, wgsl, bytes: at * 4, word: word as Record<keyof F, number> };
}

/** The bind group layout entry of a family's parameter slot. */
export function paramLayoutEntry(layout: ParamLayout<ParamFields>): GPUBindGroupLayoutEntry {
  return { binding: 0, visibility: COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: layout.bytes } };
}

/** The bind group entry of a family's parameter slot in `uniform`. */
export function paramBinding(layout: ParamLayout<ParamFields>, uniform: GPUBuffer): GPUBindGroupEntry {
  return { binding: 0, resource: { buffer: uniform, size: layout.bytes } };
}

/** The parameter slots of one batch of dispatches, written on the host and uploaded at once. */
export class ParamSlots<F extends ParamFields> {
  readonly capacity: number;
  private readonly layout: ParamLayout<F>;
  private readonly data: ArrayBuffer;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly f32: Float32Array;
  private n = 0;

  constructor(layout: ParamLayout<F>, capacity: number) {
    this.layout = layout;
    this.capacity = capacity;
    this.data = new ArrayBuffer(capacity * SLOT_BYTES);
    this.u32 = new Uint32Array(this.data);
    this.i32 = new Int32Array(this.data);
    this.f32 = new Float32Array(this.data);
  }

  /** A uniform buffer that holds every slot. */
  createBuffer(device: GPUDevice, label?: string): GPUBuffer {
    return device.createBuffer({ size: this.capacity * SLOT_BYTES, usage: USAGE.UNIFORM | USAGE.COPY_DST, ...(label ? { label } : {}) });
  }

  /** Slots written since the last clear(). */
  get used(): number {
    return this.n;
  }

  /** Writes one dispatch's parameters into the next slot; returns its dynamic offset in bytes. */
  push(values: ParamValues<F>): number {
    if (this.n === this.capacity) throw new RangeError(`all ${this.capacity} parameter slots are used: upload and clear them first`);
    const base = this.n * SLOT_WORDS;
    this.u32.fill(0, base, base + SLOT_WORDS);
    for (const name of Object.keys(values) as (keyof F & string)[]) {
      const value = values[name];
      if (value === undefined) continue;
      const at = base + this.layout.word[name];
      const type = this.layout.fields[name];
      if (type === 'vec4f') (value as readonly number[]).slice(0, 4).forEach((v, j) => { this.f32[at + j] = v; });
      else if (type === 'f32') this.f32[at] = value as number;
      else if (type === 'i32') this.i32[at] = value as number;
      else this.u32[at] = value as number;
    }
    return this.n++ * SLOT_BYTES;
  }

  /** Queues the used slots' upload: it lands before any later submit, after every earlier one. */
  upload(queue: GPUQueue, uniform: GPUBuffer): void {
    if (this.n > 0) queue.writeBuffer(uniform, 0, this.data, 0, this.n * SLOT_BYTES);
  }

  clear(): void {
    this.n = 0;
  }
}
