// The editor's farm job: submit the open project (only what is left is queued), then run the
// owner's watch loop on it in this process, storing the results in the open project as they
// arrive. Stopping the job stops the watch only: the farm keeps working, and a later "Render on
// farm" picks it up. Cancelling it on the farm is the caller's part (farm-handlers.ts).
import path from 'node:path';
import type { MediaTools } from '../media/index.ts';
import type { Project } from '../project/index.ts';
import { CodedError } from '../errors.ts';
import { FolderArtifactStore } from '../farm/artifacts.ts';
import type { RedisTarget } from '../farm/redis.ts';
import type { FarmStage } from '../farm/stages.ts';
import { submitProject, type SubmitSummary } from '../farm/submit.ts';
import { watchProjects, type WatchProgress, type WatchReport } from '../farm/watch.ts';
import type { Progress } from '../jobs/progress.ts';

export class FarmJobError extends CodedError {}

export interface FarmJobRequest {
  project: Project;
  redis: RedisTarget;
  /** The artifact store folder (absolute). */
  store: string;
  stages: FarmStage[];
  /** The export stage's video (absent: beside the project). */
  exportPath?: string;
}

export interface FarmJobDeps {
  tools: MediaTools;
  signal: AbortSignal;
  onProgress(p: Progress): void;
  /** Results were stored in the project (a segment's frames, translated key frames). */
  onLanded(): void;
  onInfo?(message: string): void;
  /** The watch's poll interval (tests). */
  pollMs?: number;
}

/** Key frames and frames together: one count for the Jobs panel's done/total. */
export function progressOf(p: WatchProgress): Progress {
  const done = p.keyframesDone + p.framesDone;
  const total = p.keyframesTotal + p.framesTotal;
  return { stage: `farm ${p.stage}`, done: Math.min(done, total), total, etaSeconds: p.etaSeconds };
}

/** The job's closing line for the artist. */
export function farmNote(s: SubmitSummary, r: WatchReport): string {
  const parts: string[] = [];
  if (r.keyframesWritten > 0) parts.push(`${r.keyframesWritten} key frame(s) translated`);
  parts.push(`${r.framesWritten} frame(s) rendered on the farm`);
  if (s.alreadyDone > 0) parts.push(`${s.alreadyDone} part(s) already up to date`);
  if (r.stale > 0) parts.push(`${r.stale} result(s) not stored: the project changed since the submit`);
  return parts.join(', ');
}

export async function runFarmJob(req: FarmJobRequest, deps: FarmJobDeps): Promise<{ output: string | null; note: string }> {
  const file = path.resolve(req.project.path);
  const info = (m: string) => deps.onInfo?.(m);
  // Submitting first: a resubmit queues only what is not done or on the farm already.
  const summary = await submitProject(file, {
    redis: req.redis.options,
    store: new FolderArtifactStore(req.store),
    tools: deps.tools,
    signal: deps.signal,
    stages: req.stages,
    ...(req.exportPath ? { exportTo: { outPath: req.exportPath } } : {}),
    project: req.project,
    onInfo: info,
  });
  let segments = 0;
  const report = await watchProjects([file], {
    redis: req.redis.options,
    store: req.store,
    tools: deps.tools,
    signal: deps.signal,
    projects: new Map([[file, req.project]]),
    ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
    onInfo: info,
    onProgress: (p) => {
      deps.onProgress(progressOf(p));
      // A finished segment or key frame is in the project now: the editor's views refresh.
      const landed = p.segmentsDone + p.keyframesDone;
      if (landed !== segments) {
        segments = landed;
        deps.onLanded();
      }
    },
  });
  if (report.failed.length > 0) {
    const first = report.failed[0]!;
    throw new FarmJobError('FARM_FAILED', `${report.failed.length} part(s) of the farm's work did not finish: ${first.reason}`);
  }
  // The video, when the export ran: the Jobs panel offers it like a local export's.
  return { output: report.exported[0]?.out ?? null, note: farmNote(summary, report) };
}
