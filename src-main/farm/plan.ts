// A project's propagation, cut into farm jobs the way a local run walks it (propagate/plan.ts):
// per shot, one job per head, interval or tail segment, each key frame's own render riding with
// the segment that starts (or else ends) at it. Job ids are hashes of what the job's frames depend
// on (their params hashes), so the same work gets the same id on every submit.
import { createHash } from 'node:crypto';
import { planSegments, shotsOf } from '../propagate/plan.ts';
import type { Segment } from '../propagate/plan.ts';

export interface FarmJobPlan {
  id: string;
  kind: 'head' | 'interval' | 'tail' | 'key';
  /** Key frames the job propagates from (one, or the two around an interval). */
  keys: number[];
  /** Every frame the job owns, ascending. */
  frames: number[];
  /** Owned frames whose render is not valid in the project yet: what the job renders. */
  pending: number[];
  /** Source frames the job reads: its frames and keys, contiguous. */
  sources: [number, number];
}

export interface FarmShotPlan {
  index: number;
  first: number;
  last: number;
  jobs: FarmJobPlan[];
}

export interface FarmPlanInput {
  frameCount: number;
  keyFrames: readonly number[];
  cuts: readonly number[];
  /** Each frame's params hash (studio/propagate.ts frameHashes). */
  hashes: readonly string[];
  isValid(frame: number): boolean;
}

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

export function jobIdOf(kind: string, frames: readonly number[], hashes: readonly string[]): string {
  // BullMQ ids must not contain ':'; a prefix keeps them from ever looking like integers.
  return `pv-${short(JSON.stringify({ kind, frames: frames.map((f) => [f, hashes[f]]) }))}`;
}

export function shotJobIdOf(projectKey: string, shot: { first: number; last: number }, childIds: readonly string[]): string {
  return `shot-${short(JSON.stringify({ projectKey, shot: [shot.first, shot.last], children: [...childIds].sort() }))}`;
}

export function planFarm(input: FarmPlanInput): FarmShotPlan[] {
  const keys = [...new Set(input.keyFrames)].sort((a, b) => a - b).map((frame) => ({ frame, image: new Uint8Array(0) }));
  const { segments } = planSegments(input.frameCount, keys, input.cuts);
  const shots = shotsOf(input.frameCount, input.cuts);
  const shotIndex = (f: number) => shots.findIndex((s) => f >= s.first && f <= s.last);
  const parts: { kind: FarmJobPlan['kind']; keys: number[]; frames: number[] }[] = [];
  const orphanKeys: number[] = [];
  for (const seg of segments) {
    if (seg.kind === 'key') orphanKeys.push(seg.key.frame);
    else parts.push(partOf(seg));
  }
  // A key frame's render joins the segment starting at it, else the one ending at it (same shot).
  for (const k of orphanKeys) {
    const owner = parts.find((p) => (p.kind === 'interval' || p.kind === 'tail') && p.keys[0] === k)
      ?? parts.find((p) => (p.kind === 'head' && p.keys[0] === k) || (p.kind === 'interval' && p.keys[1] === k));
    if (owner) owner.frames.push(k);
    else parts.push({ kind: 'key', keys: [k], frames: [k] });
  }
  const out: FarmShotPlan[] = shots.map((s, index) => ({ index, first: s.first, last: s.last, jobs: [] }));
  for (const p of parts) {
    const frames = [...p.frames].sort((a, b) => a - b);
    const all = [...frames, ...p.keys];
    const job: FarmJobPlan = {
      id: jobIdOf(p.kind, frames, input.hashes),
      kind: p.kind,
      keys: p.keys,
      frames,
      pending: frames.filter((f) => !input.isValid(f)),
      sources: [Math.min(...all), Math.max(...all)],
    };
    out[shotIndex(frames[0]!)]!.jobs.push(job);
  }
  for (const s of out) s.jobs.sort((a, b) => a.frames[0]! - b.frames[0]!);
  return out.filter((s) => s.jobs.length > 0);
}

function partOf(seg: Exclude<Segment, { kind: 'key' }>): { kind: FarmJobPlan['kind']; keys: number[]; frames: number[] } {
  if (seg.kind === 'interval') return { kind: 'interval', keys: [seg.first.frame, seg.last.frame], frames: [...seg.frames] };
  return { kind: seg.kind, keys: [seg.key.frame], frames: [...seg.frames] };
}
