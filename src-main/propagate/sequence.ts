// One propagation direction: from a key frame, frame after frame (forward or backward in time),
// each frame synthesised from the key's style under colour, edge, temporal and positional guides.
import { coordinateMap, identityNnf, rgb } from './image.ts';
import type { ByteImage, FloatImage } from './image.ts';
import type { FrameSource } from './flows.ts';
import { abortError } from './native.ts';
import type { GuideInput, PropagateAddon } from './native.ts';
import { synthOptions } from './settings.ts';
import type { PropagateSettings } from './settings.ts';
import { propagateSequenceOnGpu } from './gpu/sequence.ts';
import type { GpuDirection } from './gpu/sequence.ts';

export interface KeyFrame {
  frame: number;
  /** Stylised frame, RGB bytes. */
  image: Uint8Array;
  /** Painted mask, one byte per pixel (0..255); outside it the output is the source frame. */
  mask?: Uint8Array | undefined;
}

export interface SequenceFrame {
  /** Raw synthesis result (before mask compositing). */
  image: Uint8Array;
  error: Float32Array;
  /** Key mask carried along the flow (0..255), when the key has one. */
  mask: Uint8Array | null;
}

export interface SequenceParams {
  addon: PropagateAddon;
  source: FrameSource;
  key: KeyFrame;
  /** Frames in propagation order, each a neighbour of the previous (the first of the key). */
  frames: number[];
  settings: PropagateSettings;
  signal?: AbortSignal | undefined;
  timing: { synthMs: number; guidesMs: number };
  onFrame(t: number, f: SequenceFrame): Promise<void> | void;
  /** Synthesis and guides on this GPU, the direction's state kept there (gpu/sequence.ts). */
  gpu?: GpuDirection | undefined;
}

export async function propagateSequence(p: SequenceParams): Promise<void> {
  if (p.gpu) return propagateSequenceOnGpu(p, p.gpu);
  const { addon, source, key, settings: s, signal } = p;
  const keySource = await source.frame(key.frame);
  const { width, height } = keySource;
  const w = s.weights;
  const style = rgb(key.image, width, height);
  const keyEdge = await addon.edgeGuide(keySource);
  const keyPos = coordinateMap(width, height);

  let prevOut: ByteImage = style;
  let prevPos: FloatImage = keyPos;
  let prevMask: ByteImage | null = key.mask ? { data: key.mask, width, height, channels: 1 } : null;
  let prevNnf: Int32Array | null = s.temporalInit ? identityNnf(width, height) : null;
  let prev = key.frame;

  for (const t of p.frames) {
    if (signal?.aborted) throw abortError(signal);
    const g0 = performance.now();
    const [frame, step] = await Promise.all([source.frame(t), source.step(prev, t)]);
    const [edge, occlusion, warpedOut, pos, mask, initNnf] = await Promise.all([
      w.edge > 0 ? addon.edgeGuide(frame) : null,
      w.temporal > 0 ? addon.occlusionMask(step.toFrom, step.fromTo, width, height) : null,
      w.temporal > 0 ? addon.warp(prevOut, step.toFrom) : null,
      w.positional > 0 ? addon.warp(prevPos, step.toFrom) : null,
      prevMask ? addon.warp(prevMask, step.toFrom) : null,
      prevNnf ? addon.advectNnf(prevNnf, step.toFrom, width, height) : null,
    ]);
    const guides: GuideInput[] = [];
    if (w.colour > 0) guides.push({ source: keySource, target: frame, weight: w.colour });
    if (edge) guides.push({ source: keyEdge, target: edge, weight: w.edge });
    if (warpedOut && occlusion) {
      // Disoccluded pixels have no history: fill them from their surroundings, not from garbage.
      const temporal = await addon.fillHoles(warpedOut, occlusion);
      guides.push({ source: style, target: temporal, weight: w.temporal });
    }
    if (pos) guides.push({ source: keyPos, target: pos, weight: w.positional });
    p.timing.guidesMs += performance.now() - g0;

    const opts = synthOptions(s, width, height, initNnf !== null);
    if (initNnf) opts.initNnf = initNnf;
    const t0 = performance.now();
    const r = await addon.synthesize(style, guides, opts, signal);
    p.timing.synthMs += performance.now() - t0;

    prevOut = r.image;
    if (pos) prevPos = pos;
    prevMask = mask;
    prevNnf = s.temporalInit ? r.nnf : null;
    prev = t;
    await p.onFrame(t, { image: r.image.data, error: r.error, mask: mask ? mask.data : null });
  }
}
