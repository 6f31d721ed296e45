// Finding ffmpeg/ffprobe: RERENDER_FFMPEG (+ RERENDER_FFPROBE or the ffprobe beside it), then the
// optional ffmpeg-static package, then PATH. Environment and PATH come in as parameters.
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { MediaError } from './errors.ts';

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
  /** Where ffmpeg came from, for the capabilities panel. */
  source: 'env' | 'ffmpeg-static' | 'path';
}

export interface LocateOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Search path; defaults to env.PATH. */
  path?: string;
  platform?: NodeJS.Platform;
  /** Loads ffmpeg-static's binary path; injectable so tests need not install it. */
  loadFfmpegStatic?: () => Promise<string | null>;
}

export const FFMPEG_FIX =
  'Install ffmpeg (for example `apt-get install ffmpeg`, or from ffmpeg.org) ' +
  'or set RERENDER_FFMPEG=/path/to/ffmpeg (and RERENDER_FFPROBE=/path/to/ffprobe if it is elsewhere).';

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function exeName(name: string, platform: NodeJS.Platform): string {
  return platform === 'win32' ? `${name}.exe` : name;
}

async function onPath(name: string, searchPath: string | undefined, platform: NodeJS.Platform): Promise<string | null> {
  if (!searchPath) return null;
  const sep = platform === 'win32' ? ';' : ':';
  for (const dir of searchPath.split(sep)) {
    if (dir === '') continue;
    const candidate = path.join(dir, exeName(name, platform));
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

async function besideOrOnPath(ffmpeg: string, searchPath: string | undefined, platform: NodeJS.Platform): Promise<string | null> {
  const beside = path.join(path.dirname(ffmpeg), exeName('ffprobe', platform));
  if (await isExecutableFile(beside)) return beside;
  return onPath('ffprobe', searchPath, platform);
}

async function defaultLoadFfmpegStatic(): Promise<string | null> {
  // Optional dependency, usually absent: a variable specifier keeps bundlers and tsc from requiring it.
  const specifier = 'ffmpeg-static';
  try {
    const mod = (await import(specifier)) as { default?: unknown };
    return typeof mod.default === 'string' ? mod.default : null;
  } catch {
    return null;
  }
}

function notFound(detail: string): MediaError {
  return new MediaError('FFMPEG_NOT_FOUND', `${detail} ${FFMPEG_FIX}`);
}

export async function locateTools(options: LocateOptions): Promise<MediaTools> {
  const { env } = options;
  const platform = options.platform ?? process.platform;
  const searchPath = options.path ?? env.PATH ?? env.Path;

  const envFfmpeg = env.RERENDER_FFMPEG?.trim();
  if (envFfmpeg) {
    if (!(await isExecutableFile(envFfmpeg))) {
      throw notFound(`RERENDER_FFMPEG points to '${envFfmpeg}', which is not an executable file.`);
    }
    const envFfprobe = env.RERENDER_FFPROBE?.trim();
    if (envFfprobe) {
      if (!(await isExecutableFile(envFfprobe))) {
        throw notFound(`RERENDER_FFPROBE points to '${envFfprobe}', which is not an executable file.`);
      }
      return { ffmpeg: envFfmpeg, ffprobe: envFfprobe, source: 'env' };
    }
    const ffprobe = await besideOrOnPath(envFfmpeg, searchPath, platform);
    if (!ffprobe) throw notFound(`Found ffmpeg at '${envFfmpeg}' (RERENDER_FFMPEG) but no ffprobe beside it or on PATH.`);
    return { ffmpeg: envFfmpeg, ffprobe, source: 'env' };
  }

  const staticFfmpeg = await (options.loadFfmpegStatic ?? defaultLoadFfmpegStatic)();
  if (staticFfmpeg && (await isExecutableFile(staticFfmpeg))) {
    const ffprobe = await besideOrOnPath(staticFfmpeg, searchPath, platform);
    if (ffprobe) return { ffmpeg: staticFfmpeg, ffprobe, source: 'ffmpeg-static' };
  }

  const ffmpeg = await onPath('ffmpeg', searchPath, platform);
  const ffprobe = await onPath('ffprobe', searchPath, platform);
  if (ffmpeg && ffprobe) return { ffmpeg, ffprobe, source: 'path' };
  const missing = ffmpeg ? 'ffprobe' : ffprobe ? 'ffmpeg' : 'ffmpeg and ffprobe';
  throw notFound(`Rerender needs ${missing}, which could not be found.`);
}
