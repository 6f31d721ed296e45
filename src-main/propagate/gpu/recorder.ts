/// <reference types="@webgpu/types" />
// Batches compute dispatches, each with its own 256-byte parameter slot in one dynamic-offset
// uniform buffer, into a single compute pass per submit. The slot buffer is rewritten before each
// submit: queue.writeBuffer is ordered after earlier submits, so reuse is safe.
import { FLOAT_PARAMS, PARAM_FIELDS, SLOT_BYTES } from './kernels.ts';
import type { ParamName } from './kernels.ts';

export type Params = Partial<Record<ParamName, number>>;

interface Dispatch {
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  slot: number;
  x: number;
  y: number;
  /** Workgroup counts read on the GPU from this buffer at this byte offset instead. */
  indirect?: { buffer: GPUBuffer; offset: number };
}

const FIELD_INDEX = new Map<ParamName, number>(PARAM_FIELDS.map((f, i) => [f, i]));

export class Recorder {
  readonly capacity: number;
  private readonly slots: ArrayBuffer;
  private readonly ints: Int32Array;
  private readonly uints: Uint32Array;
  private readonly floats: Float32Array;
  /** Dispatches recorded since construction: a device-independent measure of a call's work. */
  dispatches = 0;
  private ops: Dispatch[] = [];
  private copies: [GPUBuffer, number, GPUBuffer, number, number][] = [];
  private readonly device: GPUDevice;
  private readonly uniform: GPUBuffer;

  constructor(device: GPUDevice, uniform: GPUBuffer, capacity: number) {
    this.device = device;
    this.uniform = uniform;
    this.capacity = capacity;
    this.slots = new ArrayBuffer(capacity * SLOT_BYTES);
    this.ints = new Int32Array(this.slots);
    this.uints = new Uint32Array(this.slots);
    this.floats = new Float32Array(this.slots);
  }

  /** Queues a dispatch over a w x h grid (8x8 workgroups). Submits first when the slots are full. */
  dispatch(pipeline: GPUComputePipeline, group: GPUBindGroup, params: Params, w: number, h: number): void {
    const slot = this.slot(params); // first: it may submit and start a new batch
    this.ops.push({ pipeline, group, slot, x: Math.ceil(w / 8), y: Math.ceil(h / 8) });
    this.dispatches++;
  }

  /** Queues a dispatch whose workgroup counts (x, y, z: three u32) a kernel wrote into `args`. */
  dispatchIndirect(pipeline: GPUComputePipeline, group: GPUBindGroup, params: Params, args: GPUBuffer, offset: number): void {
    const slot = this.slot(params);
    this.ops.push({ pipeline, group, slot, x: 0, y: 0, indirect: { buffer: args, offset } });
    this.dispatches++;
  }

  /** Writes a dispatch's parameters into the next slot (submitting first when the slots are full). */
  private slot(params: Params): number {
    if (this.ops.length === this.capacity) void this.flush();
    const slot = this.ops.length;
    const base = (slot * SLOT_BYTES) / 4;
    this.ints.fill(0, base, base + SLOT_BYTES / 4);
    for (const [name, value] of Object.entries(params) as [ParamName, number][]) {
      const at = base + (FIELD_INDEX.get(name) as number);
      if (FLOAT_PARAMS.has(name)) this.floats[at] = value;
      else if (name === 'seed' || name === 'flags') this.uints[at] = value >>> 0;
      else this.ints[at] = value;
    }
    return slot;
  }

  /** A buffer copy that runs after this batch's dispatches. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.copies.push([src, srcOffset, dst, dstOffset, size]);
  }

  /** Drops what is queued (after a failure part-way through recording). */
  reset(): void {
    this.ops = [];
    this.copies = [];
  }

  /** Submits what is queued; resolves when the GPU has finished it. */
  flush(): Promise<void> {
    if (this.ops.length === 0 && this.copies.length === 0) return Promise.resolve();
    const queue = this.device.queue;
    if (this.ops.length > 0) queue.writeBuffer(this.uniform, 0, this.slots, 0, this.ops.length * SLOT_BYTES);
    const enc = this.device.createCommandEncoder();
    if (this.ops.length > 0) {
      const pass = enc.beginComputePass();
      for (const op of this.ops) {
        pass.setPipeline(op.pipeline);
        pass.setBindGroup(0, op.group, [op.slot * SLOT_BYTES]);
        if (op.indirect) pass.dispatchWorkgroupsIndirect(op.indirect.buffer, op.indirect.offset);
        else pass.dispatchWorkgroups(op.x, op.y);
      }
      pass.end();
    }
    for (const [src, so, dst, dO, size] of this.copies) enc.copyBufferToBuffer(src, so, dst, dO, size);
    queue.submit([enc.finish()]);
    this.ops = [];
    this.copies = [];
    return queue.onSubmittedWorkDone();
  }
}
