/// <reference types="@webgpu/types" />
// One propagation direction kept on the GPU: each frame's guides are built there (gpu/guides.ts)
// from the uploaded frame and flows, straight into the synthesizer's input layout, and the previous
// output, coordinate map, mask and field the next frame needs never leave the device. Only the
// frame (bytes), the two flows and the result cross the bus. The GPU is kept busy: a frame's work
// is queued before the previous frame's result is read back and handed on. Same guides, order,
// weights and rounding as sequence.ts on the CPU: fed to the same GPU synthesis, the CPU-built
// guides give the same bytes on SwiftShader (tests/propagate/gpu/sequence.test.ts).
import { abortError } from '../native.ts';
import { coordinateMap, identityNnf } from '../image.ts';
import { synthOptions } from '../settings.ts';
import type { SequenceParams } from '../sequence.ts';
import type { GpuGuides } from './guides.ts';
import type { GpuSynthesizer } from './synthesizer.ts';

export interface GpuDirection {
  synth: GpuSynthesizer;
  guides: GpuGuides;
}

const USAGE = { COPY_SRC: 0x4, COPY_DST: 0x8, STORAGE: 0x80 } as const;

/** Where each guide's pixels sit in the source and target buffers (float offsets), -1 when unused. */
interface Layout {
  colour: number;
  edge: number;
  temporal: number;
  positional: number;
  /** Channels of all guides together. */
  channels: number;
  shapes: { channels: number; weight: number }[];
}

function layoutOf(w: SequenceParams['settings']['weights'], pixels: number): Layout {
  const l: Layout = { colour: -1, edge: -1, temporal: -1, positional: -1, channels: 0, shapes: [] };
  // The CPU's order (sequence.ts): colour, edge, temporal, positional.
  for (const [name, channels, weight] of [['colour', 3, w.colour], ['edge', 3, w.edge], ['temporal', 3, w.temporal], ['positional', 2, w.positional]] as const) {
    if (!(weight > 0)) continue;
    l[name] = l.channels * pixels;
    l.channels += channels;
    l.shapes.push({ channels, weight });
  }
  return l;
}

/** RGB (or grey) bytes padded to whole 32-bit words, as the unpack kernel reads them. */
function words(bytes: Uint8Array): Uint8Array {
  if (bytes.length % 4 === 0) return bytes;
  const out = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  out.set(bytes);
  return out;
}

