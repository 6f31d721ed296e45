// The frame timeline: how a source's frames map to indices 0..frameCount-1. Every decode runs the
// same `fps` filter anchored at the stream's start time, with timestamps kept (-copyts), so frame n
// is the same picture whether decoding starts at the beginning or after a seek.
import type { VideoProbe } from './probe.ts';
import type { MediaTools } from './locate.ts';
import { fileLabel } from './errors.ts';
import { runTool } from './process.ts';
import { type Rational, add, formatRational, mul, rational, toNumber } from './rational.ts';

export type TimelineSource = Pick<VideoProbe, 'fps' | 'startTime' | 'streamIndex' | 'container'>;

/** Seeking lands on a keyframe at or before the target only in these demuxers; others decode from the start. */
const SEEKABLE_CONTAINERS = /(^|,)(mov|mp4|matroska|webm)(,|$)/;
/** Aim this far before the wanted frame so timestamp rounding can never land after it. */
const SEEK_MARGIN: Rational = { num: 1, den: 1 };

/** `fps` filter mapping the source onto its constant-rate timeline (duplicates/drops are deterministic for VFR). */
export function timelineFilter(src: TimelineSource): string {
  return `fps=${formatRational(src.fps)}:start_time=${formatRational(src.startTime)}:round=near`;
}

/** Presentation time of timeline frame n. */
export function frameTime(src: TimelineSource, n: number): Rational {
  return add(src.startTime, mul(rational(n, 1), { num: src.fps.den, den: src.fps.num }));
}

/**
 * Input options that skip decoding up to a keyframe before `firstFrame`. No accurate-seek trim:
 * frames keep their timestamps and the timeline filter picks the exact index afterwards.
 */
export function seekArgs(src: TimelineSource, firstFrame: number, mode: 'auto' | 'never' = 'auto'): string[] {
  if (mode === 'never' || !SEEKABLE_CONTAINERS.test(src.container)) return [];
  const target = toNumber(add(frameTime(src, firstFrame), { num: -SEEK_MARGIN.num, den: SEEK_MARGIN.den }));
  if (target <= toNumber(src.startTime)) return [];
  // -seek_timestamp: -ss is an absolute timestamp (not offset by the file's start time), matching
  // -copyts and the timeline. Rounded down: only ever earlier than the exact time.
  return ['-noaccurate_seek', '-seek_timestamp', '1', '-ss', (Math.floor(target * 1e6) / 1e6).toFixed(6)];
}

/** Number of frames the timeline filter yields for the whole file (decodes it: used for VFR sources only). */
export async function countTimelineFrames(
  file: string,
  src: TimelineSource,
  options: { tools: MediaTools; signal?: AbortSignal },
): Promise<number> {
  const { stdout } = await runTool(options.tools.ffmpeg, [
    '-v', 'error', '-nostdin', '-copyts', '-i', file,
    '-map', `0:${src.streamIndex}`, '-vf', timelineFilter(src), '-fps_mode', 'passthrough',
    '-f', 'null', '-', '-progress', 'pipe:1', '-nostats',
  ], { what: `Counting the frames of ${fileLabel(file)}`, signal: options.signal, collectStdout: true });
  const matches = [...stdout.toString('utf8').matchAll(/^frame=(\d+)$/gm)];
  return Number(matches.at(-1)?.[1] ?? 0);
}
