/// <reference types="@webgpu/types" />
// Host side of the per-frame guide kernels (guide-kernels.ts): records dispatches into one compute
// pass and sends them as one command buffer on submit(). Images, masks and flows are f32 arrays at
// element offsets inside caller-owned buffers (see GpuGuides); the caller keeps them on the device
// across frames, so a frame's guides cost one submit and no transfers.
import { ENTRY_POINTS, FLAG, GUIDE_PARAMS, guideWgsl } from './guide-kernels.ts';
import { ParamSlots, paramBinding, paramLayoutEntry } from './params.ts';
import type { ParamValues } from './params.ts';

const USAGE = { STORAGE: 0x80 } as const;
const COMPUTE = 0x4;
/** The addon's largest side (native kMaxSide). */
const MAX_SIDE = 16384;
const MAX_CHANNELS = 16;
/** Parameter slots per submit; a call that would overflow them submits what came before it first. */
const SLOT_CAPACITY = 1024;
/** Cached bind groups (one per buffer combination); past this the cache starts again. */
const GROUP_CACHE_LIMIT = 256;

type Entry = (typeof ENTRY_POINTS)[number];
/** The per-dispatch fields a caller of record() sets; sizes and offsets come from its arguments. */
type Params = Omit<ParamValues<typeof GUIDE_PARAMS.fields>, 'W' | 'H' | 'o0' | 'o1' | 'oOut'>;

/** A storage input of one dispatch: the buffer and the element range the kernel reads. */
interface Range {
  buffer: GPUBuffer;
  offset: number;
  length: number;
}

/** Levels 1.. of the fill pyramid for a w x h image: sizes and element offsets (C + 1 per pixel). */
function pyramid(w: number, h: number, channels: number): { w: number; h: number; off: number }[] {
  const levels: { w: number; h: number; off: number }[] = [];
  let off = 0;
  while (w > 1 || h > 1) {
    w = (w + 1) >> 1;
    h = (h + 1) >> 1;
    levels.push({ w, h, off });
    off += w * h * (channels + 1);
  }
  return levels;
}

/**
 * The guide kernels on one device. Calls only record; submit() sends them, in call order, as one
 * command buffer, so work the caller submits itself that reads these results must follow submit().
 * Invalid arguments throw TypeError/RangeError before anything is recorded.
 */
export class GpuGuides {
  private readonly device: GPUDevice;
  private readonly layout: GPUBindGroupLayout;
  private readonly pipelines: Record<Entry, GPUComputePipeline>;
  private readonly uniform: GPUBuffer;
  /** Bound where a kernel reads nothing: a read-only one and the scratch's stand-in (no aliasing). */
  private readonly dummyRead: GPUBuffer;
  private readonly dummyScratch: GPUBuffer;
  private scratch: GPUBuffer | null = null;
  /** Replaced scratch buffers that recorded work may still use; destroyed after the next submit. */
  private retired: GPUBuffer[] = [];
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  private groups = new Map<string, GPUBindGroup>();
  private readonly slots = new ParamSlots(GUIDE_PARAMS, SLOT_CAPACITY);
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private current: GPUComputePipeline | null = null;
  private destroyed = false;

  private constructor(device: GPUDevice, layout: GPUBindGroupLayout, pipelines: Record<Entry, GPUComputePipeline>) {
    this.device = device;
    this.layout = layout;
    this.pipelines = pipelines;
    this.uniform = this.slots.createBuffer(device, 'guides params');
    this.dummyRead = device.createBuffer({ size: 16, usage: USAGE.STORAGE, label: 'guides unused input' });
    this.dummyScratch = device.createBuffer({ size: 16, usage: USAGE.STORAGE, label: 'guides unused scratch' });
  }

  /** Compiles the guide kernels on `device` (the GPU synthesizer's, see GpuSynthesizer.gpuDevice). */
  static async create(device: GPUDevice): Promise<GpuGuides> {
    const storage = (type: GPUBufferBindingType) => ({ visibility: COMPUTE, buffer: { type } });
    const layout = device.createBindGroupLayout({
      label: 'guides',
      entries: [
        paramLayoutEntry(GUIDE_PARAMS),
        { binding: 1, ...storage('read-only-storage') },
        { binding: 2, ...storage('read-only-storage') },
        { binding: 3, ...storage('storage') },
        { binding: 4, ...storage('storage') },
      ],
    });
    const module = device.createShaderModule({ code: guideWgsl, label: 'guides' });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    const made = await Promise.all(ENTRY_POINTS.map((entryPoint) => device.createComputePipelineAsync({ layout: pipelineLayout, compute: { module, entryPoint }, label: `guides ${entryPoint}` })));
    return new GpuGuides(device, layout, Object.fromEntries(ENTRY_POINTS.map((e, i) => [e, made[i]])) as Record<Entry, GPUComputePipeline>);
  }

