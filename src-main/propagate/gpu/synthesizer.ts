/// <reference types="@webgpu/types" />
// WebGPU backend for propagation's patch synthesis: the same call, settings and output format as
// the native addon's synthesize (native/src/synth), on any GPU Dawn reaches (Vulkan, D3D12, Metal).
// Differences from the CPU by design: PatchMatch propagates in parallel (Jacobi passes that read
// neighbours at distance 1 and at a jump distance) instead of the CPU's tiled scan order, and the
// random streams differ, so fields match in quality, not bit for bit. The stop rules are the CPU's
// (frozen pixels, their dilation, a level's convergence), decided on the GPU: the host records
// every iteration and a level that is done turns the rest of its dispatches into empty grids.
import { CodedError } from '../../errors.ts';
import { abortError } from '../native.ts';
import type { GuideInput, Image, PropagateAddon, SynthOptions, SynthResult } from '../native.ts';
import { autoLevels, levelSide, parseSynthArgs, planOnDevice } from './args.ts';
import type { GuideShapes, ImageShape, SynthPlan, SynthUpload } from './args.ts';
import {
  ARGS_WORDS, FLAG_COMPUTE_FROZEN, FLAG_SKIP_FROZEN, FLAG_WEIGHTED, STATE_WORDS, SYNTH_PARAMS,
  boxWgsl, countWgsl, dilateWgsl, downscaleWgsl, evalErrWgsl, initWgsl, packBytesWgsl, patchMatchWgsl, stopDecideWgsl, stopReduceWgsl, stopResetWgsl, voteWgsl,
} from './kernels.ts';
import type { Params } from './kernels.ts';
import { paramBinding, paramLayoutEntry } from './params.ts';
import { Recorder } from './recorder.ts';

export type GpuSynthErrorCode = 'GPU_FAILED' | 'GPU_LOST' | 'CLOSED';
export class GpuSynthError extends CodedError<GpuSynthErrorCode> {}

export interface GpuSynthesizer {
  /** Adapter vendor / device / description, "(software)" for a CPU renderer such as SwiftShader. */
  readonly device: string;
  readonly software: boolean;
  /** Compute dispatches of the last finished call (benchmarks: a count that does not depend on the GPU). */
  readonly lastDispatches: number;
  /** Search-vote iterations the last finished call ran, all levels together (early stops left out). */
  readonly lastIterations: number;
  synthesize: PropagateAddon['synthesize'];
  /**
   * synthesize() for images already on this device (gpu/sequence.ts builds the guides there): the
   * same checks and kernels, no host conversion or upload, and the field stays on the GPU.
   * Resolves once the call's work is submitted, so the caller can queue the next frame's work
   * before this one's result is read back; `result` resolves with it.
   */
  synthesizeOnDevice(call: DeviceCall, signal?: AbortSignal): Promise<{ result: Promise<DeviceResult> }>;
  /** The WebGPU device it runs on, shared with the other GPU stages (gpu/blender.ts); close() destroys it. */
  readonly gpuDevice: GPUDevice;
  /**
   * Why the device is gone (a driver reset, an unplugged GPU), or null while it works or after
   * close(). Called after a failure: it first lets a loss that is still being reported arrive.
   */
  lost(): Promise<string | null>;
  close(): void;
}

/**
 * One synthesis whose pixels are GPU buffers of 0..255 floats, laid out as the host call's
 * upload: `sources` (and `targets`) hold guide 0's interleaved pixels, then guide 1's, and so on.
 */
export interface DeviceCall {
  style: ImageShape & { buffer: GPUBuffer };
  guides: GuideShapes[];
  sources: GPUBuffer;
  targets: GPUBuffer;
  /** A starting field, (x, y) int pairs per target pixel; null: the pyramid's own start. */
  initNnf: GPUBuffer | null;
  options: SynthOptions;
  /** Records copies of the outputs to keep on the GPU; they run in the call's last submission. */
  keep?(out: { image: GPUBuffer; nnf: GPUBuffer }, copy: (src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number) => void): void;
  /** One more f32 per target pixel to read back with the result, as it is after the call's work. */
  readAlso?: GPUBuffer;
}

export interface DeviceResult {
  /** The result as bytes, interleaved, rounded as synthesize() rounds a byte image. */
  image: Uint8Array;
  /** Per-pixel patch error, as SynthResult.error. */
  error: Float32Array;
  /** DeviceCall.readAlso's values; null without one. */
  also: Float32Array | null;
}

