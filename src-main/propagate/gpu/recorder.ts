/// <reference types="@webgpu/types" />
// Batches synthesis dispatches, each with its own parameter slot (gpu/params.ts), into a single
// compute pass per submit. The slot buffer is rewritten before each submit: queue.writeBuffer is
// ordered after earlier submits, so reuse is safe.
import { SYNTH_PARAMS } from './kernels.ts';
import type { Params } from './kernels.ts';
import { ParamSlots } from './params.ts';

interface Dispatch {
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  /** Byte offset of its parameter slot. */
  slot: number;
  x: number;
  y: number;
  /** Workgroup counts read on the GPU from this buffer at this byte offset instead. */
  indirect?: { buffer: GPUBuffer; offset: number };
}

export class Recorder {
  private readonly slots: ParamSlots<typeof SYNTH_PARAMS.fields>;
  /** Dispatches recorded since construction: a device-independent measure of a call's work. */
  dispatches = 0;
  private ops: Dispatch[] = [];
  private copies: [GPUBuffer, number, GPUBuffer, number, number][] = [];
  private readonly device: GPUDevice;
  /** The uniform buffer the slots are uploaded to, bound by every synthesis bind group. */
  readonly uniform: GPUBuffer;

  constructor(device: GPUDevice, capacity: number) {
    this.device = device;
    this.slots = new ParamSlots(SYNTH_PARAMS, capacity);
    this.uniform = this.slots.createBuffer(device, 'synthesis params');
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
    if (this.slots.used === this.slots.capacity) void this.flush();
    return this.slots.push(params);
  }

  /** A buffer copy that runs after this batch's dispatches. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.copies.push([src, srcOffset, dst, dstOffset, size]);
  }

  /** Drops what is queued (after a failure part-way through recording). */
  reset(): void {
    this.ops = [];
    this.copies = [];
    this.slots.clear();
  }

  destroy(): void {
    this.reset();
    this.uniform.destroy();
  }

  /** Submits what is queued; resolves when the GPU has finished it. */
  flush(): Promise<void> {
    if (this.ops.length === 0 && this.copies.length === 0) return Promise.resolve();
    const queue = this.device.queue;
    this.slots.upload(queue, this.uniform);
    const enc = this.device.createCommandEncoder();
    if (this.ops.length > 0) {
      const pass = enc.beginComputePass();
      for (const op of this.ops) {
        pass.setPipeline(op.pipeline);
        pass.setBindGroup(0, op.group, [op.slot]);
        if (op.indirect) pass.dispatchWorkgroupsIndirect(op.indirect.buffer, op.indirect.offset);
        else pass.dispatchWorkgroups(op.x, op.y);
      }
      pass.end();
    }
    for (const [src, so, dst, dO, size] of this.copies) enc.copyBufferToBuffer(src, so, dst, dO, size);
    queue.submit([enc.finish()]);
    this.ops = [];
    this.copies = [];
    this.slots.clear();
    return queue.onSubmittedWorkDone();
  }
}
