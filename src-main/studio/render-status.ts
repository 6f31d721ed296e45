// Per-frame render status without running anything heavy: the params hash each frame's render
// would get now (the same inputs `propagateProject` hashes: settings, working size, source, the
// key frames around it, its shot) compared with the hash its stored render carries.
//   rendered  : a render made from the current key frames and settings;
//   stale     : a render exists, but its key frames or settings changed since;
//   missing   : no render (and a shot without key frames always is: nothing can be propagated there);
//   rendering : a running propagation will (re)write this frame.
// Frames sharing their key frames share their hash, so it is computed once per segment, not per
// frame: a 10 000-frame project costs the render table's hash column and a handful of sha256s.
import { createHash } from 'node:crypto';
import type { KeyframeInfo, RenderSpan, RenderState, RenderStatus } from '../api/contract.ts';
import { paramsHash, type Project } from '../project/index.ts';
import { shotsOf } from '../propagate/plan.ts';

/** A key frame as the render hash sees it: digests of its image and mask. */
export interface KeyDigest {
  frame: number;
  image: string;
  mask: string | null;
}

/** A run of frames [start, end] (inclusive) whose renders would carry `hash`; null = not renderable (no key frame in the shot). */
export interface HashRun {
  start: number;
  end: number;
  hash: string | null;
}

const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 24);

/**
 * Hashing every key-frame image on each project change is most of the cost, so digests are
 * remembered per project by frame and update time. Only entries whose update time is already in
 * the past are kept: any later write to that key frame then gets a later time, so a cached digest
 * can never stand for a newer image written in the same millisecond.
 */
const digestCache = new WeakMap<Project, Map<string, KeyDigest>>();

/**
 * What every propagated frame's hash shares (propagation hashes its renders with it). Thread count
 * does not change the output (the synthesis is deterministic), nor does the backend beyond the
 * last bits, so neither is hashed: a render made on either stays valid. v2: streaming intervals,
 * the new blend and synthesis defaults.
 */
export function propagationBase(project: Project): unknown {
  const { threads: _threads, backend: _backend, ...hashed } = project.settings().propagation;
  const { working, sha256 } = project.source();
  return { stage: 'propagate-v2', settings: hashed, width: working.width, height: working.height, source: sha256 };
}

/**
 * The key frames that have an image (only those are propagated), with their digests. `listed`:
 * the project's key-frame list when the caller has it already (listing reads past the images).
 */
export function keyDigests(project: Project, listed?: readonly KeyframeInfo[]): KeyDigest[] {
  const out: KeyDigest[] = [];
  const old = digestCache.get(project) ?? new Map<string, KeyDigest>();
  const cache = new Map<string, KeyDigest>();
  const now = Date.now();
  for (const k of listed ?? project.listKeyframes(() => '')) {
    if (k.state === 'none') continue;
    const key = `${k.frame}|${k.updatedAt}`;
    let d = old.get(key);
    if (!d) {
      const kf = project.getKeyframe(k.frame);
      if (!kf?.image) continue;
      d = { frame: k.frame, image: digest(kf.image), mask: kf.mask ? digest(kf.mask) : null };
    }
    if (Date.parse(k.updatedAt) < now - 1) cache.set(key, d);
    out.push(d);
  }
  // Only the current key frames are kept: the cache never outgrows the project's key frames.
  digestCache.set(project, cache);
  return out;
}

/**
 * The hash runs of a clip: identical, frame for frame, to `frameHashes` in propagate.ts (a test
 * holds them together), but one paramsHash per segment. Shots without a key frame get null.
 */