  /** RGB bytes packed 4 per u32 word (little-endian, from element 0 of src) -> a 3-channel f32 image. */
  unpackRgb(src: GPUBuffer, dst: GPUBuffer, dstOff: number, width: number, height: number): void {
    const [W, H] = this.size('unpackRgb', width, height);
    const n = W * H * 3;
    const input = this.range('unpackRgb', 'src', src, 0, Math.ceil(n / 4));
    const out = this.range('unpackRgb', 'dst', dst, dstOff, n);
    this.checkOverlap('unpackRgb', [input], out);
    this.record('unpackRgb', [input], out, W, H, {});
  }

  /** EdgeGuide: 128 + Laplacian, clamped to 0..255; rounded as the addon's u8 result unless round is false. */
  edge(src: GPUBuffer, srcOff: number, dst: GPUBuffer, dstOff: number, width: number, height: number, channels: number, opts: { round?: boolean } = {}): void {
    const [W, H, C] = this.size('edge', width, height, channels);
    const input = this.range('edge', 'src', src, srcOff, W * H * C);
    const out = this.range('edge', 'dst', dst, dstOff, W * H * C);
    this.checkOverlap('edge', [input], out);
    this.record('edge', [input], out, W, H, { C, flags: opts.round === false ? 0 : FLAG.round });
  }

  /** 255 where pixels of the frame `flow` starts from fail the forward-backward check with `other`, else 0. */
  occlusion(flow: GPUBuffer, other: GPUBuffer, dst: GPUBuffer, dstOff: number, width: number, height: number): void {
    const [W, H] = this.size('occlusion', width, height);
    const a = this.range('occlusion', 'flow', flow, 0, W * H * 2);
    const b = this.range('occlusion', 'other', other, 0, W * H * 2);
    const out = this.range('occlusion', 'dst', dst, dstOff, W * H);
    this.checkOverlap('occlusion', [a, b], out);
    this.record('occlusion', [a, b], out, W, H, {});
  }

  /** dst(p) = src(p + flow(p)), bilinear unless nearest; round: as the addon's u8 result. */
  warp(src: GPUBuffer, srcOff: number, flow: GPUBuffer, dst: GPUBuffer, dstOff: number, width: number, height: number, channels: number, opts: { nearest?: boolean; round?: boolean } = {}): void {
    const [W, H, C] = this.size('warp', width, height, channels);
    const a = this.range('warp', 'src', src, srcOff, W * H * C);
    const b = this.range('warp', 'flow', flow, 0, W * H * 2);
    const out = this.range('warp', 'dst', dst, dstOff, W * H * C);
    this.checkOverlap('warp', [a, b], out);
    this.record('warp', [a, b], out, W, H, { C, flags: (opts.nearest ? FLAG.nearest : 0) | (opts.round ? FLAG.round : 0) });
  }

  /**
   * FillHoles: pixels where mask != 0 take the push-pull blend of the known ones. dst may be img
   * itself (same buffer and offset: each pixel is read and written by one invocation, after the
   * pyramid is built), but no other overlap. round: as the addon's u8 result.
   */
  fillHoles(img: GPUBuffer, imgOff: number, mask: GPUBuffer, maskOff: number, dst: GPUBuffer, dstOff: number, width: number, height: number, channels: number, opts: { round?: boolean } = {}): void {
    const [W, H, C] = this.size('fillHoles', width, height, channels);
    const a = this.range('fillHoles', 'img', img, imgOff, W * H * C);
    const m = this.range('fillHoles', 'mask', mask, maskOff, W * H);
    const out = this.range('fillHoles', 'dst', dst, dstOff, W * H * C);
    this.checkOverlap('fillHoles', [a, m], out, a);
    const levels = pyramid(W, H, C);
    const need = levels.length === 0 ? 0 : (levels.at(-1) as { off: number }).off + C + 1;
    const scratch = this.scratchFor(need);
    this.reserve(2 * levels.length + 1);
    const round = opts.round ? FLAG.round : 0;
    let fine = { w: W, h: H, off: 0 };
    for (const [k, c] of levels.entries()) {
      const p = { C, fw: fine.w, fh: fine.h, fOff: fine.off, cw: c.w, ch: c.h, cOff: c.off, flags: k === 0 ? FLAG.fromImage : 0 };
      this.record('fillDown', [a, m], out, c.w, c.h, p, scratch);
      fine = c;
    }
    for (let l = levels.length - 2; l >= 0; l--) {
      const f = levels[l] as { w: number; h: number; off: number }, c = levels[l + 1] as { w: number; h: number; off: number };
      this.record('fillUp', [a, m], out, f.w, f.h, { C, fw: f.w, fh: f.h, fOff: f.off, cw: c.w, ch: c.h, cOff: c.off }, scratch);
    }
    const top = levels[0];
    this.record('fillFinal', [a, m], out, W, H, { C, cw: top?.w ?? 1, ch: top?.h ?? 1, cOff: 0, flags: round | (top ? 0 : FLAG.noCoarse) }, scratch);
  }

