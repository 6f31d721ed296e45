// propagateVideo: stage 2 of Rerender. Key frames are carried to every frame by guided patch
// synthesis; frames between two keys get both directions, fused by the blending stage. Memory stays
// bounded whatever the interval's length: one direction is spilled to disk, the other is blended
// as it is made, and only the frames and flows around the current one are held.
import { chooseBackend } from './backend.ts';
import type { BackendInfo, ChosenBackend } from './backend.ts';
import { blendSequence, BlendError, loadBlendAddon } from './blend.ts';
import type { BlendAddon } from './blend.ts';
import { openBlendStage } from './gpu/blender.ts';
import { GpuGuides } from './gpu/guides.ts';
import type { GpuDirection } from './gpu/sequence.ts';
import { FrameSource } from './flows.ts';
import type { FlowCache } from './flows.ts';
import { composite, featherMask } from './mask.ts';
import { abortError, loadPropagateAddon } from './native.ts';
import type { PropagateAddon } from './native.ts';
import { planSegments, segmentWork } from './plan.ts';
import type { Segment, Shot } from './plan.ts';
import { Handoff } from './handoff.ts';
import { SpillStore } from './spill.ts';
import { propagateSequence } from './sequence.ts';
import type { KeyFrame, SequenceFrame } from './sequence.ts';
import { resolveSettings } from './settings.ts';
import type { PropagateOptions, PropagateSettings } from './settings.ts';

export type PropagateStage = 'flow' | 'synthesis' | 'blend' | 'write';

export interface PropagateProgress {
  /** Work units: one per synthesised or blended frame, one per key frame written. */
  done: number;
  total: number;
  etaSeconds: number | null;
  stage: PropagateStage;
}

export interface PropagateDeps {
  frameCount: number;
  width: number;
  height: number;
  /** RGB bytes of source frame i. */
  sourceFrame(i: number): Promise<Uint8Array>;
  keyframes: KeyFrame[];
  /** Frames that start a new shot: nothing is propagated or blended across them. */
  cuts?: readonly number[];
  flowCache?: FlowCache;
  /** Folder for the interval's spilled direction (default: the system's temporary folder). */
  spillDir?: string;
  /** True when frame i was already rendered with the same parameters: it is not written again. */
  isDone?(i: number): boolean;
  writeFrame(i: number, rgb: Uint8Array): Promise<void>;
  onProgress?(p: PropagateProgress): void;
  signal?: AbortSignal;
  /** Pre-loaded addons (tests, benchmarks): used as given, `backend` is not consulted. */
  addon?: PropagateAddon;
  blendAddon?: BlendAddon;
  /**
   * A backend the caller chose and keeps (a farm worker's, one device for all its jobs): used as
   * given, with its GPU for the blend too, and not closed here.
   */
  backend?: ChosenBackend;
}

export interface PropagateReport {
  framesWritten: number;
  /** Segments skipped because all their frames were done. */
  segmentsSkipped: number;
  /** Shots without a key frame: left as they were (nothing can be propagated into them). */
  unkeyedShots: Shot[];
  /** Where synthesis ran, and why not on a GPU when one was looked for. */
  backend: BackendInfo;
  synthesisCount: number;
  /** Wall milliseconds per stage. The stages overlap (the blend runs while the A direction's next
   * frame is synthesised), so they add up to more than `total` on a busy machine. */
  ms: { flow: number; guides: number; synthesis: number; blend: number; write: number; total: number };
}