type Inputs = { host: SynthUpload } | { device: DeviceCall };

// WebGPU's numeric flags (the `webgpu` package's globals hold the same values).
const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, STORAGE: 0x80, INDIRECT: 0x100 } as const;
const MAP_READ = 0x1;
const COMPUTE = 0x4;
const SLOTS = 512;
/** Search-vote batches submitted ahead of the GPU. */
const IN_FLIGHT = 4;
/**
 * Parallel passes per requested PatchMatch iteration, at least: one CPU pass scans the frame in
 * order and carries a good match across it, a Jacobi pass only a jump away. With the propagation
 * default of one CPU pass, one GPU pass lost 0.42 dB on the ground-truth bench; four match it.
 */
const MIN_JACOBI_PASSES = 4;

type KernelName = 'downscale' | 'init' | 'evalErr' | 'count' | 'box' | 'patchMatch' | 'vote' | 'dilate' | 'stopReset' | 'stopReduce' | 'stopDecide' | 'packBytes';
/** Storage bindings after the parameter slot, in binding order: read-only or read-write. */
const KERNELS: Record<KernelName, { code: string; bindings: ('r' | 'rw')[] }> = {
  downscale: { code: downscaleWgsl, bindings: ['r', 'rw'] },
  init: { code: initWgsl, bindings: ['r', 'rw'] },
  evalErr: { code: evalErrWgsl, bindings: ['r', 'r', 'r', 'rw', 'r'] },
  count: { code: countWgsl, bindings: ['r', 'rw'] },
  box: { code: boxWgsl, bindings: ['r', 'rw', 'rw'] },
  patchMatch: { code: patchMatchWgsl, bindings: ['r', 'r', 'r', 'rw', 'rw', 'r', 'r'] },
  vote: { code: voteWgsl, bindings: ['r', 'r', 'r', 'rw', 'rw', 'rw'] },
  dilate: { code: dilateWgsl, bindings: ['r', 'rw'] },
  stopReset: { code: stopResetWgsl, bindings: ['r', 'rw', 'rw'] },
  stopReduce: { code: stopReduceWgsl, bindings: ['r', 'r', 'rw'] },
  stopDecide: { code: stopDecideWgsl, bindings: ['r', 'rw', 'rw'] },
  packBytes: { code: packBytesWgsl, bindings: ['r', 'rw'] },
};
/** Byte offsets in the stop arguments of each grid (stopResetWgsl's order). */
const GRID = { target: 0, source: 12, reduce: 24 } as const;

interface Kernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** Buffers and bind groups for one (style size, target size, channel layout); reused across calls. */
class Resources {
  readonly key: string;
  readonly buffers: GPUBuffer[] = [];
  readonly styleIn: GPUBuffer; readonly guideSrcIn: GPUBuffer; readonly guideTgtIn: GPUBuffer; readonly initIn: GPUBuffer;
  readonly styleL: GPUBuffer; readonly srcF: GPUBuffer; readonly tgtF: GPUBuffer;
  readonly nnf: [GPUBuffer, GPUBuffer]; readonly err: GPUBuffer; readonly est: GPUBuffer; readonly frozen: GPUBuffer;
  /** The result as bytes, four to a word (packBytesWgsl), for a device call's readback. */
  readonly packed: GPUBuffer;
  readonly cnt: GPUBuffer; readonly tmp: GPUBuffer; readonly occ: GPUBuffer;
  /** Two, used in turn: a call's result is read back while the next call's work runs. */
  readonly readbacks: [GPUBuffer, GPUBuffer];
  /** Settles when the readback buffer of that index is free again. */
  readonly reading: [Promise<void>, Promise<void>] = [Promise.resolve(), Promise.resolve()];
  nextReadback: 0 | 1 = 0;
  readonly frozenTmp: GPUBuffer; readonly partials: GPUBuffer; readonly state: GPUBuffer; readonly args: GPUBuffer;
  readonly g: Record<string, GPUBindGroup> = {};

