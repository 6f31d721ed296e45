// Frame-accurate decoding to RGB24 at a given geometry. Frames are addressed by timeline index
// (see timeline.ts), never by seconds: `select` picks indices after the fps filter, so a frame
// decoded alone is bit-identical to the same frame decoded inside a range.
import { MediaError, fileLabel, throwIfAborted } from './errors.ts';
import { frameSplitter } from './frame-split.ts';
import type { WorkingGeometry } from './geometry.ts';
import type { MediaTools } from './locate.ts';
import type { VideoProbe } from './probe.ts';
import { lastLines, runTool, type ToolFailure } from './process.ts';
import { refusedSourceError, sourceInputArgs } from './sniff.ts';
import { seekArgs, timelineFilter } from './timeline.ts';

export type DecodeSource = Pick<VideoProbe, 'fps' | 'startTime' | 'streamIndex' | 'container' | 'frameCount'>;
export type DecodeGeometry = Pick<WorkingGeometry, 'width' | 'height' | 'filter'>;

export interface FrameRange {
  start: number;
  count: number;
}

export interface DecodeOptions {
  tools: MediaTools;
  signal?: AbortSignal;
  /** 'never' always decodes from the start (used to check seeking; slower for late frames). */
  seek?: 'auto' | 'never';
}

export interface DecodeFramesOptions extends DecodeOptions {
  /** Called in order; a returned promise holds back decoding until it settles. `rgb` is width*height*3 bytes, owned by the callee. */
  onFrame: (index: number, rgb: Uint8Array) => void | Promise<void>;
}

const DECODE_ERROR = /Invalid data|error while decoding|corrupt|truncat|partial file|Invalid NAL|moov atom|End of file|missing picture|concealing/i;

function checkRange(file: string, source: DecodeSource, range: FrameRange): void {
  const { start, count } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 1 || start + count > source.frameCount) {
    throw new MediaError(
      'INVALID_ARGUMENT',
      `Frames ${start}..${start + count - 1} are outside ${fileLabel(file)}, which has frames 0..${source.frameCount - 1}.`,
    );
  }
}

export function decodeArgs(file: string, source: DecodeSource, geometry: DecodeGeometry, range: FrameRange, seek: 'auto' | 'never' = 'auto'): string[] {
  const last = range.start + range.count - 1;
  const filters = [
    timelineFilter(source),
    `select='between(n,${range.start},${last})'`,
    geometry.filter,
    'format=rgb24',
  ].join(',');
  return [
    '-v', 'error', '-nostdin', ...sourceInputArgs(),
    ...seekArgs(source, range.start, seek),
    '-copyts', '-i', file,
    '-map', `0:${source.streamIndex}`, '-an', '-sn', '-dn',
    '-vf', filters, '-fps_mode', 'passthrough', '-frames:v', String(range.count),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
}

export async function decodeFrames(
  file: string,
  source: DecodeSource,
  geometry: DecodeGeometry,
  range: FrameRange,
  options: DecodeFramesOptions,
): Promise<void> {
  const what = `Decoding ${fileLabel(file)}`;
  checkRange(file, source, range);
  throwIfAborted(options.signal, what);
  const split = frameSplitter(geometry.width * geometry.height * 3);
  let delivered = 0;

  const onStdout = async (chunk: Buffer): Promise<void> => {
    for (const done of split(chunk)) {
      if (delivered < range.count) await options.onFrame(range.start + delivered, done);
      delivered++;
    }
  };
  const mapFailure = (failure: ToolFailure): MediaError | undefined =>
    refusedSourceError(file, failure.stderrTail) ?? (DECODE_ERROR.test(failure.stderrTail)
      ? new MediaError('CORRUPT', `${fileLabel(file)} is damaged and could not be decoded: ${lastLines(failure.stderrTail, 2)}`)
      : undefined);

  await runTool(options.tools.ffmpeg, decodeArgs(file, source, geometry, range, options.seek), {
    what, signal: options.signal, onStdout, mapFailure,
  });
  if (delivered < range.count) {
    throw new MediaError(
      'CORRUPT',
      `${fileLabel(file)} ends early: frame ${range.start + delivered} of ${source.frameCount} could not be decoded. ` +
        'The file may be truncated or damaged.',
    );
  }
}

export async function decodeFrame(
  file: string,
  source: DecodeSource,
  geometry: DecodeGeometry,
  n: number,
  options: DecodeOptions,
): Promise<Uint8Array> {
  let result: Uint8Array | null = null;
  await decodeFrames(file, source, geometry, { start: n, count: 1 }, { ...options, onFrame: (_i, rgb) => { result = rgb; } });
  if (result === null) throw new MediaError('CORRUPT', `Frame ${n} of ${fileLabel(file)} could not be decoded.`);
  return result;
}
