// Choosing the project's key frames: every n-th, an explicit list, or adaptively where the picture
// changes most (measured on small decoded frames). The every-n-th and adaptive plans put a key on
// the first frame of every shot (the project's shot cuts, found first if it has none stored);
// an explicit list is taken as given.
import { MediaError } from '../media/errors.ts';
import { previewGeometry, type MediaTools } from '../media/index.ts';
import type { Project } from '../project/index.ts';
import { autoKeyframes, everyNth, meanAbsDiff, parseFrameList } from '../keyframes/plan.ts';
import { ProgressTracker, type Progress } from '../jobs/progress.ts';
import { openSource } from './source.ts';
import { projectCuts } from './shot-cuts.ts';
import { streamFrames } from './frame-stream.ts';

export type KeyframePlan = { every: number } | { set: string } | { auto: { min: number; max: number } };

export interface PlanDeps {
  /** Needed by the adaptive plan (it decodes the video), and by every-n-th in a project with no shot cuts stored yet. */
  tools?: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
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

/** Replaces the project's key frame set (images and masks of frames that stay are kept). */
export async function planKeyframes(project: Project, plan: KeyframePlan, deps: PlanDeps): Promise<number[]> {
  const n = project.frameCount;
  let frames: number[];
  if ('set' in plan) frames = parseFrameList(plan.set, n);
  else {
    const cuts = await cutsFor(project, deps);
    if ('every' in plan) frames = everyNth(n, plan.every, cuts);
    else {
      if (!deps.tools) throw new Error('adaptive key frames need ffmpeg to analyse the video');
      frames = autoKeyframes(await frameDifferences(project, { ...deps, tools: deps.tools }), plan.auto, cuts);
    }
  }
  project.setKeyframes(frames);
  return frames;
}