  constructor(device: GPUDevice, kernels: Record<KernelName, Kernel>, uniform: GPUBuffer, key: string,
    sw: number, sh: number, tw: number, th: number, cs: number, cg: number) {
    this.key = key;
    const k = Math.ceil((cs + cg) / 4);
    const st = USAGE.STORAGE;
    const make = (bytes: number, usage: number) => {
      const b = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
      this.buffers.push(b);
      return b;
    };
    const S = sw * sh, T = tw * th;
    this.styleIn = make(S * cs * 4, st | USAGE.COPY_DST);
    this.guideSrcIn = make(S * cg * 4, st | USAGE.COPY_DST);
    this.guideTgtIn = make(T * cg * 4, st | USAGE.COPY_DST);
    this.initIn = make(T * 8, st | USAGE.COPY_DST);
    this.styleL = make(S * cs * 4, st);
    this.srcF = make(S * k * 16, st);
    this.tgtF = make(T * k * 16, st);
    this.nnf = [make(T * 8, st | USAGE.COPY_SRC), make(T * 8, st | USAGE.COPY_SRC)];
    this.err = make(T * 4, st | USAGE.COPY_SRC);
    this.est = make(T * cs * 4, st | USAGE.COPY_SRC);
    this.packed = make(packedWords(T * cs) * 4, st | USAGE.COPY_SRC);
    this.frozen = make(T * 4, st);
    this.cnt = make(S * 4, st);
    this.tmp = make(S * 4, st);
    this.occ = make(S * 4, st);
    const readback = () => make(T * (cs + 1 + 2) * 4 + STATE_WORDS * 4, USAGE.MAP_READ | USAGE.COPY_DST);
    this.readbacks = [readback(), readback()];
    this.frozenTmp = make(T * 4, st);
    this.partials = make(Math.ceil(T / 256) * 8, st);
    this.state = make(STATE_WORDS * 4, st | USAGE.COPY_SRC);
    this.args = make(ARGS_WORDS * 4, st | USAGE.INDIRECT);

    const group = (name: KernelName, buffers: GPUBuffer[]) => device.createBindGroup({
      layout: kernels[name].layout,
      entries: [paramBinding(SYNTH_PARAMS, uniform), ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }))],
    });
    const [A, B] = this.nnf;
    this.g.dsStyle = group('downscale', [this.styleIn, this.styleL]);
    this.g.dsStyleF = group('downscale', [this.styleIn, this.srcF]);
    this.g.dsGuideSrc = group('downscale', [this.guideSrcIn, this.srcF]);
    this.g.dsGuideTgt = group('downscale', [this.guideTgtIn, this.tgtF]);
    this.g.initToA = group('init', [this.initIn, A]);
    this.g.initAB = group('init', [A, B]);
    this.g.initBA = group('init', [B, A]);
    for (const [n, f, o] of [['A', A, B], ['B', B, A]] as const) {
      this.g[`eval${n}`] = group('evalErr', [this.srcF, this.tgtF, f, this.err, this.frozen]);
      this.g[`count${n}`] = group('count', [f, this.cnt]);
      this.g[`pm${n}`] = group('patchMatch', [this.srcF, this.tgtF, f, o, this.err, this.frozen, this.occ]);
      this.g[`vote${n}`] = group('vote', [this.styleL, f, this.err, this.est, this.frozen, this.tgtF]);
    }
    this.g.dilateRows = group('dilate', [this.frozen, this.frozenTmp]);
    this.g.dilateCols = group('dilate', [this.frozenTmp, this.frozen]);
    this.g.stopReset = group('stopReset', [this.partials, this.state, this.args]);
    this.g.stopReduce = group('stopReduce', [this.err, this.frozen, this.partials]);
    this.g.stopDecide = group('stopDecide', [this.partials, this.state, this.args]);
    this.g.boxA = group('box', [this.cnt, this.tmp, this.occ]);
    this.g.boxB = group('box', [this.tmp, this.occ, this.cnt]);
    this.g.pack = group('packBytes', [this.est, this.packed]);
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
  }
}

/** Invocations per row of the packBytes grid. */
const PACK_ROW = 2048;
const packedWords = (bytes: number) => Math.ceil(bytes / 4);

/** A result on the 0..255 scale as bytes: rounded and clamped. */
function toBytes(est: Float32Array): Uint8Array {
  const data = new Uint8Array(est.length);
  for (let i = 0; i < est.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(est[i] as number)));
  return data;
}

/** Jump distance of PatchMatch pass `it`: long jumps first so matches cross regions in few passes. */
function jumpFor(it: number): number {
  return [8, 4, 2][it % 3] as number;
}

