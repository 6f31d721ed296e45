/// <reference types="@webgpu/types" />
// WebGPU blend of one frame: the same call and result as the native blendFrame (blend.ts), for the
// settings the kernels cover (blend-kernels.ts); any other setting is refused with the reason, and
// withGpuBlend routes those frames to the CPU with a one-line note. It runs on the device the GPU
// synthesizer opened, so frames never leave the GPU's process twice.
// Differences from the CPU by design: f32 arithmetic instead of f64, and the screened Poisson
// system is solved by Chebyshev iteration to a 1e-5 relative tolerance instead of by a DCT; the
// output agrees to within rounding (bytes differ by at most a level or two on a few pixels).
import { CodedError } from '../../errors.ts';
import { BlendError, validateBlendOptions } from '../blend.ts';
import type { BlendAddon, BlendFrameInput, BlendFrameResult, BlendOptions } from '../blend.ts';
import type { GpuSynthesizer } from './synthesizer.ts';
import { BLEND_PARAMS, CARRY, ENTRY_POINTS, PLANE, PLANES, RULE, blendWgsl } from './blend-kernels.ts';
import { ParamSlots, paramBinding, paramLayoutEntry } from './params.ts';
import type { ParamValues } from './params.ts';

export type GpuBlendErrorCode = 'GPU_FAILED' | 'GPU_LOST' | 'CLOSED';
export class GpuBlendError extends CodedError<GpuBlendErrorCode> {}

export interface GpuBlender {
  /** Why these settings (or this size) are not covered on the GPU; null when they are. */
  unsupported(options: BlendOptions | undefined, width: number, height: number): string | null;
  /** As BlendAddon.blendFrame; rejects with INVALID_ARGUMENT when unsupported() gives a reason. */
  blendFrame(input: BlendFrameInput): Promise<BlendFrameResult>;
  /** Frees the blender's buffers; the device stays open (it belongs to whoever opened it). */
  close(): void;
}

const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, STORAGE: 0x80 } as const;
const COMPUTE = 0x4;
/**
 * Below this screening the system is nearly singular: Chebyshev needs thousands of iterations,
 * and at 0 the CPU fixes the mean directly. Such settings stay on the CPU.
 */
export const MIN_GPU_SCREENING = 0.01;
/** Relative error bound of the Poisson solve (Chebyshev's worst case; seams converge faster). */
const SOLVE_TOLERANCE = 1e-5;
/** f32 stands in for "no clipping": clamping to Infinity is not portable WGSL. */
const NO_CLIP = 3e38;

type Entry = (typeof ENTRY_POINTS)[number];

/** The settings of one frame, resolved from BlendOptions with the CPU's defaults. */
interface Resolved {
  space: number;
  mix: number;
  rule: number;
  keep: number;
  band: number;
  poisson: boolean;
  clip: number;
  lambda: [number, number, number];
  strength: number;
  tolerance: number;
  radius: number;
}

function resolve(o: BlendOptions = {}): Resolved | string {
  const mix = o.mix ?? (o.histogram === undefined ? 'pick' : o.histogram ? 'histogram' : 'alpha');
  if (mix === 'histogram') return "mix 'histogram' (its per-channel statistics are not ported)";
  const scr = o.screening ?? 0.1;
  const list = typeof scr === 'number' ? [scr, scr, scr] : scr.length === 1 ? [scr[0], scr[0], scr[0]] : [...scr];
  const lambda = list.map(Number) as [number, number, number];
  const rule = RULE[o.selection ?? 'hysteresis'];
  const poisson = (o.poisson ?? true) && rule !== RULE.crossfade;
  if (poisson && lambda.some((l) => !(l >= MIN_GPU_SCREENING))) return `screening below ${MIN_GPU_SCREENING} (${lambda.join(', ')}): the system is nearly singular`;
  return {
    space: o.colorSpace === 'rgb' ? 1 : 0,
    mix: mix === 'alpha' ? 1 : 0,
    rule,
    keep: 1 + (o.hysteresis ?? 0.25),
    band: o.mixBand ?? 0,
    poisson,
    clip: o.gradClip === undefined || o.gradClip === Infinity ? NO_CLIP : Math.min(NO_CLIP, o.gradClip),
    lambda,
    strength: o.deflicker ?? 0.7,
    tolerance: o.deflickerTolerance ?? 8,
    radius: o.selectionRadius ?? 0,
  };
}

