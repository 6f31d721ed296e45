// The project's shot cuts: found when the project is made (init.ts), stored in it, and for a
// project made before cuts were stored, found on first need (a propagate, a key-frame plan,
// `rerender info --cuts`) and stored then, so the video is analysed once.
import { detectShotCuts, CUT_METHOD } from '../media/cuts.ts';
import type { MediaTools, VideoProbe } from '../media/index.ts';
import type { Project } from '../project/index.ts';
import { ProgressTracker, type Progress } from '../jobs/progress.ts';
import { openSource } from './source.ts';

export interface CutDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** Decodes `file` once as thumbnails and returns its cuts, reporting progress as stage 'cuts'. */
export async function findCuts(file: string, probe: VideoProbe, deps: CutDeps): Promise<number[]> {
  const tracker = new ProgressTracker({ stage: 'cuts', total: probe.frameCount, onProgress: deps.onProgress });
  return detectShotCuts(file, probe, {
    tools: deps.tools,
    signal: deps.signal,
    onProgress: ({ done }) => tracker.advance(done - tracker.done),
  });
}

export interface ProjectCuts {
  frames: number[];
  /** True when they were found just now (not read from the project). */
  detected: boolean;
  /** False when found just now but not stored (a read-only project). */
  stored: boolean;
}

/**
 * The project's stored cuts; when it has none yet, finds them in the source video and stores them
 * (unless the project is open read-only).
 */
export async function projectCuts(project: Project, deps: CutDeps): Promise<ProjectCuts> {
  const stored = project.shotCuts();
  if (stored) return { frames: stored.frames, detected: false, stored: true };
  const src = await openSource(project, [], { tools: deps.tools, signal: deps.signal });
  const frames = await findCuts(src.path, src.probe, deps);
  if (project.readOnly) return { frames, detected: true, stored: false };
  project.setShotCuts(frames, CUT_METHOD);
  return { frames, detected: true, stored: true };
}

/** "3 shot cuts at frames 99, 155, 201" / "no shot cuts" (CLI and logs). */
export function describeCuts(frames: readonly number[]): string {
  if (frames.length === 0) return 'no shot cuts';
  return `${frames.length} shot cut${frames.length === 1 ? '' : 's'} at frame${frames.length === 1 ? '' : 's'} ${frames.join(', ')}`;
}