class Synthesizer implements GpuSynthesizer {
  readonly device: string;
  readonly software: boolean;
  private readonly gpu: GPUDevice;
  private readonly kernels: Record<KernelName, Kernel>;
  private readonly recorder: Recorder;
  private res: Resources | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private dead: GpuSynthError | null = null;
  lastDispatches = 0;
  lastIterations = 0;

  constructor(gpu: GPUDevice, kernels: Record<KernelName, Kernel>, name: string, software: boolean) {
    this.gpu = gpu;
    this.kernels = kernels;
    this.device = name;
    this.software = software;
    this.recorder = new Recorder(gpu, SLOTS);
    void gpu.lost.then((info) => {
      this.dead ??= new GpuSynthError('GPU_LOST', `the GPU device was lost (${info.reason}): ${info.message}`);
    });
  }

  synthesize = <T extends Image>(style: T, guides: GuideInput[], options?: SynthOptions, signal?: AbortSignal, onProgress?: (fraction: number) => void): Promise<SynthResult<T>> => {
    // One call at a time: calls share the device buffers.
    const run = this.queue.then(() => this.run(style, guides, options, signal, onProgress));
    this.queue = run.catch(() => undefined);
    return run as Promise<SynthResult<T>>;
  };

  synthesizeOnDevice = (call: DeviceCall, signal?: AbortSignal): Promise<{ result: Promise<DeviceResult> }> => {
    // The next call may start once this one's work is submitted: it reads back into the other buffer.
    const submitted = this.queue.then(async () => {
      const plan = planOnDevice(call.style, call.guides, call.options);
      const collect = await this.guarded(() => this.execute(plan, { device: call }, signal, undefined));
      const result = collect().then((r) => ({ image: r.bytes as Uint8Array, error: r.error, also: r.also }));
      result.catch(() => undefined); // the caller awaits it: never an unhandled rejection meanwhile
      return { result };
    });
    this.queue = submitted.catch(() => undefined);
    return submitted;
  };

  get gpuDevice(): GPUDevice {
    return this.gpu;
  }

  async lost(): Promise<string | null> {
    // A failed map or submit can reject before the device's lost promise has settled.
    if (this.dead === null) await new Promise((resolve) => setTimeout(resolve, 50));
    return this.dead?.code === 'GPU_LOST' ? this.dead.message : null;
  }

  close(): void {
    if (this.dead?.code === 'CLOSED') return;
    this.dead = new GpuSynthError('CLOSED', 'the GPU synthesizer is closed');
    this.res?.destroy();
    this.res = null;
    this.recorder.destroy();
    this.gpu.destroy();
  }

  private async resources(plan: SynthPlan): Promise<Resources> {
    const cs = plan.style.channels;
    const cg = plan.guides.reduce((n, g) => n + g.source.channels, 0);
    const key = [plan.style.width, plan.style.height, plan.targetWidth, plan.targetHeight, cs, ...plan.guides.map((g) => g.source.channels)].join(',');
    if (this.res?.key !== key) {
      // The largest binding is a feature image: 16 bytes per 4 channels per pixel.
      const largest = Math.max(plan.style.width * plan.style.height, plan.targetWidth * plan.targetHeight) * Math.ceil((cs + cg) / 4) * 16;
      if (largest > this.gpu.limits.maxStorageBufferBindingSize) {
        throw new RangeError(`the images are too large for this GPU: a feature buffer needs ${largest} bytes, the device binds at most ${this.gpu.limits.maxStorageBufferBindingSize}`);
      }
      if (this.res) {
        // Results of earlier calls may still be on their way back.
        await Promise.all(this.res.reading);
        this.res.destroy();
      }
      this.res = new Resources(this.gpu, this.kernels, this.recorder.uniform, key, plan.style.width, plan.style.height, plan.targetWidth, plan.targetHeight, cs, cg);
    }
    return this.res;
  }

  private async run(style: Image, guides: GuideInput[], options: SynthOptions | undefined, signal: AbortSignal | undefined, onProgress: ((f: number) => void) | undefined): Promise<SynthResult> {
    if (this.dead) throw this.dead;
    const { plan, upload } = parseSynthArgs(style, guides, options);
    if (signal?.aborted) throw abortError(signal);
    const collect = await this.guarded(() => this.execute(plan, { host: upload }, signal, onProgress));
    const r = await collect();
    const est = r.est as Float32Array;
    let data: Uint8Array | Float32Array;
    if (plan.styleIsFloat) {
      data = new Float32Array(est.length);
      for (let i = 0; i < est.length; i++) data[i] = (est[i] as number) / 255;
    } else {
      data = toBytes(est);
    }
    return { image: { data, width: plan.targetWidth, height: plan.targetHeight, channels: plan.style.channels } as Image, error: r.error, nnf: r.nnf as Int32Array };
  }