/**
 * Chebyshev iteration for (L + lambda) u = b, L the Neumann grid Laplacian of a w x h frame,
 * whose spectrum is [lambda, lambda + (2 - 2cos(pi (w-1)/w)) + (2 - 2cos(pi (h-1)/h))]. Returns
 * 1/theta per channel and, per iteration, the coefficients of d' = c1 d + c2 r (Saad, Alg. 12.1).
 */
export function chebyshevPlan(lambda: readonly number[], w: number, h: number, tol = SOLVE_TOLERANCE): { invTheta: number[]; c1: number[][]; c2: number[][] } {
  const top = (2 - 2 * Math.cos((Math.PI * (w - 1)) / w)) + (2 - 2 * Math.cos((Math.PI * (h - 1)) / h));
  const ch = lambda.map((l) => {
    const theta = l + top / 2, delta = top / 2;
    return { theta, delta, sigma: theta / delta };
  });
  // The error after n steps is at most 1 / T_n(sigma) of the first: enough steps for the slowest.
  const n = Math.max(1, ...ch.map((c) => (c.delta <= 0 ? 1 : Math.ceil(Math.acosh(1 / tol) / Math.acosh(c.sigma)))));
  const c1: number[][] = [], c2: number[][] = [];
  const rho = ch.map((c) => 1 / c.sigma);
  for (let k = 0; k < n; k++) {
    const a: number[] = [], b: number[] = [];
    ch.forEach((c, j) => {
      const next = 1 / (2 * c.sigma - (rho[j] as number));
      a.push(next * (rho[j] as number));
      b.push((2 * next) / c.delta);
      rho[j] = next;
    });
    c1.push(a);
    c2.push(b);
  }
  return { invTheta: ch.map((c) => 1 / c.theta), c1, c2 };
}

const words = (bytes: number) => Math.ceil(bytes / 4);

/** Buffers for one frame size; reused across calls. */
class Resources {
  readonly width: number;
  readonly height: number;
  readonly bytes: GPUBuffer; readonly floats: GPUBuffer; readonly planes: GPUBuffer; readonly state: GPUBuffer;
  readonly readback: GPUBuffer; readonly group: GPUBindGroup;
  /** Word offsets of A, B, the previous mask and the previous output in `bytes`. */
  readonly off: { a: number; b: number; m: number; p: number };

  constructor(device: GPUDevice, layout: GPUBindGroupLayout, uniform: GPUBuffer, width: number, height: number) {
    this.width = width;
    this.height = height;
    const n = width * height;
    const rgbWords = words(n * 3);
    this.off = { a: 0, b: rgbWords, m: 2 * rgbWords, p: 2 * rgbWords + words(n) };
    const make = (size: number, usage: number) => device.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    this.bytes = make((this.off.p + rgbWords) * 4, USAGE.STORAGE | USAGE.COPY_DST);
    this.floats = make(n * 16, USAGE.STORAGE | USAGE.COPY_DST);
    this.planes = make(PLANES * n * 16, USAGE.STORAGE);
    this.state = make(2 * n * 4, USAGE.STORAGE | USAGE.COPY_SRC);
    this.readback = make(n * 4, USAGE.MAP_READ | USAGE.COPY_DST);
    this.group = device.createBindGroup({
      layout,
      entries: [
        paramBinding(BLEND_PARAMS, uniform),
        ...[this.bytes, this.floats, this.planes, this.state].map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
      ],
    });
  }

  destroy(): void {
    for (const b of [this.bytes, this.floats, this.planes, this.state, this.readback]) b.destroy();
  }
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new BlendError('INVALID_ARGUMENT', `blendFrame: ${message}`);
}