  /** Each pixel keeps the NNF entry (x, y) of its nearest source p + flow(p); nnf and dst hold i32 pairs. */
  advectNnf(nnf: GPUBuffer, flow: GPUBuffer, dst: GPUBuffer, width: number, height: number): void {
    const [W, H] = this.size('advectNnf', width, height);
    const a = this.range('advectNnf', 'nnf', nnf, 0, W * H * 2);
    const b = this.range('advectNnf', 'flow', flow, 0, W * H * 2);
    const out = this.range('advectNnf', 'dst', dst, 0, W * H * 2);
    this.checkOverlap('advectNnf', [a, b], out);
    this.record('advectNnf', [a, b], out, W, H, {});
  }

  /** Sends everything recorded since the last submit as one command buffer. */
  submit(): void {
    this.alive('submit');
    if (!this.encoder || !this.pass) return;
    this.pass.end();
    const q = this.device.queue;
    // Ordered after earlier submits on the queue, so rewriting the slots is safe.
    this.slots.upload(q, this.uniform);
    q.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pass = null;
    this.slots.clear();
    for (const b of this.retired) b.destroy();
    this.retired = [];
  }

  /** Frees the class's own buffers; work recorded but not submitted is dropped. The device stays open. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pass?.end();
    this.pass = null;
    this.encoder = null;
    this.slots.clear();
    for (const b of [this.uniform, this.dummyRead, this.dummyScratch, ...this.retired]) b.destroy();
    this.scratch?.destroy();
    this.scratch = null;
    this.retired = [];
    this.groups.clear();
  }

  private alive(what: string): void {
    if (this.destroyed) throw new Error(`GpuGuides.${what}: the guides were destroyed`);
  }

  private size(what: string, width: number, height: number, channels = 1): [number, number, number] {
    this.alive(what);
    const side = (v: number, name: string) => {
      if (typeof v !== 'number') throw new TypeError(`GpuGuides.${what}: ${name} must be a number, got ${typeof v}`);
      if (!Number.isInteger(v) || v < 1 || v > MAX_SIDE) throw new RangeError(`GpuGuides.${what}: ${name} must be an integer in [1, ${MAX_SIDE}], got ${v}`);
    };
    side(width, 'width');
    side(height, 'height');
    if (typeof channels !== 'number') throw new TypeError(`GpuGuides.${what}: channels must be a number, got ${typeof channels}`);
    if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) throw new RangeError(`GpuGuides.${what}: channels must be an integer in [1, ${MAX_CHANNELS}], got ${channels}`);
    return [width, height, channels];
  }

  /**
   * Checks that `length` elements from `offset` fit in the buffer and that the whole buffer may be
   * bound.
   */
  private range(what: string, name: string, buffer: GPUBuffer, offset: number, length: number): Range {
    if (typeof buffer !== 'object' || buffer === null || typeof buffer.size !== 'number' || typeof buffer.usage !== 'number') {
      throw new TypeError(`GpuGuides.${what}: ${name} must be a GPUBuffer`);
    }
    if ((buffer.usage & USAGE.STORAGE) === 0) throw new TypeError(`GpuGuides.${what}: ${name} must have STORAGE usage`);
    if (typeof offset !== 'number') throw new TypeError(`GpuGuides.${what}: ${name} offset must be a number, got ${typeof offset}`);
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`GpuGuides.${what}: ${name} offset must be a non-negative integer (elements), got ${offset}`);
    const end = (offset + length) * 4;
    if (end > buffer.size) {
      throw new RangeError(`GpuGuides.${what}: ${name} needs elements [${offset}, ${offset + length}) (${end} bytes), but its buffer holds ${buffer.size} bytes`);
    }
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (buffer.size > limit) throw new RangeError(`GpuGuides.${what}: ${name}'s buffer (${buffer.size} bytes) is larger than the device binds (${limit})`);
    return { buffer, offset, length };
  }

  /**
   * An output overlapping an input would let invocations read what others already wrote; `sameAs`
   * is the one input it may coincide with exactly.
   */
  private checkOverlap(what: string, inputs: Range[], out: Range, sameAs?: Range): void {
    for (const r of inputs) {
      if (r.buffer !== out.buffer) continue;
      if (r === sameAs && r.offset === out.offset && r.length === out.length) continue;
      if (r.offset < out.offset + out.length && out.offset < r.offset + r.length) {
        throw new RangeError(`GpuGuides.${what}: the output [${out.offset}, ${out.offset + out.length}) overlaps an input [${r.offset}, ${r.offset + r.length}) in the same buffer`);
      }
    }
  }

  private scratchFor(floats: number): GPUBuffer {
    const bytes = Math.max(16, Math.ceil((floats * 4) / 16) * 16);
    if (this.scratch && this.scratch.size >= bytes) return this.scratch;
    if (this.scratch) this.retired.push(this.scratch);
    this.scratch = this.device.createBuffer({ size: bytes, usage: USAGE.STORAGE, label: 'guides fill pyramid' });
    // Groups holding the old scratch would keep it alive; the cache starts again.
    this.groups.clear();
    return this.scratch;
  }

  /** Makes room for `n` more dispatches in this submit. */
  private reserve(n: number): void {
    if (n > SLOT_CAPACITY) throw new RangeError(`GpuGuides: one call needs ${n} dispatches, more than the ${SLOT_CAPACITY} slots`);
    if (this.slots.used + n > SLOT_CAPACITY) this.submit();
  }

  private id(b: GPUBuffer): number {
    let v = this.ids.get(b);
    if (v === undefined) {
      v = this.nextId++;
      this.ids.set(b, v);
    }
    return v;
  }

  private group(in0: GPUBuffer, in1: GPUBuffer, out: GPUBuffer, scratch: GPUBuffer): GPUBindGroup {
    const key = `${this.id(in0)},${this.id(in1)},${this.id(out)},${this.id(scratch)}`;
    let g = this.groups.get(key);
    if (!g) {
      if (this.groups.size >= GROUP_CACHE_LIMIT) this.groups.clear();
      g = this.device.createBindGroup({
        layout: this.layout,
        entries: [
          paramBinding(GUIDE_PARAMS, this.uniform),
          ...[in0, in1, out, scratch].map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
        ],
      });
      this.groups.set(key, g);
    }
    return g;
  }

  /** One dispatch over w x h invocations; inputs equal to the output buffer are read through it. */
  private record(entry: Entry, inputs: Range[], out: Range, w: number, h: number, params: Params, scratch?: GPUBuffer): void {
    this.reserve(1);
    const [a, b] = inputs;
    let flags = params.flags ?? 0;
    let in0 = a?.buffer ?? this.dummyRead, in1 = b?.buffer ?? this.dummyRead;
    if (in0 === out.buffer) {
      flags |= FLAG.in0FromOut;
      in0 = this.dummyRead;
    }
    if (in1 === out.buffer) {
      flags |= FLAG.in1FromOut;
      in1 = this.dummyRead;
    }
    const offset = this.slots.push({ ...params, W: w, H: h, C: params.C ?? 1, flags, o0: a?.offset ?? 0, o1: b?.offset ?? 0, oOut: out.offset });
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'guides' });
    if (!this.pass) {
      this.pass = this.encoder.beginComputePass({ label: 'guides' });
      this.current = null;
    }
    // Runs of one kernel (the fill's levels) skip the redundant pipeline switch.
    const pipeline = this.pipelines[entry];
    if (pipeline !== this.current) {
      this.pass.setPipeline(pipeline);
      this.current = pipeline;
    }
    this.pass.setBindGroup(0, this.group(in0, in1, out.buffer, scratch ?? this.dummyScratch), [offset]);
    this.pass.dispatchWorkgroups(Math.ceil(w / 8), Math.ceil(h / 8));
  }
}