  /** Runs `work` inside the device's error scopes: a validation or memory error becomes a GpuSynthError. */
  private async guarded<R>(work: () => Promise<R>): Promise<R> {
    if (this.dead) throw this.dead;
    this.gpu.pushErrorScope('out-of-memory');
    this.gpu.pushErrorScope('validation');
    let result: R | null = null;
    let failure: unknown = null;
    try {
      result = await work();
    } catch (err) {
      this.recorder.reset();
      failure = err;
    }
    const scoped = [await this.gpu.popErrorScope(), await this.gpu.popErrorScope()].find((e) => e !== null);
    if (this.dead) throw this.dead;
    if (scoped) throw new GpuSynthError('GPU_FAILED', `WebGPU synthesis failed: ${scoped.message}`);
    if (failure !== null) throw failure;
    return result as R;
  }

  /**
   * Records and submits one synthesis; resolves once all of it is submitted, with the function that
   * reads its result back (after the GPU has finished it).
   */
  private async execute(plan: SynthPlan, inputs: Inputs, signal: AbortSignal | undefined, onProgress: ((f: number) => void) | undefined): Promise<() => Promise<{ est: Float32Array | null; bytes: Uint8Array | null; error: Float32Array; nnf: Int32Array | null; also: Float32Array | null }>> {
    const res = await this.resources(plan);
    const which = res.nextReadback;
    res.nextReadback = which === 0 ? 1 : 0;
    await res.reading[which];
    const readback = res.readbacks[which];
    const q = this.gpu.queue;
    const K = this.kernels;
    const rec = this.recorder;
    const dispatched = rec.dispatches;
    const SW = plan.style.width, SH = plan.style.height, TW = plan.targetWidth, TH = plan.targetHeight;
    const cs = plan.style.channels;
    const guideFloats = plan.guides.reduce((n, g) => n + g.source.channels, 0);
    const k = Math.ceil((cs + guideFloats) / 4);

    const S = SW * SH * 4, T4 = TW * TH * 4;
    let hasInit: boolean;
    if ('host' in inputs) {
      const up = inputs.host;
      q.writeBuffer(res.styleIn, 0, up.style);
      let srcOff = 0, tgtOff = 0;
      for (const g of up.guides) {
        q.writeBuffer(res.guideSrcIn, srcOff * 4, g.source);
        q.writeBuffer(res.guideTgtIn, tgtOff * 4, g.target);
        srcOff += g.source.length;
        tgtOff += g.target.length;
      }
      if (plan.initNnf) q.writeBuffer(res.initIn, 0, plan.initNnf);
      hasInit = plan.initNnf !== null;
    } else {
      // Queue order puts these copies before the dispatches submitted after them.
      const d = inputs.device;
      const enc = this.gpu.createCommandEncoder();
      enc.copyBufferToBuffer(d.style.buffer, 0, res.styleIn, 0, S * cs);
      if (guideFloats > 0) {
        enc.copyBufferToBuffer(d.sources, 0, res.guideSrcIn, 0, S * guideFloats);
        enc.copyBufferToBuffer(d.targets, 0, res.guideTgtIn, 0, T4 * guideFloats);
      }
      if (d.initNnf) enc.copyBufferToBuffer(d.initNnf, 0, res.initIn, 0, T4 * 2);
      q.submit([enc.finish()]);
      hasInit = d.initNnf !== null;
    }

    const minSide = Math.min(SW, SH, TW, TH);
    const auto = autoLevels(minSide, plan.patchSize);
    const levels = plan.levels > 0 ? Math.min(plan.levels, auto) : auto;
    const styleScale = Math.fround(Math.sqrt(plan.styleWeight / cs));
    let totalWork = 0, doneWork = 0;
    for (let l = levels - 1; l >= 0; l--) totalWork += levelSide(TW, l) * levelSide(TH, l) * plan.searchVoteIters;
    if (plan.extraPass3x3) totalWork += TW * TH * plan.searchVoteIters;

    let cur = 0; // which of res.nnf holds the field
    let prevSw = 0, prevSh = 0, prevTw = 0, prevTh = 0;
    const passes = levels + (plan.extraPass3x3 ? 1 : 0);
    // A level may stop early on the GPU (convergence, or every pixel frozen): the rest of its
    // dispatches then read empty grids. An even pass count leaves the field where the host expects
    // it after every iteration, whether the iteration ran or not.
    const early = plan.convergence > 0 || plan.stopThreshold > 0;
    const minPasses = plan.patchMatchIters === 0 ? 0 : Math.max(plan.patchMatchIters, MIN_JACOBI_PASSES);
    const jacobiPasses = early ? minPasses + (minPasses % 2) : minPasses;
    const grid = (kernel: KernelName, group: string, params: Params, w: number, h: number, at: number) => {
      if (early) rec.dispatchIndirect(K[kernel].pipeline, res.g[group] as GPUBindGroup, params, res.args, at);
      else rec.dispatch(K[kernel].pipeline, res.g[group] as GPUBindGroup, params, w, h);
    };
    const inFlight: Promise<void>[] = [];
    const submit = () => {
      const done = rec.flush();
      done.catch(() => undefined); // awaited later, or dropped with a failed call: never unhandled
      inFlight.push(done);
    };
    for (let pass = 0; pass < passes; pass++) {
      const extra = pass >= levels;
      const level = extra ? 0 : levels - 1 - pass;
      const patch = extra ? 3 : plan.patchSize;
      const r = patch >> 1;
      const sw = levelSide(SW, level), sh = levelSide(SH, level), tw = levelSide(TW, level), th = levelSide(TH, level);
      if (sw < patch || sh < patch) throw new RangeError('style image is smaller than the patch at a pyramid level');
      const area = patch * patch;
      const base: Params = {
        sw, sh, tw, th, ps: patch, r, k, cs, seed: plan.seed, level: extra ? 100 : level, area,
        maxRadius: Math.floor(Math.max(sw, sh) / 2), lambda: plan.uniformityWeight, stopThr: plan.stopThreshold,
        omegaBest: Math.fround(Math.fround(Math.fround(tw) * th) / Math.fround(Math.fround(sw) * sh) * area),
      };

      // Pyramid level of style and guides (area averaged from full size, as the CPU does).
      const ds = (group: string, inW: number, inH: number, inBase: number, inC: number, outW: number, outH: number, outStride: number, outOff: number, scale: number) =>
        rec.dispatch(K.downscale.pipeline, res.g[group] as GPUBindGroup, { ...base, inW, inH, inBase, inC, outW, outH, outStride, outOff, scale }, outW, outH);
      ds('dsStyle', SW, SH, 0, cs, sw, sh, cs, 0, 1);
      ds('dsStyleF', SW, SH, 0, cs, sw, sh, 4 * k, 0, styleScale);
      let ch = cs, sBase = 0, tBase = 0;
      for (const g of plan.guides) {
        const sc = Math.fround(Math.sqrt(g.weight / g.source.channels));
        ds('dsGuideSrc', SW, SH, sBase, g.source.channels, sw, sh, 4 * k, ch, sc);
        ds('dsGuideTgt', TW, TH, tBase, g.target.channels, tw, th, 4 * k, ch, sc);
        ch += g.source.channels;
        sBase += SW * SH * g.source.channels;
        tBase += TW * TH * g.target.channels;
      }

      // Starting field.
      if (pass === 0) {
        const mode = hasInit ? 2 : 0;
        rec.dispatch(K.init.pipeline, res.g.initToA as GPUBindGroup, { ...base, mode, fw: TW, fh: TH, fsw: SW, fsh: SH }, tw, th);
        cur = 0;
      } else if (!extra) {
        rec.dispatch(K.init.pipeline, res.g[cur === 0 ? 'initAB' : 'initBA'] as GPUBindGroup, { ...base, mode: 1, fw: prevTw, fh: prevTh, fsw: prevSw, fsh: prevSh }, tw, th);
        cur = 1 - cur;
      }
      prevSw = sw; prevSh = sh; prevTw = tw; prevTh = th;
      const F = () => (cur === 0 ? 'A' : 'B');
      // Zeroes the occupancy counts at this level's size (what it writes to occ is rebuilt before use).
      if (plan.uniformityWeight > 0) rec.dispatch(K.box.pipeline, res.g.boxB as GPUBindGroup, { ...base, dir: 1 }, sw, sh);
      rec.dispatch(K.vote.pipeline, res.g[`vote${F()}`] as GPUBindGroup, { ...base, flags: 0, scale: styleScale }, tw, th);
      if (early) rec.dispatch(K.stopReset.pipeline, res.g.stopReset as GPUBindGroup, { ...base, mode: pass === 0 ? 1 : 0 }, 1, 1);

      for (let v = 0; v < plan.searchVoteIters; v++) {
        const skip = v > 0 && plan.stopThreshold > 0 ? FLAG_SKIP_FROZEN : 0;
        grid('evalErr', `eval${F()}`, { ...base, flags: skip }, tw, th, GRID.target);
        for (let it = 0; it < jacobiPasses; it++) {
          if (plan.uniformityWeight > 0 && (it === 0 || plan.occupancyRefresh === 'pass')) {
            // Occupancy: counts (cnt is zero here), Omega = box(counts), occ = box(Omega), cnt zeroed.
            grid('count', `count${F()}`, base, tw, th, GRID.target);
            grid('box', 'boxA', { ...base, dir: 0 }, sw, sh, GRID.source);
            grid('box', 'boxB', { ...base, dir: 1 }, sw, sh, GRID.source);
          }
          grid('patchMatch', `pm${F()}`, { ...base, flags: skip, iter: v * 64 + it, jump: jumpFor(it) }, tw, th, GRID.target);
          cur = 1 - cur;
        }
        const voteFlags = (plan.weightedVote ? FLAG_WEIGHTED : 0) | (plan.stopThreshold > 0 ? FLAG_COMPUTE_FROZEN : 0);
        grid('vote', `vote${F()}`, { ...base, flags: voteFlags, scale: styleScale }, tw, th, GRID.target);
        if (plan.stopThreshold > 0 && plan.stopDilate) {
          grid('dilate', 'dilateRows', { ...base, dir: 0 }, tw, th, GRID.target);
          grid('dilate', 'dilateCols', { ...base, dir: 1 }, tw, th, GRID.target);
        }
        if (early) {
          // The native rule, after this iteration's vote: converged, or nothing left to search.
          rec.dispatchIndirect(K.stopReduce.pipeline, res.g.stopReduce as GPUBindGroup, base, res.args, GRID.reduce);
          rec.dispatch(K.stopDecide.pipeline, res.g.stopDecide as GPUBindGroup, { ...base, conv: plan.convergence }, 8, 8);
        }
        // Up to IN_FLIGHT batches queued: waiting on each one's completion costs more than a small
        // batch's GPU time. A macrotask turn per batch lets an abort arrive between batches.
        submit();
        if (inFlight.length > IN_FLIGHT) await inFlight.shift();
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (signal?.aborted) throw abortError(signal);
        doneWork += tw * th;
        onProgress?.(doneWork / totalWork);
      }
      if (pass === passes - 1) {
        rec.dispatch(K.evalErr.pipeline, res.g[`eval${F()}`] as GPUBindGroup, { ...base, flags: 0 }, tw, th);
      }
    }

    // Read back image, error and (for host calls) the field in one mapping; a device call's
    // readAlso takes the field's place, and its image comes back as bytes, packed on the GPU.
    const T = TW * TH;
    const withField = 'host' in inputs;
    const also = 'device' in inputs ? inputs.device.readAlso ?? null : null;
    if (withField) {
      rec.copy(res.est, 0, readback, 0, T * cs * 4);
    } else {
      const words = packedWords(T * cs);
      rec.dispatch(K.packBytes.pipeline, res.g.pack as GPUBindGroup, { tw: TW, th: TH, cs, outW: PACK_ROW }, PACK_ROW, Math.ceil(words / PACK_ROW));
      rec.copy(res.packed, 0, readback, 0, words * 4);
    }
    rec.copy(res.err, 0, readback, T * cs * 4, T * 4);
    const stateAt = T * (cs + 3) * 4;
    if (early) rec.copy(res.state, 0, readback, stateAt, STATE_WORDS * 4);
    if (withField) rec.copy(res.nnf[cur] as GPUBuffer, 0, readback, T * (cs + 1) * 4, T * 8);
    else inputs.device.keep?.({ image: res.est, nnf: res.nnf[cur] as GPUBuffer }, (src, so, dst, dO, size) => rec.copy(src, so, dst, dO, size));
    // After keep's copies: the same submission, so it sees what they wrote.
    if (also) rec.copy(also, 0, readback, T * (cs + 1) * 4, T * 4);
    submit();
    this.lastDispatches = rec.dispatches - dispatched;
    const searchVoteIters = plan.searchVoteIters * passes;
    const finalPatch = plan.extraPass3x3 ? 3 : plan.patchSize;
    const collect = async () => {
      // Settled together: the buffer is free again only once its mapping is over, either way.
      const settled = await Promise.allSettled([readback.mapAsync(MAP_READ), ...inFlight]);
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) {
        if (settled[0]?.status === 'fulfilled') readback.unmap();
        if (this.dead) throw this.dead;
        const why = (failed.reason as Error)?.message ?? String(failed.reason);
        throw new GpuSynthError('GPU_FAILED', `reading the WebGPU synthesis result back failed: ${why}`, { cause: failed.reason });
      }
      const range = readback.getMappedRange();
      this.lastIterations = early ? (new Uint32Array(range, stateAt, STATE_WORDS)[2] as number) : searchVoteIters;
      const est = withField ? new Float32Array(range, 0, T * cs).slice() : null;
      const bytes = withField ? null : new Uint8Array(range, 0, T * cs).slice();
      const err = new Float32Array(range, T * cs * 4, T).slice();
      const nnf = withField ? new Int32Array(range, T * (cs + 1) * 4, T * 2).slice() : null;
      const alsoValues = also ? new Float32Array(range, T * (cs + 1) * 4, T).slice() : null;
      readback.unmap();
      const area = finalPatch * finalPatch;
      for (let i = 0; i < T; i++) err[i] = Math.fround((err[i] as number) / area);
      return { est, bytes, error: err, nnf, also: alsoValues };
    };
    return () => {
      const done = collect();
      res.reading[which] = done.then(() => undefined, () => undefined);
      return done;
    };
  }
}

