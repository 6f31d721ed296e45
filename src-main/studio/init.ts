// `init`: probe a video, fingerprint it, and create a project at the working size. The project file
// appears whole or not at all (Project.create is atomic).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileContentHash, probeVideo, workingGeometry, type Crop, type MediaTools } from '../media/index.ts';
import { Project, sourceProbeSchema, type SettingsPatch } from '../project/index.ts';
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

export async function initProject(req: InitRequest, deps: InitDeps): Promise<Project> {
  const video = path.resolve(req.videoPath);
  const probe = await probeVideo(video, { tools: deps.tools, signal: deps.signal });
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