function validate(d: PropagateDeps, patchSize: number): KeyFrame[] {
  const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
  if (!int(d.frameCount) || d.frameCount < 1) throw new RangeError(`frameCount must be a positive integer, got ${String(d.frameCount)}`);
  if (!int(d.width) || !int(d.height) || d.width < 1 || d.height < 1) throw new RangeError(`width and height must be positive integers, got ${String(d.width)}x${String(d.height)}`);
  if (d.width < Math.max(8, patchSize) || d.height < Math.max(8, patchSize)) throw new RangeError(`frames must be at least ${Math.max(8, patchSize)} pixels on each side, got ${d.width}x${d.height}`);
  if (typeof d.sourceFrame !== 'function' || typeof d.writeFrame !== 'function') throw new TypeError('sourceFrame and writeFrame must be functions');
  if (!Array.isArray(d.keyframes) || d.keyframes.length === 0) throw new RangeError('propagation needs at least one key frame');
  const keys = [...d.keyframes].sort((a, b) => a.frame - b.frame);
  keys.forEach((k, i) => {
    if (!int(k.frame) || k.frame < 0 || k.frame >= d.frameCount) throw new RangeError(`key frame index ${String(k.frame)} is outside 0..${d.frameCount - 1}`);
    if (i > 0 && keys[i - 1]?.frame === k.frame) throw new RangeError(`key frame ${k.frame} is given twice`);
    if (!(k.image instanceof Uint8Array) || k.image.length !== d.width * d.height * 3) {
      throw new RangeError(`key frame ${k.frame}: image must be ${d.width * d.height * 3} RGB bytes (${d.width}x${d.height}), got ${k.image instanceof Uint8Array ? k.image.length : typeof k.image}`);
    }
    if (k.mask !== undefined && (!(k.mask instanceof Uint8Array) || k.mask.length !== d.width * d.height)) {
      throw new RangeError(`key frame ${k.frame}: mask must be ${d.width * d.height} bytes (one per pixel)`);
    }
  });
  return keys;
}

function segmentFrames(s: Segment): number[] {
  return s.kind === 'key' ? [s.key.frame] : s.frames;
}

/**
 * A head or tail walks away from its key frame, each frame guided by the one before it: frames past
 * the farthest one still wanted are not needed (a range asked for inside a long shot stops there).
 * An interval is kept whole: its blend walks every frame of it in order.
 */
function trimmed(s: Segment, isDone: (i: number) => boolean): Segment {
  if (s.kind !== 'head' && s.kind !== 'tail') return s;
  let last = s.frames.length - 1;
  while (last >= 0 && isDone(s.frames[last]!)) last--;
  return { ...s, frames: s.frames.slice(0, last + 1) };
}