interface DawnModule {
  create(flags: string[]): GPU;
}

let dawnGpu: GPU | null = null;

/**
 * Opens the WebGPU device and compiles the kernels. Resolves to { unavailable: why } when there
 * is no `webgpu` package, no adapter or no device; rejects with an AbortError when signalled.
 */
export async function createGpuSynthesizer(opts: { signal?: AbortSignal } = {}): Promise<GpuSynthesizer | { unavailable: string }> {
  const { signal } = opts;
  if (signal?.aborted) throw abortError(signal);
  if (!dawnGpu) {
    let dawn: DawnModule;
    try {
      const name = 'webgpu'; // a specifier in a variable: the package is optional
      dawn = (await import(name)) as DawnModule;
    } catch (err) {
      return { unavailable: `the optional \`webgpu\` package (Dawn for Node) could not be loaded: ${(err as Error).message}` };
    }
    dawnGpu = dawn.create([]);
  }
  const adapter = await dawnGpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { unavailable: 'no WebGPU adapter (no GPU with a Vulkan, D3D12 or Metal driver was found)' };
  const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const software = i.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|warp|software/i.test(`${i.vendor} ${i.architecture} ${i.device} ${i.description}`);
  const name = [i.vendor, i.device || i.architecture, i.description].filter((s) => s && s.trim().length > 0).join(' · ') || 'unnamed adapter';
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
  } catch (err) {
    return { unavailable: `the WebGPU adapter ${name} gave no device: ${(err as Error).message}` };
  }
  try {
    const kernels = {} as Record<KernelName, Kernel>;
    await Promise.all((Object.keys(KERNELS) as KernelName[]).map(async (kn) => {
      const spec = KERNELS[kn];
      const layout = device.createBindGroupLayout({
        entries: [
          paramLayoutEntry(SYNTH_PARAMS),
          ...spec.bindings.map((b, j) => ({ binding: j + 1, visibility: COMPUTE, buffer: { type: b === 'r' ? 'read-only-storage' as const : 'storage' as const } })),
        ],
      });
      const pipeline = await device.createComputePipelineAsync({
        layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module: device.createShaderModule({ code: spec.code, label: kn }), entryPoint: 'main' },
      });
      kernels[kn] = { pipeline, layout };
    }));
    if (signal?.aborted) throw abortError(signal);
    return new Synthesizer(device, kernels, `${name}${software ? ' (software)' : ''}`, software);
  } catch (err) {
    device.destroy();
    if (signal?.aborted) throw abortError(signal);
    throw new GpuSynthError('GPU_FAILED', `compiling the WebGPU synthesis kernels on ${name} failed: ${(err as Error).message}`, { cause: err });
  }
}