export async function propagateSequenceOnGpu(p: SequenceParams, gpu: GpuDirection): Promise<void> {
  const { source, key, settings: s, signal } = p;
  const device = gpu.synth.gpuDevice;
  const q = device.queue;
  const G = gpu.guides;
  const keySource = await source.frame(key.frame);
  const { width: W, height: H } = keySource;
  const N = W * H;
  const L = layoutOf(s.weights, N);
  const buffers: GPUBuffer[] = [];
  const make = (bytes: number, usage: number = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    buffers.push(b);
    return b;
  };
  try {
    const bytesIn = make(N * 3);
    const flowTo = make(N * 8);
    const style = make(N * 12);
    const sources = make(N * L.channels * 4), targets = make(N * L.channels * 4);
    const rgb = L.colour < 0 && L.edge >= 0 ? make(N * 12) : null;
    const temporal = L.temporal >= 0;
    const occ = temporal ? make(N * 4) : null;
    const flowFrom = temporal ? make(N * 8) : null;
    const warped = temporal ? make(N * 12) : null;
    const prevOut = temporal ? make(N * 12) : null;
    const rounded = temporal ? make(N * 12) : null;
    const still = temporal ? make(N * 8) : null; // zero flow: new buffers start zeroed
    const prevPos = L.positional >= 0 ? make(N * 8) : null;
    const prevMask = key.mask ? make(N * 4) : null;
    const mask = key.mask ? make(N * 4) : null;
    const prevNnf = s.temporalInit ? make(N * 8) : null;
    const initNnf = s.temporalInit ? make(N * 8) : null;

    // The key's side, once: its frame's colour and edge, the style, the coordinate map, the mask.
    // A frame's colour guide is the frame itself; its edge guide is made from it.
    const frameGuides = (bytes: Uint8Array, into: GPUBuffer) => {
      if (L.colour < 0 && L.edge < 0) return;
      q.writeBuffer(bytesIn, 0, words(bytes));
      const [colour, at] = L.colour >= 0 ? [into, L.colour] : [rgb as GPUBuffer, 0];
      G.unpackRgb(bytesIn, colour, at, W, H);
      if (L.edge >= 0) G.edge(colour, at, into, L.edge, W, H, 3);
    };
    frameGuides(keySource.data, sources);
    G.submit();
    q.writeBuffer(bytesIn, 0, words(key.image));
    G.unpackRgb(bytesIn, style, 0, W, H);
    if (temporal) {
      G.unpackRgb(bytesIn, sources, L.temporal, W, H);
      G.unpackRgb(bytesIn, prevOut as GPUBuffer, 0, W, H);
    }
    G.submit();
    if (prevPos) {
      const pos = coordinateMap(W, H).data;
      for (let i = 0; i < pos.length; i++) pos[i] = (pos[i] as number) * 255;
      q.writeBuffer(sources, L.positional * 4, pos);
      q.writeBuffer(prevPos, 0, pos);
    }
    if (prevMask && key.mask) q.writeBuffer(prevMask, 0, Float32Array.from(key.mask));
    if (prevNnf) q.writeBuffer(prevNnf, 0, identityNnf(W, H));

    const options = synthOptions(s, W, H, prevNnf !== null);
    const guideShapes = L.shapes.map((g) => ({ source: { width: W, height: H, channels: g.channels }, target: { width: W, height: H, channels: g.channels }, weight: g.weight }));

    // The next frame and its flow are fetched (decoded, read from the cache or computed on the
    // CPU) while the GPU works on this one.
    const inputs = (from: number, to: number) => {
      const pending = Promise.all([source.frame(to), source.step(from, to)]);
      pending.catch(() => undefined); // awaited when its turn comes; never an unhandled rejection
      return pending;
    };
    let ahead = p.frames.length > 0 ? inputs(key.frame, p.frames[0] as number) : null;
    // The previous frame's hand-over (its result read back, then onFrame), still under way, and
    // when its result arrived: the time the loop waits for a result counts as synthesis.
    let handing: { done: Promise<void>; resultAt: number } = { done: Promise.resolve(), resultAt: 0 };
    const waitFor = async (h: typeof handing) => {
      const w0 = performance.now();
      await h.done;
      p.timing.synthMs += Math.max(0, h.resultAt - w0);
    };
    try {
      for (const [n, t] of p.frames.entries()) {
        if (signal?.aborted) throw abortError(signal);
        const [frame, step] = await (ahead as ReturnType<typeof inputs>);
        const g0 = performance.now();
        const next = p.frames[n + 1];
        ahead = next === undefined ? null : inputs(t, next);
        q.writeBuffer(flowTo, 0, step.toFrom);
        if (flowFrom) q.writeBuffer(flowFrom, 0, step.fromTo);
        // Recorded and submitted without an await in between: the error scope sees only this work.
        device.pushErrorScope('validation');
        frameGuides(frame.data, targets);
        if (temporal) {
          // The previous output carried along the flow; disocclusions filled from their surroundings.
          G.occlusion(flowTo, flowFrom as GPUBuffer, occ as GPUBuffer, 0, W, H);
          // The CPU carries the output as bytes: rounded first (a zero-flow warp), then warped.
          G.warp(prevOut as GPUBuffer, 0, still as GPUBuffer, rounded as GPUBuffer, 0, W, H, 3, { round: true });
          G.warp(rounded as GPUBuffer, 0, flowTo, warped as GPUBuffer, 0, W, H, 3, { round: true });
          G.fillHoles(warped as GPUBuffer, 0, occ as GPUBuffer, 0, targets, L.temporal, W, H, 3, { round: true });
        }
        if (prevPos) G.warp(prevPos, 0, flowTo, targets, L.positional, W, H, 2);
        if (prevMask && mask) G.warp(prevMask, 0, flowTo, mask, 0, W, H, 1, { round: true });
        if (prevNnf && initNnf) G.advectNnf(prevNnf, flowTo, initNnf, W, H);
        G.submit();
        const guideError = device.popErrorScope();
        p.timing.guidesMs += performance.now() - g0;

        const t0 = performance.now();
        const { result } = await gpu.synth.synthesizeOnDevice({
          style: { buffer: style, width: W, height: H, channels: 3 },
          guides: guideShapes,
          sources,
          targets,
          initNnf,
          options,
          keep: (out, copy) => {
            if (prevOut) copy(out.image, 0, prevOut, 0, N * 12);
            if (prevNnf) copy(out.nnf, 0, prevNnf, 0, N * 8);
            if (prevPos) copy(targets, L.positional * 4, prevPos, 0, N * 8);
            if (prevMask && mask) copy(mask, 0, prevMask, 0, N * 4);
          },
          // The carried mask comes back with the result, in the same mapping.
          ...(mask ? { readAlso: mask } : {}),
        }, signal);
        p.timing.synthMs += performance.now() - t0;
        const failed = await guideError;
        if (failed) throw new Error(`building the guides on the GPU failed: ${failed.message}`);
        // This frame is queued on the GPU: the previous one is handed on meanwhile, then this one
        // after it, in order.
        const before = handing;
        const current = { done: Promise.resolve(), resultAt: 0 };
        current.done = (async () => {
          const r = await result;
          current.resultAt = performance.now();
          await before.done;
          await p.onFrame(t, { image: r.image, error: r.error, mask: r.also ? Uint8Array.from(r.also) : null });
        })();
        current.done.catch(() => undefined); // awaited below or on the next frame
        handing = current;
        await waitFor(before);
      }
      await waitFor(handing);
    } finally {
      // A failure leaves no hand-over running once the buffers are gone.
      await handing.done.catch(() => undefined);
    }
  } finally {
    for (const b of buffers) b.destroy();
  }
}