export function hashRuns(frameCount: number, keys: readonly KeyDigest[], base: unknown, cuts: readonly number[] = []): HashRun[] {
  const sorted = [...keys].sort((a, b) => a.frame - b.frame);
  // frameHashes adds the shot's bounds only when the clip has cuts (older renders stay valid).
  const hasCuts = cuts.length > 0;
  const runs: HashRun[] = [];
  const push = (start: number, end: number, deps: KeyDigest[] | null, shot: { shot: [number, number] } | object): void => {
    if (end < start) return;
    runs.push({ start, end, hash: deps === null ? null : paramsHash({ base, keys: deps, ...shot }) });
  };
  // frameHashes takes cuts as given (only 0 < c < n); shotsOf also drops duplicates, which give
  // the same shots.
  for (const { first, last } of shotsOf(frameCount, cuts)) {
    const shot = hasCuts ? { shot: [first, last] as [number, number] } : {};
    const inShot = sorted.filter((k) => k.frame >= first && k.frame <= last);
    if (inShot.length === 0) {
      push(first, last, null, shot);
      continue;
    }
    const head = inShot[0]!;
    push(first, head.frame - 1, [head], shot);
    inShot.forEach((k, i) => {
      push(k.frame, k.frame, [k], shot);
      const next = inShot[i + 1];
      push(k.frame + 1, (next?.frame ?? last + 1) - 1, next ? [k, next] : [k], shot);
    });
  }
  return runs;
}

/** The frames [from, to] a running propagation job will rewrite, read from the project's job records; null when none runs. */
export function runningPropagation(project: Project): [number, number] | null {
  const job = project.listJobs().find((j) => j.kind === 'propagate' && j.status === 'running');
  if (!job) return null;
  const frames = (job.params as { frames?: unknown } | null)?.frames;
  const n = project.frameCount;
  if (Array.isArray(frames) && frames.length === 2 && frames.every((f) => Number.isInteger(f))) {
    return [Math.max(0, frames[0] as number), Math.min(n - 1, frames[1] as number)];
  }
  return [0, n - 1];
}

export interface RenderStatusOptions {
  /** Frames a running propagation covers; read from the job records when omitted, none when null. */
  rendering?: [number, number] | null;
  /** The stored renders' hashes (project.renderHashes() when omitted). */
  stored?: ReadonlyMap<number, string>;
  /** The project's key-frame list, when the caller has just read it. */
  keyframes?: readonly KeyframeInfo[];
}

/** Run-length spans of the same state, in frame order, and how many frames each state has. */
export function spansOf(states: ArrayLike<RenderState>): RenderStatus {
  const counts: Record<RenderState, number> = { rendered: 0, stale: 0, missing: 0, rendering: 0 };
  const spans: RenderSpan[] = [];
  for (let i = 0; i < states.length; i++) {
    const s = states[i]!;
    counts[s]++;
    const last = spans.at(-1);
    if (last && last.state === s && last.end === i - 1) last.end = i;
    else spans.push({ start: i, end: i, state: s });
  }
  return { counts, spans };
}

/** The status of every frame, from hash runs and the stored renders' hashes. */
export function statusFromRuns(frameCount: number, runs: readonly HashRun[], stored: ReadonlyMap<number, string>, rendering: [number, number] | null): RenderStatus {
  const states = new Array<RenderState>(frameCount).fill('missing');
  for (const r of runs) {
    for (let i = r.start; i <= r.end; i++) {
      const have = stored.get(i);
      const fresh = have !== undefined && r.hash !== null && have === r.hash;
      if (fresh) states[i] = 'rendered';
      // A propagation rewrites what is not fresh, except in shots it cannot reach (no key frame).
      else if (rendering && r.hash !== null && i >= rendering[0] && i <= rendering[1]) states[i] = 'rendering';
      else states[i] = have === undefined ? 'missing' : 'stale';
    }
  }
  return spansOf(states);
}

/** The project's render status now. Reads the key-frame images (to digest them) and the render hashes, never a render. */
export function renderStatus(project: Project, opts: RenderStatusOptions = {}): RenderStatus {
  const n = project.frameCount;
  const runs = hashRuns(n, keyDigests(project, opts.keyframes), propagationBase(project), project.shotCuts()?.frames ?? []);
  const rendering = opts.rendering === undefined ? runningPropagation(project) : opts.rendering;
  return statusFromRuns(n, runs, opts.stored ?? project.renderHashes(), rendering);
}
