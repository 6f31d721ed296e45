// Choosing the project's key frames: every n-th, an explicit list, or adaptively where the picture
// changes most (measured on small decoded frames). The every-n-th and adaptive plans put a key on
// the first frame of every shot (the project's shot cuts, found first if it has none stored);
// an explicit list is taken as given.
import { MediaError } from '../media/errors.ts';
import { previewGeometry, type MediaTools } from '../media/index.ts';
import type { Project } from '../project/index.ts';
import { autoKeyframes, everyNth, meanAbsDiff, parseFrameList } from '../keyframes/plan.ts';
import { ProgressTracker, type Progress } from '../jobs/progress.ts';
import { CodedError } from '../errors.ts';
import { openSource } from './source.ts';
import { projectCuts } from './shot-cuts.ts';
import { streamFrames } from './frame-stream.ts';

export type KeyframePlan = { every: number } | { set: string } | { auto: { min: number; max: number } };

export interface PlanDeps {
  /** Needed by the adaptive plan (it decodes the video), and by every-n-th in a project with no shot cuts stored yet. */
  tools?: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** The adaptive plan's frame differences when the caller keeps them (the editor's previews reuse one analysis). */
  differences?: () => Promise<Float64Array>;
}

/** Small enough to be quick, large enough that motion and cuts register. */
const ANALYSIS_HEIGHT = 72;

/** Per-frame difference from the previous frame (0 for frame 0). */
export async function frameDifferences(project: Project, deps: PlanDeps & { tools: MediaTools }): Promise<Float64Array> {
  const src = await openSource(project);
  const n = src.probe.frameCount;
  const diffs = new Float64Array(n);
  const tracker = new ProgressTracker({ stage: 'analyse', total: n, onProgress: deps.onProgress });
  let prev: Uint8Array | null = null;
  for await (const f of streamFrames(src.path, src.probe, previewGeometry(src.probe, ANALYSIS_HEIGHT), { start: 0, count: n }, deps)) {
    diffs[f.index] = prev === null ? 0 : meanAbsDiff(prev, f.rgb);
    prev = f.rgb;
    tracker.advance();
  }
  return diffs;
}

async function cutsFor(project: Project, deps: PlanDeps): Promise<number[]> {
  const stored = project.shotCuts();
  if (stored) return stored.frames;
  if (!deps.tools) throw new Error('the project has no shot cuts stored yet: finding them needs ffmpeg');
  try {
    return (await projectCuts(project, { ...deps, tools: deps.tools })).frames;
  } catch (err) {
    // An every-N plan needs no picture: a source ffmpeg cannot read is planned as one shot
    // (nothing stored, so the cuts are looked for again next time).
    if (err instanceof MediaError && !deps.signal?.aborted) return [];
    throw err;
  }
}

/** The frames `plan` picks (nothing is changed). */
export async function computeKeyframePlan(project: Project, plan: KeyframePlan, deps: PlanDeps): Promise<number[]> {
  const n = project.frameCount;
  if ('set' in plan) return parseFrameList(plan.set, n);
  const cuts = await cutsFor(project, deps);
  if ('every' in plan) return everyNth(n, plan.every, cuts);
  if (!deps.tools) throw new Error('adaptive key frames need ffmpeg to analyse the video');
  const diffs = deps.differences ? await deps.differences() : await frameDifferences(project, { ...deps, tools: deps.tools });
  return autoKeyframes(diffs, plan.auto, cuts);
}

/** Replaces the project's key frame set (images and masks of frames that stay are kept). */
export async function planKeyframes(project: Project, plan: KeyframePlan, deps: PlanDeps): Promise<number[]> {
  const frames = await computeKeyframePlan(project, plan, deps);
  project.setKeyframes(frames);
  return frames;
}

/** 'replace': the plan's frames become the key frames; 'add': they join the existing ones. */
export type PlanMode = 'replace' | 'add';

export interface RemovedKeyframe {
  frame: number;
  /** What the artist made on it that would be lost: 'image', 'mask', 'prompt'. */
  edits: Array<'image' | 'mask' | 'prompt'>;
}

export interface KeyframePlanPreview {
  /** The key frames after applying, sorted. */
  frames: number[];
  added: number[];
  /** Key frames that would go (only with 'replace'), with their edits. */
  removed: RemovedKeyframe[];
  /** Shot cuts the plan respected. */
  shotCuts: number[];
}

/** What applying `planned` in `mode` would change: pure over the current key frames. */
export function previewPlan(current: ReadonlyArray<{ frame: number; state: string; hasMask: boolean; prompt: string | null }>, planned: readonly number[], mode: PlanMode): Omit<KeyframePlanPreview, 'shotCuts'> {
  const have = new Set(current.map((k) => k.frame));
  const want = new Set(planned);
  const frames = mode === 'add' ? [...new Set([...have, ...want])] : [...want];
  frames.sort((a, b) => a - b);
  const added = frames.filter((f) => !have.has(f));
  const removed: RemovedKeyframe[] = mode === 'add'
    ? []
    : current
        .filter((k) => !want.has(k.frame))
        .map((k) => {
          const edits: RemovedKeyframe['edits'] = [];
          if (k.state !== 'none') edits.push('image');
          if (k.hasMask) edits.push('mask');
          if (k.prompt !== null) edits.push('prompt');
          return { frame: k.frame, edits };
        })
        .sort((a, b) => a.frame - b.frame);
  return { frames, added, removed };
}

export async function previewKeyframePlan(project: Project, plan: KeyframePlan, mode: PlanMode, deps: PlanDeps): Promise<KeyframePlanPreview> {
  const planned = await computeKeyframePlan(project, plan, deps);
  return { ...previewPlan(project.listKeyframes(() => ''), planned, mode), shotCuts: 'set' in plan ? [] : (project.shotCuts()?.frames ?? []) };
}

export class KeyframeEditsError extends CodedError<'WOULD_DROP_EDITS'> {}

/**
 * Applies a plan. Key frames with an image, mask or prompt are only dropped when `dropEdits` says
 * the artist saw them listed (WOULD_DROP_EDITS otherwise): never silently.
 */
export async function applyKeyframePlan(project: Project, plan: KeyframePlan, mode: PlanMode, opts: { dropEdits?: boolean }, deps: PlanDeps): Promise<KeyframePlanPreview> {
  const preview = await previewKeyframePlan(project, plan, mode, deps);
  const lost = preview.removed.filter((r) => r.edits.length > 0);
  if (lost.length > 0 && opts.dropEdits !== true) {
    throw new KeyframeEditsError('WOULD_DROP_EDITS', `This would remove ${lost.length} key frame(s) with edits (${lost.map((r) => r.frame).join(', ')}): confirm, or add to the existing key frames instead.`);
  }
  project.setKeyframes(preview.frames);
  return preview;
}