/** The argument checks of the native blendFrame, with its messages where they matter. */
function checkInput(input: BlendFrameInput): void {
  check(typeof input === 'object' && input !== null, 'expects one argument object');
  const { width: w, height: h } = input;
  check(Number.isInteger(w) && Number.isInteger(h) && w >= 1 && h >= 1 && w <= 32768 && h <= 32768, `width and height must be integers in [1, 32768], got ${String(w)}x${String(h)}`);
  const n = w * h;
  const bytes = (v: unknown, name: string, len: number) => {
    check(v instanceof Uint8Array, `${name} must be a Uint8Array`);
    check((v as Uint8Array).length === len, `${name} must hold ${len} values, got ${(v as Uint8Array).length}`);
  };
  const floats = (v: unknown, name: string, len: number, finite: boolean) => {
    check(v instanceof Float32Array, `${name} must be a Float32Array`);
    const a = v as Float32Array;
    check(a.length === len, `${name} must hold ${len} values, got ${a.length}`);
    for (let i = 0; i < a.length; i++) {
      const v = a[i] as number;
      if (finite ? !Number.isFinite(v) : Number.isNaN(v)) check(false, `${name} must hold only ${finite ? 'finite numbers' : 'numbers'}, index ${i} is ${String(v)}`);
    }
  };
  bytes(input.a, 'a', n * 3);
  bytes(input.b, 'b', n * 3);
  floats(input.errA, 'errA', n, true);
  floats(input.errB, 'errB', n, true);
  check(typeof input.w === 'number' && input.w >= 0 && input.w <= 1, `w must be a number in [0, 1], got ${String(input.w)}`);
  if (input.prevMask) {
    bytes(input.prevMask, 'prevMask', n);
    const i = input.prevMask.findIndex((v) => v > 1);
    check(i < 0, `prevMask must hold 0 (A) or 1 (B), index ${i} is ${String(input.prevMask[i])}`);
  }
  if (input.flow) floats(input.flow, 'flow', n * 2, false);
  if (input.prevOut) bytes(input.prevOut, 'prevOut', n * 3);
  validateBlendOptions(input.options);
}

class Blender implements GpuBlender {
  private readonly device: GPUDevice;
  private readonly layout: GPUBindGroupLayout;
  private readonly pipelines: Record<Entry, GPUComputePipeline>;
  private readonly slots: ParamSlots<typeof BLEND_PARAMS.fields>;
  private readonly uniform: GPUBuffer;
  private res: Resources | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private dead: GpuBlendError | null = null;

  constructor(device: GPUDevice, layout: GPUBindGroupLayout, pipelines: Record<Entry, GPUComputePipeline>) {
    this.device = device;
    this.layout = layout;
    this.pipelines = pipelines;
    // Two box passes, prep, rhs, finish, deflick and the solver's iterations (~180 at MIN_GPU_SCREENING).
    this.slots = new ParamSlots(BLEND_PARAMS, 512);
    this.uniform = this.slots.createBuffer(device, 'blend params');
    void device.lost.then((info) => {
      this.dead ??= new GpuBlendError('GPU_LOST', `the GPU device was lost (${info.reason}): ${info.message}`);
    });
  }

  unsupported(options: BlendOptions | undefined, width: number, height: number): string | null {
    try {
      validateBlendOptions(options);
    } catch {
      return null; // not a coverage question: blendFrame rejects it as the CPU would
    }
    const r = resolve(options);
    if (typeof r === 'string') return r;
    const largest = PLANES * width * height * 16;
    if (largest > this.device.limits.maxStorageBufferBindingSize) {
      return `a ${width}x${height} frame needs a ${largest}-byte buffer, the device binds at most ${this.device.limits.maxStorageBufferBindingSize}`;
    }
    return null;
  }

  blendFrame = (input: BlendFrameInput): Promise<BlendFrameResult> => {
    // One call at a time: calls share the device buffers.
    const run = this.queue.then(() => this.run(input));
    this.queue = run.catch(() => undefined);
    return run;
  };

  close(): void {
    if (this.dead?.code === 'CLOSED') return;
    this.dead = new GpuBlendError('CLOSED', 'the GPU blender is closed');
    this.res?.destroy();
    this.res = null;
    this.uniform.destroy();
  }

  private async run(input: BlendFrameInput): Promise<BlendFrameResult> {
    if (this.dead) throw this.dead;
    checkInput(input);
    const why = this.unsupported(input.options, input.width, input.height);
    if (why !== null) throw new BlendError('INVALID_ARGUMENT', `the GPU blend does not cover ${why}; blend on the CPU`);
    // Everything that can raise a WebGPU error happens between the push and the pop, with no await
    // in between: the synthesizer holds its own scopes open across awaits on the same device, and a
    // scope of ours left open meanwhile would catch its errors (and it ours).
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let res: Resources | null = null;
    let failure: unknown = null;
    try {
      res = this.encode(input, resolve(input.options) as Resolved);
    } catch (err) {
      failure = err;
    }
    const pops = [this.device.popErrorScope(), this.device.popErrorScope()];
    const scoped = (await Promise.all(pops)).find((e) => e !== null);
    if (this.dead) throw this.dead;
    if (scoped) throw new GpuBlendError('GPU_FAILED', `WebGPU blend failed: ${scoped.message}`);
    if (failure !== null) throw failure;
    return this.readBack(res as Resources, input);
  }

