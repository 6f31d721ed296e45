// `init`: probe a video, fingerprint it, find its shot cuts, and create a project at the working
// size. The project file appears whole or not at all (Project.create is atomic).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CodedError } from '../errors.ts';
import { fileContentHash, isMediaError, probeVideo, workingGeometry, type Crop, type MediaTools, type VideoProbe } from '../media/index.ts';
import { MAX_DIMENSION, MAX_FRAMES, Project, ProjectError, sourceProbeSchema, type SettingsPatch } from '../project/index.ts';
import { CUT_METHOD } from '../media/cuts.ts';
import type { Progress } from '../jobs/progress.ts';
import { storedGeometry } from './source.ts';
import { findCuts } from './shot-cuts.ts';

export interface InitRequest {
  videoPath: string;
  projectPath: string;
  shortSide?: number;
  crop?: Crop;
  overwrite?: boolean;
  settings?: SettingsPatch;
  /**
   * Look for shot cuts now (default true): one extra decode of the video at thumbnail size, about
   * 1 ms a frame. When false they are looked for on first need (propagate, a key-frame plan).
   */
  findCuts?: boolean;
}

export interface InitDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  /** Stage 'cuts' while the video is scanned for shot cuts. */
  onProgress?: (p: Progress) => void;
  /** Something the artist should know that did not stop the project being made. */
  onWarning?: (message: string) => void;
}

/**
 * A video that probes but does not decode to the end still makes a project (as before cuts were
 * looked for); its cuts are left unknown, to be looked for again on first need.
 */
async function scanCuts(video: string, probe: VideoProbe, deps: InitDeps & { signal: AbortSignal }): Promise<number[] | null> {
  try {
    return await findCuts(video, probe, deps);
  } catch (err) {
    if (deps.signal.aborted || !isMediaError(err) || err.code === 'CANCELLED') throw err;
    deps.onWarning?.(`Shot cuts could not be looked for (${err.message}); they are looked for again before the first propagation.`);
    return null;
  }
}

/** The project's folder must exist: checked before the video is probed and hashed (seconds for a long one). */
async function checkProjectFolder(projectPath: string): Promise<void> {
  const dir = path.dirname(path.resolve(projectPath));
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    throw new ProjectError('OUTPUT_UNWRITABLE', `Cannot create ${path.resolve(projectPath)}: the folder ${dir} does not exist`);
  }
}

/** A video past the project's limits is refused here, by name, rather than by the schema's wording. */
function checkLimits(probe: VideoProbe, video: string): void {
  if (probe.frameCount > MAX_FRAMES) {
    throw new CodedError(
      'TOO_LARGE',
      `${path.basename(video)} has ${probe.frameCount} frames; a project takes at most ${MAX_FRAMES} (about 18 hours at 30 fps). Cut the video into parts.`,
    );
  }
  if (probe.width > MAX_DIMENSION || probe.height > MAX_DIMENSION) {
    throw new CodedError(
      'TOO_LARGE',
      `${path.basename(video)} is ${probe.width}×${probe.height}; a project takes pictures up to ${MAX_DIMENSION} pixels wide and tall. Scale it down first.`,
    );
  }
}

export async function initProject(req: InitRequest, deps: InitDeps): Promise<Project> {
  const video = path.resolve(req.videoPath);
  await checkProjectFolder(req.projectPath);
  const probe = await probeVideo(video, { tools: deps.tools, signal: deps.signal });
  checkLimits(probe, video);
  const shortSide = req.shortSide ?? 512;
  const geometry = workingGeometry(probe, { shortSide, crop: req.crop });
  // Hashing reads the file, the cut scan decodes it: they overlap, and one failing stops the other.
  const failed = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, failed.signal]) : failed.signal;
  const [info, sha256, cuts] = await Promise.all([
    stat(video),
    fileContentHash(video, { signal }),
    req.findCuts === false ? Promise.resolve(null) : scanCuts(video, probe, { ...deps, signal }),
  ]).catch((err: unknown) => {
    failed.abort();
    throw err;
  });
  deps.signal?.throwIfAborted();
  return Project.create(
    req.projectPath,
    {
      source: { path: video, size: info.size, mtimeMs: info.mtimeMs, sha256 },
      // The whole probe is kept (decoding needs the stream index, start time…); the schema checks its core.
      probe: sourceProbeSchema.parse(probe),
      working: storedGeometry(geometry, shortSide),
      settings: req.settings,
      ...(cuts ? { shotCuts: { frames: cuts, method: CUT_METHOD } } : {}),
    },
    { overwrite: req.overwrite === true },
  );
}
