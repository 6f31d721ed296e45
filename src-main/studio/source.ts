// The bridge between what the project stores about its source and what the media layer needs
// to decode it at the working size.
import {
  cropScaleFilter,
  locateTools,
  runTool,
  type MediaTools,
  type VideoProbe,
  type WorkingGeometry as MediaGeometry,
} from '../media/index.ts';
import type { Project, SourceProbe, WorkingGeometry } from '../project/index.ts';
import { fileContentHash } from '../media/hash.ts';
import { CodedError } from '../errors.ts';

/** The project keeps the media probe whole (its schema is loose), so it can be handed back as is. */
export function probeOf(project: Project): VideoProbe {
  const src = project.source();
  return { ...(src.probe as SourceProbe & VideoProbe), path: src.path };
}

/** Working geometry as the project stores it: the effective crop (artist's crop + aspect fix) and the short side. */
export function storedGeometry(g: MediaGeometry, shortSide: number): WorkingGeometry {
  return { width: g.width, height: g.height, crop: g.crop, shortSide };
}

/** The media layer's geometry for the project's working size; the stored crop already makes the aspect exact. */
export function mediaGeometryOf(project: Project): MediaGeometry {
  const { probe, working } = project.source();
  return {
    width: working.width,
    height: working.height,
    sourceWidth: probe.width,
    sourceHeight: probe.height,
    crop: working.crop,
    filter: cropScaleFilter(probe.width, probe.height, working.crop, working.width, working.height),
  };
}

export interface SourceAccess {
  path: string;
  probe: VideoProbe;
  geometry: MediaGeometry;
  relinkedFrom: string | null;
}

export interface OpenSourceOptions {
  /** ffmpeg's tools for the check against the video; located from the environment when absent. */
  tools?: MediaTools;
  signal?: AbortSignal;
}

/**
 * Finds the source video (re-linking it by content hash if it moved) and returns what decoding
 * needs. SOURCE_MISSING when it is nowhere to be found; DAMAGED when the project's stored probe
 * disagrees with the video's own header (see checkAgainstVideo).
 */
export async function openSource(
  project: Project,
  searchDirs: readonly string[] = [],
  opts: OpenSourceOptions = {},
): Promise<SourceAccess> {
  const res = await project.resolveSource(searchDirs, (p) => fileContentHash(p));
  if (res.status === 'missing') {
    throw new CodedError(
      'SOURCE_MISSING',
      `The source video '${res.path}' is missing. Put it back, or place it next to the project file (it is found again by its content).`,
    );
  }
  const tools = opts.tools ?? (await locateTools({ env: process.env }).catch(() => null));
  // Without ffprobe nothing can be compared; decoding will report the missing tools itself.
  if (tools) await checkAgainstVideo(project, res.path, tools, opts.signal);
  return {
    path: res.path,
    probe: { ...probeOf(project), path: res.path },
    geometry: mediaGeometryOf(project),
    relinkedFrom: res.status === 'relinked' ? res.previousPath : null,
  };
}

interface HeaderStream {
  index?: number;
  codec_type?: string;
  width?: number;
  height?: number;
  nb_frames?: string;
  duration?: string;
}

/**
 * The stored probe drives every loop over frames, so it is compared with the video's own header
 * (one quick ffprobe, no decoding): the picture size, and the frame count where the container
 * states it exactly, else against what the duration allows. The source was found by size and
 * mtime or by content hash, so it is the video the probe was made from: a disagreement means the
 * project's record is damaged (or crafted), and trusting it could run a command for hours.
 */
export async function checkAgainstVideo(project: Project, file: string, tools: MediaTools, signal?: AbortSignal): Promise<void> {
  const stored = probeOf(project);
  let out: { streams?: HeaderStream[]; format?: { duration?: string } };
  try {
    const { stdout } = await runTool(
      tools.ffprobe,
      ['-v', 'error', '-print_format', 'json', '-show_entries', 'stream=index,codec_type,width,height,nb_frames,duration:format=duration', file],
      { what: `Checking the source video '${file}'`, signal, collectStdout: true },
    );
    out = JSON.parse(stdout.toString('utf8')) as typeof out;
  } catch (err) {
    signal?.throwIfAborted();
    if (errorCodeOf(err) === 'CANCELLED') throw err;
    return; // a video ffprobe cannot read is the decoder's to report, with its own message
  }
  const streams = out.streams ?? [];
  const video = streams.find((s) => s.index === stored.streamIndex && s.codec_type === 'video') ?? streams.find((s) => s.codec_type === 'video');
  if (!video?.width || !video.height) return;
  const problems: string[] = [];
  // Display size is the coded size, turned by the rotation: compare as an unordered pair.
  const want = [stored.width, stored.height].sort((a, b) => a - b).join('×');
  const have = [video.width, video.height].sort((a, b) => a - b).join('×');
  if (want !== have) problems.push(`a ${stored.width}×${stored.height} picture, but the video's is ${video.width}×${video.height}`);
  const headerCount = Number(video.nb_frames);
  if (stored.frameCountSource === 'header' && Number.isSafeInteger(headerCount) && headerCount > 0) {
    if (headerCount !== stored.frameCount) problems.push(`${stored.frameCount} frames, but the video's header says ${headerCount}`);
  } else {
    const seconds = Number(video.duration ?? out.format?.duration);
    const fps = stored.fps.num / stored.fps.den;
    // Generous: durations in headers are loose; this only catches counts no video of this length can have.
    const most = Math.ceil(seconds * fps * 1.5) + 10;
    if (Number.isFinite(seconds) && seconds > 0 && stored.frameCount > most) {
      problems.push(`${stored.frameCount} frames, but the video lasts ${seconds.toFixed(2)} s, at most about ${Math.ceil(seconds * fps)} frames`);
    }
  }
  if (problems.length === 0) return;
  throw new CodedError(
    'DAMAGED',
    `${project.path} is damaged: its record of the source video says ${problems.join('; and ')}. ` +
      'The video is the one the project was made from (same size and date, or same content), so the record is what is wrong. ' +
      'Make a new project from the video with `rerender init`; this file keeps its key frames and renders as they are.',
  );
}

function errorCodeOf(err: unknown): string | undefined {
  return err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