  private resources(w: number, h: number): Resources {
    if (this.res?.width !== w || this.res.height !== h) {
      this.res?.destroy();
      this.res = new Resources(this.device, this.layout, this.uniform, w, h);
    }
    return this.res;
  }

  /** Uploads the inputs and submits every step; the packed output lands in res.readback. */
  private encode(input: BlendFrameInput, s: Resolved): Resources {
    const { width: W, height: H } = input;
    const N = W * H;
    const res = this.resources(W, H);
    const q = this.device.queue;
    // writeBuffer wants sizes in whole words: a ragged tail goes through a padded copy.
    const putBytes = (wordOff: number, data: Uint8Array) => {
      const bulk = data.length & ~3;
      if (bulk > 0) q.writeBuffer(res.bytes, wordOff * 4, data.buffer, data.byteOffset, bulk);
      if (bulk < data.length) {
        const tail = new Uint8Array(4);
        tail.set(data.subarray(bulk));
        q.writeBuffer(res.bytes, wordOff * 4 + bulk, tail);
      }
    };
    putBytes(res.off.a, input.a);
    putBytes(res.off.b, input.b);
    if (input.prevMask) putBytes(res.off.m, input.prevMask);
    const deflicker = input.prevOut != null && s.strength > 0;
    if (deflicker) putBytes(res.off.p, input.prevOut as Uint8Array);
    q.writeBuffer(res.floats, 0, input.errA.buffer, input.errA.byteOffset, N * 4);
    q.writeBuffer(res.floats, N * 4, input.errB.buffer, input.errB.byteOffset, N * 4);
    if (input.flow) q.writeBuffer(res.floats, N * 8, input.flow.buffer, input.flow.byteOffset, N * 8);

    // One parameter slot per dispatch; all written at once.
    const plan = s.poisson ? chebyshevPlan(s.lambda, W, H) : null;
    const iterations = plan?.c1.length ?? 0;
    const slots = this.slots;
    if (6 + iterations > slots.capacity) throw new RangeError(`the Poisson solve needs ${iterations} iterations, more than the ${slots.capacity - 6} prepared`);
    const base: ParamValues<typeof BLEND_PARAMS.fields> = {
      W, H, N, rule: s.rule, oA: res.off.a, oB: res.off.b, oM: res.off.m, oP: res.off.p,
      carry: input.prevMask ? (input.flow ? CARRY.warped : CARRY.still) : CARRY.none,
      space: s.space, mix: s.mix, hasFlow: input.flow ? 1 : 0,
      wt: input.w, keep: s.keep, band: s.band, clip: s.clip,
      strength: deflicker ? s.strength : 0, invTol: 1 / s.tolerance, poisson: s.poisson ? 1 : 0, radius: s.radius,
    };
    slots.clear();
    const dispatches: [Entry, number][] = [];
    const slot = (entry: Entry, extra: ParamValues<typeof BLEND_PARAMS.fields>) => {
      dispatches.push([entry, slots.push({ ...base, ...extra })]);
    };
    // The errors are compared only where the rule reads them.
    if (s.radius > 0 && (s.rule === RULE.carry || s.rule === RULE.hysteresis)) {
      slot('boxH', {});
      slot('boxV', {});
    } else {
      base.radius = 0;
    }
    slot('prep', {});
    if (plan) {
      slot('rhs', { invTheta: plan.invTheta });
      for (let k = 0; k < iterations; k++) {
        const even = k % 2 === 0;
        slot('cheb', { dIn: even ? PLANE.D0 : PLANE.D1, dOut: even ? PLANE.D1 : PLANE.D0, lam: s.lambda, c1: plan.c1[k] as number[], c2: plan.c2[k] as number[] });
      }
    }
    slot('finish', {});
    if (deflicker) slot('deflick', {});
    slots.upload(q, this.uniform);

    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    const gx = Math.ceil(W / 8), gy = Math.ceil(H / 8);
    for (const [entry, offset] of dispatches) {
      pass.setPipeline(this.pipelines[entry]);
      pass.setBindGroup(0, res.group, [offset]);
      pass.dispatchWorkgroups(gx, gy);
    }
    pass.end();
    enc.copyBufferToBuffer(res.state, N * 4, res.readback, 0, N * 4);
    q.submit([enc.finish()]);
    return res;
  }

