// `export`: the project's frames as an MP4 at the source's exact frame rate, at the source's
// resolution (default) or the working size. This side reads the project (its renders, key-frame
// images and source record); the export itself is export-core.ts, which a farm worker runs too.
import type { MediaTools, VideoProbe } from '../media/index.ts';
import { checkOutputTarget, type ReplacePolicy } from '../media/output.ts';
import type { Project } from '../project/index.ts';
import type { Progress } from '../jobs/progress.ts';
import { openSource } from './source.ts';
import { exportChoices, exportFrames, type ExportCoreRequest, type ExportResult, type ExportSourceInfo, type StoredFrame, type StoredWorking } from './export-core.ts';

export { artistCrop, sourceRegion, type ExportResult, type ExportSize, type SourceRegion } from './export-core.ts';

/** An export of the project: the core's request, the project's own files protected, all its frames. */
export type ExportRequest = Omit<ExportCoreRequest, 'protect' | 'range'>;

export interface ExportDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  searchDirs?: readonly string[];
}

/** The project's file and its SQLite/lock companions: being read, so never an export's target. */
export function projectFiles(project: Project): string[] {
  return ['', '-wal', '-shm', '-journal', '.lock'].map((suffix) => `${project.path}${suffix}`);
}

/**
 * Refuses (OUTPUT_EXISTS / OUTPUT_UNWRITABLE) an output path the export would not write, before
 * any work: the editor asks this first so it can offer to replace an existing file.
 */
export async function checkExportTarget(project: Project, outPath: string, replace: ReplacePolicy = 'videos'): Promise<void> {
  await checkOutputTarget(outPath, { replace, protect: projectFiles(project) });
}

/** What the export core needs from the project's record of its source (the video found at `probe.path`). */
export function exportSourceInfo(probe: VideoProbe, working: StoredWorking): ExportSourceInfo {
  return {
    width: probe.width,
    height: probe.height,
    fps: probe.fps,
    startTime: probe.startTime,
    streamIndex: probe.streamIndex,
    container: probe.container,
    frameCount: probe.frameCount,
    audioCodec: probe.audio.length > 0 ? (probe.audio[0]?.codec ?? null) : null,
    working: { width: working.width, height: working.height, crop: { ...working.crop }, shortSide: working.shortSide },
  };
}

/** The project's export: its renders and key-frame images over the source (see export-core.ts). */
export async function exportVideo(project: Project, req: ExportRequest, deps: ExportDeps): Promise<ExportResult> {
  exportChoices(req);
  // Before the source is even opened: a refused path costs nothing.
  await checkExportTarget(project, req.outPath, req.replace);
  const src = await openSource(project, deps.searchDirs);
  const rendered = new Set(project.renderedFrames());
  const keyImages = new Set(project.listKeyframes(() => '').filter((k) => k.state !== 'none').map((k) => k.frame));
  const frame = async (i: number): Promise<StoredFrame | null> => {
    if (rendered.has(i)) return { kind: 'render', png: project.getRender(i)!.image };
    if (keyImages.has(i)) return { kind: 'keyframe', png: project.getKeyframe(i)!.image! };
    return null;
  };
  return exportFrames(src.path, exportSourceInfo(src.probe, project.source().working), frame, {
    outPath: req.outPath,
    size: req.size,
    upsample: req.upsample,
    crf: req.crf,
    audio: req.audio,
    replace: req.replace,
    protect: projectFiles(project),
  }, { tools: deps.tools, signal: deps.signal, onProgress: deps.onProgress });
}