export async function propagateVideo(deps: PropagateDeps, options: PropagateOptions = {}): Promise<PropagateReport> {
  const settings = resolveSettings(options);
  const keys = validate(deps, settings.patchSize);
  const { width, height, signal } = deps;
  const isDone = (i: number) => deps.isDone?.(i) === true;
  const { segments, unkeyed } = planSegments(deps.frameCount, keys, deps.cuts ?? []);
  const pending = segments.filter((s) => segmentFrames(s).some((f) => !isDone(f))).map((s) => trimmed(s, isDone));
  // A GPU is looked for only when there is something to synthesise.
  const chosen: ChosenBackend = deps.backend
    ? { ...deps.backend, close: () => undefined }
    : deps.addon
    ? { addon: deps.addon, info: { kind: 'cpu', device: 'CPU' } satisfies BackendInfo, close: () => undefined }
    : pending.some((s) => s.kind !== 'key')
      ? await chooseBackend(settings.backend, loadPropagateAddon(), signal)
      : { addon: loadPropagateAddon(), info: { kind: 'cpu', device: 'CPU' } satisfies BackendInfo, close: () => undefined };
  let addon = chosen.addon;

  const timing = { flowMs: 0, synthMs: 0, guidesMs: 0, blendMs: 0, writeMs: 0 };
  const report: PropagateReport = { framesWritten: 0, segmentsSkipped: segments.length - pending.length, unkeyedShots: unkeyed, backend: chosen.info, synthesisCount: 0, ms: { flow: 0, guides: 0, synthesis: 0, blend: 0, write: 0, total: 0 } };
  const note = (line: string) => {
    report.backend = { ...report.backend, note: report.backend.note ? `${report.backend.note}; ${line}` : line };
  };
  // With synthesis on WebGPU the blend runs on the same device, unless settings.gpuBlend is false.
  const needsBlend = pending.some((s) => s.kind === 'interval');
  const blend = needsBlend && !deps.blendAddon ? await openBlendStage(loadBlendAddon(), settings.gpuBlend ? chosen.gpu : undefined, note) : null;
  let blendAddon = needsBlend ? (deps.blendAddon ?? blend?.addon ?? null) : null;
  // With synthesis on WebGPU each direction stays there, guides included, unless settings.gpuGuides is false.
  let onGpu: GpuDirection | undefined;
  let guidesStage: GpuGuides | undefined; // kept for the end: a lost GPU's stage is dropped from onGpu
  if (chosen.gpu && settings.gpuGuides && pending.some((s) => s.kind !== 'key')) {
    try {
      onGpu = { synth: chosen.gpu, guides: await GpuGuides.create(chosen.gpu.gpuDevice) };
      guidesStage = onGpu.guides;
    } catch (err) {
      note(`the guides are built on the CPU: the GPU guide kernels did not compile (${(err as Error).message})`);
    }
  }
  const total = pending.reduce((n, s) => n + segmentWork(s), 0);
  const started = performance.now();
  let done = 0;
  const progress = (stage: PropagateStage, units = 1) => {
    done += units;
    const elapsed = (performance.now() - started) / 1000;
    deps.onProgress?.({ done, total, stage, etaSeconds: done > 0 ? (elapsed / done) * (total - done) : null });
  };
  const source = new FrameSource({ addon, width, height, sourceFrame: deps.sourceFrame, flowCache: deps.flowCache, method: settings.flowMethod, signal, timing });
  const alphaOf = (mask: Uint8Array | null) => (mask ? featherMask(mask, width, height, settings.maskFeather) : null);
  const write = async (t: number, rgb: Uint8Array) => {
    if (isDone(t)) return;
    if (signal?.aborted) throw abortError(signal);
    const t0 = performance.now();
    await deps.writeFrame(t, rgb);
    timing.writeMs += performance.now() - t0;
    report.framesWritten++;
  };
  // Outside a painted mask the output is the source frame, with a feathered edge.
  const finish = async (t: number, f: SequenceFrame): Promise<Uint8Array> => {
    const alpha = alphaOf(f.mask);
    return alpha ? composite(f.image, (await source.frame(t)).data, alpha) : f.image;
  };
  const keyOutput = async (k: KeyFrame) => finish(k.frame, { image: k.image, error: new Float32Array(0), mask: k.mask ?? null });
  const run = async (key: KeyFrame, frames: number[], onFrame: (t: number, f: SequenceFrame) => Promise<void>) => {
    await propagateSequence({
      addon, source, key, frames, settings, signal, timing, gpu: onGpu,
      onFrame: async (t, f) => {
        report.synthesisCount++;
        // Reported once handled: for a head or tail frame that means stored, so a count seen
        // before a crash never includes a frame that was not saved.
        await onFrame(t, f);
        // The next step needs this frame and its flow to the next one only.
        source.retain(t - 1, t + 1);
        progress('synthesis');
      },
    });
  };
  const spill = pending.some((s) => s.kind === 'interval') ? await SpillStore.create(deps.spillDir, width * height) : null;

  const runSegment = async (seg: Segment) => {
    if (seg.kind === 'key') {
      await write(seg.key.frame, await keyOutput(seg.key));
      progress('write');
    } else if (seg.kind === 'head' || seg.kind === 'tail') {
      await run(seg.key, seg.frames, async (t, f) => write(t, await finish(t, f)));
    } else {
      await runInterval(seg, settings);
    }
  };
  /**
   * A GPU that is lost mid-run (a driver reset, an unplugged GPU) hands the rest of the run to the
   * CPU, the failed segment from its start, with a note; unless the GPU was asked for by name.
   */
  const toCpuAfterLoss = async (err: unknown): Promise<boolean> => {
    const gpu = chosen.gpu;
    if (!gpu || addon !== chosen.addon || settings.backend === 'webgpu' || signal?.aborted) return false;
    const why = await gpu.lost();
    if (why === null) return false;
    addon = { ...chosen.addon, synthesize: loadPropagateAddon().synthesize };
    onGpu = undefined;
    if (blendAddon && !deps.blendAddon) blendAddon = loadBlendAddon();
    const message = (err as Error).message;
    const line = `${why}; the rest of the run is on the CPU, from the start of the segment that failed${message.includes(why) ? '' : ` (${message})`}`;
    report.backend = { ...report.backend, kind: 'cpu', device: 'CPU' };
    note(line);
    return true;
  };

  try {
    for (const seg of pending) {
      if (signal?.aborted) throw abortError(signal);
      const [doneBefore, writtenBefore] = [done, report.framesWritten];
      try {
        await runSegment(seg);
      } catch (err) {
        if (!(await toCpuAfterLoss(err))) throw err;
        // The segment is made again from its start: its frames count once.
        done = doneBefore;
        report.framesWritten = writtenBefore;
        await runSegment(seg);
      }
    }
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    throw err;
  } finally {
    await spill?.dispose();
    blend?.close();
    guidesStage?.destroy();
    chosen.close();
  }

  async function runInterval(seg: Extract<Segment, { kind: 'interval' }>, s: PropagateSettings): Promise<void> {
    const base = seg.first.frame;
    const store = spill as SpillStore;
    // B (backward from the later key) first, to disk; then A is blended frame by frame as it is
    // made, in time order, which is the order the blend walks in.
    await run(seg.last, [...seg.frames].reverse(), async (t, f) => { await store.put(t, await finish(t, f), f.error); });
    const zero = new Float32Array(width * height);
    const [firstOut, lastOut] = [await keyOutput(seg.first), await keyOutput(seg.last)];
    const fromA = new Handoff<{ rgb: Uint8Array; err: Float32Array }>();
    const producer = run(seg.first, seg.frames, async (t, f) => fromA.put(t, { rgb: await finish(t, f), err: f.error }))
      .catch((err: unknown) => { fromA.fail(err); throw err; });
    let loaded = 0;
    const blending = blendSequence(blendAddon as BlendAddon, {
      first: base,
      last: seg.last.frame,
      width,
      height,
      options: s.blend,
      ...(signal ? { signal } : {}),
      // The key frames themselves anchor the walk: both sides are the key, error 0.
      loadFrame: async (t) => {
        if (t === base) return { a: firstOut, b: firstOut, errA: zero, errB: zero, flow: null };
        const fa = t === seg.last.frame ? null : await fromA.take(t);
        const flow = (await source.pair(t - 1)).backward;
        loaded = performance.now();
        if (!fa) return { a: lastOut, b: lastOut, errA: zero, errB: zero, flow };
        const fb = await store.get(t);
        return { a: fa.rgb, b: fb.rgb, errA: fa.err, errB: fb.err, flow };
      },
      saveFrame: async (t, r) => {
        timing.blendMs += performance.now() - loaded;
        if (t === base || t === seg.last.frame) return;
        await write(t, r.out);
        store.drop(t);
        progress('blend');
      },
    });
    try {
      await Promise.all([producer, blending]);
    } catch (err) {
      fromA.fail(err);
      await Promise.allSettled([producer, blending]);
      if (err instanceof BlendError && err.code === 'CANCELLED') throw abortError(signal);
      throw err;
    }
  }

  report.ms = {
    flow: timing.flowMs,
    guides: timing.guidesMs,
    synthesis: timing.synthMs,
    blend: timing.blendMs,
    write: timing.writeMs,
    total: performance.now() - started,
  };
  return report;
}
