// `propagate`: carries the project's key-frame images to every frame (stage 2) and stores each
// frame's render in the project as soon as it is made. A frame's render is tagged with the hash of
// what it depends on (settings, working size, and the key frames bracketing it), so a rerun skips
// what is still valid and redoes only intervals whose key frames or settings changed. Nothing is
// carried across the source's shot cuts (found first when the project has none stored): a frame
// depends only on key frames of its own shot, and a shot with none is left unrendered.
import { createHash, randomUUID } from 'node:crypto';
import { decodePng, encodePngAsync, toRgb, type MediaTools } from '../media/index.ts';
import { paramsHash, type Project, type ProjectSettings } from '../project/index.ts';
import { propagationBase } from './render-status.ts';
import { propagateVideo, type PropagateReport } from '../propagate/propagate.ts';
import type { PropagateOptions } from '../propagate/settings.ts';
import type { KeyFrame } from '../propagate/sequence.ts';
import type { Progress } from '../jobs/progress.ts';
import { StableProgress } from '../jobs/stable-progress.ts';
import { CodedError } from '../errors.ts';
import { openSource } from './source.ts';
import { SourceFrames } from './source-frames.ts';
import { projectFlowCache } from './flow-cache.ts';
import { loadFlowCodec } from '../propagate/flow-codec.ts';
import { projectCuts } from './shot-cuts.ts';

export interface PropagateRequest {
  /** Inclusive frame range to (re)render; all frames when omitted. */
  frames?: [number, number];
}

export interface PropagateProjectDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface PropagateProjectResult extends PropagateReport {
  runId: string;
  keyframes: number[];
  /** Frames in the range whose render was already valid. */
  alreadyDone: number;
  /** The source's shot cuts the work was split at. */
  cuts: number[];
  /** True when the cuts were looked for during this run (a project made before they were stored). */
  cutsDetected: boolean;
}

class PropagateInputError extends CodedError {}

/** The project's propagation settings as the propagator takes them. */
export function propagateOptions(s: ProjectSettings['propagation']): PropagateOptions {
  return {
    patchSize: s.patchSize,
    pyramidLevels: s.pyramidLevels ?? 0,
    searchVoteIters: s.searchVoteIters,
    patchMatchIters: s.patchMatchIters,
    uniformityWeight: s.uniformity,
    weights: { ...s.weights },
    extraPass3x3: s.extraPass3x3,
    stopThreshold: s.stopThreshold,
    seed: s.seed,
    threads: s.threads,
    temporalInit: s.temporalInit,
    flowMethod: s.flowMethod,
    blend: { deflicker: s.deflicker },
    backend: s.backend,
  };
}

const digest = (b: Uint8Array | null): string | null => (b ? createHash('sha256').update(b).digest('hex').slice(0, 24) : null);

type KeyDigest = { frame: number; image: string; mask: string | null };

/**
 * For each frame, the hash of everything its render depends on: the key frames around it inside
 * its shot (`cuts` start new shots) and, when the video has cuts, the shot's bounds. Without cuts
 * the hashes are those of builds before cuts, so existing renders stay valid.
 */
export function frameHashes(frameCount: number, keys: readonly KeyDigest[], base: unknown, cuts: readonly number[] = []): string[] {
  const hashes = new Array<string>(frameCount);
  const sorted = [...keys].sort((a, b) => a.frame - b.frame);
  const starts = [0, ...cuts.filter((c) => c > 0 && c < frameCount), frameCount];
  for (let s = 0; s + 1 < starts.length; s++) {
    const first = starts[s]!;
    const last = starts[s + 1]! - 1;
    const inShot = sorted.filter((k) => k.frame >= first && k.frame <= last);
    const shot = cuts.length > 0 ? { shot: [first, last] } : {};
    let k = 0;
    for (let i = first; i <= last; i++) {
      while (k + 1 < inShot.length && inShot[k + 1]!.frame <= i) k++;
      const at = inShot[k];
      const prev = at !== undefined && at.frame <= i ? at : null;
      const next = prev === null ? inShot[0] ?? null : inShot[k + 1] ?? null;
      // A key frame's own render depends on itself alone; others on the key frames around them.
      const deps = prev && prev.frame === i ? [prev] : [prev, next].filter((x) => x !== null);
      hashes[i] = paramsHash({ base, keys: deps, ...shot });
    }
  }
  return hashes;
}

/** What a propagation of `project` works from: its key frames, cuts and each frame's render hash. */
export interface PropagationInputs {
  src: Awaited<ReturnType<typeof openSource>>;
  width: number;
  height: number;
  frameCount: number;
  keyframes: KeyFrame[];
  /** The key frames' stored PNGs (image, optional mask), as the keyframes above were decoded from. */
  keyPngs: { frame: number; image: Uint8Array; mask: Uint8Array | null }[];
  cuts: Awaited<ReturnType<typeof projectCuts>>;
  settings: ProjectSettings['propagation'];
  /** The params hash a valid render of each frame carries. */
  hashes: string[];
}

