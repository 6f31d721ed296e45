// The frame timeline: how a source's frames map to indices 0..frameCount-1. Every decode runs the
// same `fps` filter anchored at the stream's start time, with timestamps kept (-copyts), so frame n
// is the same picture whether decoding starts at the beginning or after a seek.
import type { VideoProbe } from './probe.ts';
import type { MediaTools } from './locate.ts';
import { MediaError, fileLabel } from './errors.ts';
import { lastLines, runTool } from './process.ts';
import { sourceInputArgs } from './sniff.ts';
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

/**
 * Number of frames the timeline filter yields for the whole file: what decoding really gives, never
 * what a header promises. The count depends only on the end of the stream (the filter fills the
 * slots from the start time with the first picture, and any gap with the picture before it), so
 * with `from` (a keyframe's time) only the tail is decoded: the filter then starts at the slot K
 * at or before `from`, and the count is K plus what it yields.
 */
export async function countTimelineFrames(
  file: string,
  src: TimelineSource,
  options: { tools: MediaTools; signal?: AbortSignal; from?: Rational },
): Promise<number> {
  const slot = options.from ? Math.max(0, Math.floor(toNumber(mul(add(options.from, neg(src.startTime)), src.fps)))) : 0;
  const seek = slot > 0 && options.from
    // Floored to the microsecond: the demuxer lands on the keyframe at or before it.
    ? ['-noaccurate_seek', '-seek_timestamp', '1', '-ss', (Math.floor(toNumber(options.from) * 1e6) / 1e6).toFixed(6)]
    : [];
  const filter = timelineFilter({ ...src, startTime: frameTime(src, slot) });
  const { stdout } = await runTool(options.tools.ffmpeg, [
    '-v', 'error', '-nostdin', ...sourceInputArgs(), ...seek, '-copyts', '-i', file,
    '-map', `0:${src.streamIndex}`, '-an', '-sn', '-dn', '-vf', filter, '-fps_mode', 'passthrough',
    '-f', 'null', '-', '-progress', 'pipe:1', '-nostats',
  ], {
    what: `Counting the frames of ${fileLabel(file)}`,
    signal: options.signal,
    collectStdout: true,
    mapFailure: (f) => new MediaError('CORRUPT', `${fileLabel(file)} is damaged and could not be decoded: ${lastLines(f.stderrTail, 2)}`),
  });
  const yielded = Number([...stdout.toString('utf8').matchAll(/^frame=(\d+)$/gm)].at(-1)?.[1] ?? 0);
  return yielded > 0 ? slot + yielded : 0;
}

function neg(r: Rational): Rational {
  return { num: -r.num, den: r.den };
}
