// `init`: probe a video, fingerprint it, and create a project at the working size. The project file
// appears whole or not at all (Project.create is atomic).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CodedError } from '../errors.ts';
import { fileContentHash, probeVideo, workingGeometry, type Crop, type MediaTools, type VideoProbe } from '../media/index.ts';
import { MAX_DIMENSION, MAX_FRAMES, Project, ProjectError, sourceProbeSchema, type SettingsPatch } from '../project/index.ts';
import { storedGeometry } from './source.ts';

export interface InitRequest {
  videoPath: string;
  projectPath: string;
  shortSide?: number;
  crop?: Crop;
  overwrite?: boolean;
  settings?: SettingsPatch;
}

export interface InitDeps {
  tools: MediaTools;
  signal?: AbortSignal;
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
  const [info, sha256] = await Promise.all([stat(video), fileContentHash(video, { signal: deps.signal })]);
  deps.signal?.throwIfAborted();
  return Project.create(
    req.projectPath,
    {
      source: { path: video, size: info.size, mtimeMs: info.mtimeMs, sha256 },
      // The whole probe is kept (decoding needs the stream index, start time…); the schema checks its core.
      probe: sourceProbeSchema.parse(probe),
      working: storedGeometry(geometry, shortSide),
      settings: req.settings,
    },
    { overwrite: req.overwrite === true },
  );
}