/** Shared by local propagation and the render farm's submit and ingest, so both hash alike. */
export async function propagationInputs(project: Project, deps: Pick<PropagateProjectDeps, 'tools' | 'signal' | 'onProgress'>): Promise<PropagationInputs> {
  const src = await openSource(project);
  const { width, height } = src.geometry;
  const n = src.probe.frameCount;
  const withImages = project.listKeyframes(() => '').filter((k) => k.state !== 'none');
  if (withImages.length === 0) {
    throw new PropagateInputError('NO_KEYFRAME', 'No key frame has an image yet: import an edited image (or translate) for at least one key frame first.');
  }
  const keyframes: KeyFrame[] = [];
  const keyPngs: PropagationInputs['keyPngs'] = [];
  const keyInfo: { frame: number; image: string; mask: string | null }[] = [];
  for (const k of withImages) {
    const kf = project.getKeyframe(k.frame)!;
    const image = toRgb(decodePng(kf.image!, { width, height }));
    const mask = kf.mask ? decodePng(kf.mask, { width, height }) : null;
    if (mask && mask.channels !== 1) throw new PropagateInputError('INVALID_IMAGE', `the mask of key frame ${k.frame} is not a grey image`);
    keyframes.push({ frame: k.frame, image, mask: mask?.data });
    keyPngs.push({ frame: k.frame, image: kf.image!, mask: kf.mask ?? null });
    keyInfo.push({ frame: k.frame, image: digest(kf.image)!, mask: digest(kf.mask) });
  }
  const cuts = await projectCuts(project, { tools: deps.tools, signal: deps.signal, onProgress: deps.onProgress });
  const settings = project.settings().propagation;
  const hashes = frameHashes(n, keyInfo, propagationBase(project), cuts.frames);
  return { src, width, height, frameCount: n, keyframes, keyPngs, cuts, settings, hashes };
}

export async function propagateProject(project: Project, req: PropagateRequest, deps: PropagateProjectDeps): Promise<PropagateProjectResult> {
  const n = project.frameCount;
  const [from, to] = req.frames ?? [0, n - 1];
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to >= n || from > to) {
    throw new PropagateInputError('OUT_OF_RANGE', `frames ${from}-${to} are not a range inside the video (frames 0–${n - 1})`);
  }
  // Counted in frames of the range, fixed now: finding cuts and the propagator's own work units
  // (three per interval frame) move the count but never the total.
  const progress = new StableProgress({ stage: 'propagate', total: to - from + 1, ...(deps.onProgress ? { onProgress: deps.onProgress } : {}) });
  progress.emit();
  const { src, width, height, keyframes, cuts, settings, hashes } = await propagationInputs(project, { ...deps, onProgress: () => progress.mark('cuts') });
  const valid = new Set<number>();
  for (const [f, h] of project.renderHashes()) if (h === hashes[f]) valid.add(f);
  // Frames outside the requested range count as done: they are neither computed nor written.
  const isDone = (i: number): boolean => i < from || i > to || valid.has(i);
  let alreadyDone = 0;
  for (let i = from; i <= to; i++) if (valid.has(i)) alreadyDone++;
  progress.resume(alreadyDone);

  const runId = randomUUID();
  let written = 0;
  let inner: { stage: string; done: number; total: number } = { stage: 'propagate', done: 0, total: 0 };
  const frames = new SourceFrames(src, deps.tools, deps.signal);
  const report = await propagateVideo(
    {
      frameCount: n,
      width,
      height,
      sourceFrame: (i) => frames.get(i),
      keyframes,
      cuts: cuts.frames,
      flowCache: projectFlowCache(project, width, height, settings.flowMethod, loadFlowCodec()),
      isDone,
      writeFrame: async (i, rgb) => {
        // Each render is committed (and durable) before the next frame is reported done.
        project.putRender(i, await encodePngAsync(rgb, width, height, 3), { runId, paramsHash: hashes[i]! });
        // `done` counts stored frames only; the propagator's units (a fraction) drive the ETA.
        written++;
        progress.work(inner.stage, inner.done, inner.total, alreadyDone + written);
      },
      onProgress: (p) => {
        inner = p;
        progress.work(p.stage, p.done, p.total, alreadyDone + written);
      },
      signal: deps.signal,
    },
    propagateOptions(settings),
  );
  return { ...report, runId, keyframes: keyframes.map((k) => k.frame), alreadyDone, cuts: cuts.frames, cutsDetected: cuts.detected };
}