  private async readBack(res: Resources, input: BlendFrameInput): Promise<BlendFrameResult> {
    const N = input.width * input.height;
    await res.readback.mapAsync(USAGE.MAP_READ, 0, N * 4);
    const packed = new Uint32Array(res.readback.getMappedRange(0, N * 4));
    const out = new Uint8Array(N * 3), mask = new Uint8Array(N), composite = new Uint8Array(N * 3);
    const { a, b } = input;
    for (let i = 0; i < N; i++) {
      const v = packed[i] as number;
      const j = 3 * i;
      out[j] = v & 0xff;
      out[j + 1] = (v >>> 8) & 0xff;
      out[j + 2] = (v >>> 16) & 0xff;
      const m = v >>> 24;
      mask[i] = m;
      const src = m ? b : a;
      composite[j] = src[j] as number;
      composite[j + 1] = src[j + 1] as number;
      composite[j + 2] = src[j + 2] as number;
    }
    res.readback.unmap();
    return { out, mask, composite };
  }
}

/** Compiles the blend kernels on `device` (the GPU synthesizer's, see GpuSynthesizer.gpuDevice). */
export async function createGpuBlender(device: GPUDevice): Promise<GpuBlender> {
  const layout = device.createBindGroupLayout({
    entries: [
      paramLayoutEntry(BLEND_PARAMS),
      { binding: 1, visibility: COMPUTE, buffer: { type: 'read-only-storage' } },
      { binding: 2, visibility: COMPUTE, buffer: { type: 'read-only-storage' } },
      { binding: 3, visibility: COMPUTE, buffer: { type: 'storage' } },
      { binding: 4, visibility: COMPUTE, buffer: { type: 'storage' } },
    ],
  });
  try {
    const module = device.createShaderModule({ code: blendWgsl, label: 'blend' });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    const made = await Promise.all(ENTRY_POINTS.map((entryPoint) => device.createComputePipelineAsync({ layout: pipelineLayout, compute: { module, entryPoint } })));
    const pipelines = Object.fromEntries(ENTRY_POINTS.map((e, i) => [e, made[i]])) as Record<Entry, GPUComputePipeline>;
    return new Blender(device, layout, pipelines);
  } catch (err) {
    throw new GpuBlendError('GPU_FAILED', `compiling the WebGPU blend kernels failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A BlendAddon whose blendFrame runs on the GPU where the settings are covered and on the CPU
 * otherwise; `note` hears each distinct reason once, as one line.
 */
export function withGpuBlend(cpu: BlendAddon, gpu: GpuBlender, note?: (line: string) => void): BlendAddon {
  const noted = new Set<string>();
  return {
    ...cpu,
    blendFrame: async (input: BlendFrameInput) => {
      const why = input && typeof input === 'object' ? gpu.unsupported(input.options, input.width, input.height) : 'no input';
      if (why === null) return gpu.blendFrame(input);
      if (!noted.has(why)) {
        noted.add(why);
        note?.(`the blend runs on the CPU: the GPU blend does not cover ${why}`);
      }
      return cpu.blendFrame(input);
    },
  };
}

/**
 * The blend stage of a propagation run: on the synthesizer's device when there is one, else (or
 * when its kernels fail to compile, with a note) the CPU addon. close() before the synthesizer's.
 */
export async function openBlendStage(cpu: BlendAddon, gpu: GpuSynthesizer | undefined, note: (line: string) => void): Promise<{ addon: BlendAddon; close(): void }> {
  if (!gpu) return { addon: cpu, close: () => undefined };
  try {
    const blender = await createGpuBlender(gpu.gpuDevice);
    return { addon: withGpuBlend(cpu, blender, note), close: () => blender.close() };
  } catch (err) {
    note(`the blend runs on the CPU: ${(err as Error).message}`);
    return { addon: cpu, close: () => undefined };
  }
}
