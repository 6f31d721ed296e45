// probeVideo: what a source file is (display size, exact frame rate, exact frame count, audio),
// or a typed reason why it cannot be used.
import { stat } from 'node:fs/promises';
import { MediaError, fileLabel, throwIfAborted } from './errors.ts';
import type { MediaTools } from './locate.ts';
import { runTool, lastLines, type ToolFailure } from './process.ts';
import {
  type Rational, div, mul, parseDecimal, parseRational, rational, snapFrameRate, toNumber,
} from './rational.ts';
import { nonFileKind, refusedSourceError, sniffVideoContainer, sourceInputArgs } from './sniff.ts';
import { countTimelineFrames } from './timeline.ts';

export interface AudioStreamInfo {
  /** Stream index in the file (ffmpeg's `0:<index>`). */
  index: number;
  codec: string;
  channels: number;
  sampleRate: number;
}

export interface VideoProbe {
  path: string;
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string;
  codec: string;
  pixelFormat: string | null;
  /** Index of the video stream used. */
  streamIndex: number;
  /** Display size: after rotation, what the artist sees. */
  width: number;
  height: number;
  /** Stored (pre-rotation) size of the picture. */
  codedWidth: number;
  codedHeight: number;
  /** Clockwise rotation a player applies for display. */
  rotation: 0 | 90 | 180 | 270;
  /** Rate of the constant-rate timeline frames are indexed on. */
  fps: Rational;
  /** True when the source timestamps are irregular; frames are then mapped onto `fps` by ffmpeg's fps filter. */
  vfr: boolean;
  /**
   * Exact number of frames on the timeline: what decoding through the timeline filter really
   * yields (checked by decoding the file's tail), never just what the header promises.
   */
  frameCount: number;
  /** 'header'/'packets': the decoded count agreed with the header/packet count; 'timeline': it is the decoded count alone. */
  frameCountSource: 'header' | 'packets' | 'timeline';
  /** Frame count the container declares, or null when it has none (Matroska, WebM…). */
  headerFrameCount: number | null;
  /** Pictures really stored (video packets with data); fewer than frameCount when dropped frames are shown as repeats. */
  pictureCount: number;
  /** What the artist should know about how the file maps onto the timeline, with exact counts; empty for a clean file. */
  warnings: string[];
  duration: Rational;
  /** Presentation time of the first video frame; anchors frame 0 of the timeline. */
  startTime: Rational;
  audio: AudioStreamInfo[];
}

export interface ProbeOptions {
  tools: MediaTools;
  signal?: AbortSignal;
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  time_base?: string;
  start_pts?: number;
  start_time?: string;
  duration_ts?: number;
  duration?: string;
  nb_frames?: string;
  channels?: number;
  sample_rate?: string;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string };
}

/** Demuxers for still images: a single picture is not a video source (also refused by the whitelist). */
const IMAGE_CONTAINERS = /(^|,)(image2|[a-z0-9]+_pipe)(,|$)/;
/** The tail decode that counts frames starts at a keyframe at least this far before the last packet. */
const TAIL_SECONDS = 1;

function corrupt(file: string, detail: string): MediaError {
  return new MediaError('CORRUPT', `${fileLabel(file)} is damaged or incomplete (${detail}). Try re-exporting or re-copying it.`);
}

function mapProbeFailure(file: string, looksLikeVideo: boolean) {
  return (failure: ToolFailure): MediaError => {
    const err = failure.stderrTail;
    const refused = refusedSourceError(file, err);
    if (refused) return refused;
    if (!looksLikeVideo) return new MediaError('NOT_A_VIDEO', `${fileLabel(file)} is not a video file ffmpeg can read.`);
    if (/moov atom not found/i.test(err)) return corrupt(file, 'its index is missing, so it was probably not saved or copied completely');
    return corrupt(file, lastLines(err, 1).replace(/^.*?:\s*/, '') || 'ffmpeg cannot read it');
  };
}

function parseRotation(stream: FfprobeStream): 0 | 90 | 180 | 270 {
  const matrix = stream.side_data_list?.find((s) => s.side_data_type === 'Display Matrix');
  // The display matrix angle is counter-clockwise; the legacy `rotate` tag is clockwise.
  const clockwise = matrix?.rotation !== undefined ? -matrix.rotation : Number(stream.tags?.rotate ?? 0);
  if (!Number.isFinite(clockwise)) return 0;
  const quarter = ((Math.round(clockwise / 90) % 4) + 4) % 4;
  return ([0, 90, 180, 270] as const)[quarter] ?? 0;
}

function positiveRate(text: string | undefined): Rational | null {
  const r = parseRational(text);
  return r && r.num > 0 ? r : null;
}

/** Chooses the timeline rate: the stream's real rate when timestamps are regular, the average otherwise. */
function chooseRate(stream: FfprobeStream): { fps: Rational; vfr: boolean } | null {
  const real = positiveRate(stream.r_frame_rate);
  const avg = positiveRate(stream.avg_frame_rate);
  if (real && avg) {
    const drift = Math.abs(toNumber(real) - toNumber(avg)) / toNumber(real);
    if (drift < 0.01) return { fps: real, vfr: false };
    return { fps: snapFrameRate(avg), vfr: true };
  }
  const only = real ?? avg;
  return only ? { fps: only, vfr: false } : null;
}

function timeOf(ts: number | undefined, timeBase: Rational | null, decimal: string | undefined): Rational | null {
  if (ts !== undefined && Number.isSafeInteger(ts) && timeBase) return mul(rational(ts, 1), timeBase);
  return parseDecimal(decimal);
}

async function ffprobeJson(file: string, args: string[], options: ProbeOptions, looksLikeVideo: boolean): Promise<FfprobeOutput> {
  const { stdout } = await runTool(options.tools.ffprobe, ['-v', 'error', ...sourceInputArgs(), '-print_format', 'json', ...args, '-i', file], {
    what: `Reading ${fileLabel(file)}`,
    signal: options.signal,
    collectStdout: true,
    mapFailure: mapProbeFailure(file, looksLikeVideo),
  });
  try {
    return JSON.parse(stdout.toString('utf8')) as FfprobeOutput;
  } catch (cause) {
    throw new MediaError('NOT_A_VIDEO', `${fileLabel(file)} could not be read as a video.`, { cause });
  }
}

interface PacketSummary {
  /** Packets carrying data: the pictures the file really holds. */
  pictures: number;
  /** Keyframe presentation times, in stream time-base units, in file order. */
  keyframes: number[];
  /** Latest presentation time of any packet, in stream time-base units. */
  lastTime: number | null;
}

/** Reads every video packet's timestamps (demuxing only, no decoding): what is really in the file. */
async function readPackets(file: string, streamIndex: number, options: ProbeOptions): Promise<PacketSummary> {
  const { stdout } = await runTool(options.tools.ffprobe, [
    '-v', 'error', ...sourceInputArgs(), '-select_streams', String(streamIndex),
    '-show_entries', 'packet=pts,dts,size,flags', '-of', 'compact=p=0', '-i', file,
  ], { what: `Reading ${fileLabel(file)}`, signal: options.signal, collectStdout: true, mapFailure: mapProbeFailure(file, true) });
  const summary: PacketSummary = { pictures: 0, keyframes: [], lastTime: null };
  for (const line of stdout.toString('utf8').split('\n')) {
    if (line === '') continue;
    const fields = new Map(line.split('|').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const field = (key: string): string | undefined => fields.get(key);
    // Some AVI captures store a dropped frame as an empty packet: a slot, not a picture.
    if (Number(field('size')) > 0) summary.pictures++;
    const time = Number(field('pts') ?? 'N/A');
    const dts = Number(field('dts') ?? 'N/A');
    const t = Number.isSafeInteger(time) ? time : Number.isSafeInteger(dts) ? dts : null;
    if (t === null) continue;
    if (summary.lastTime === null || t > summary.lastTime) summary.lastTime = t;
    if (field('flags')?.startsWith('K')) summary.keyframes.push(t);
  }
  return summary;
}

/** Where the counting decode starts: the last keyframe at least TAIL_SECONDS before the last packet, or null (decode it all). */
function tailStart(packets: PacketSummary, timeBase: Rational | null, startTime: Rational): Rational | null {
  if (!timeBase || packets.lastTime === null) return null;
  const limit = packets.lastTime - TAIL_SECONDS * (timeBase.den / timeBase.num);
  const start = toNumber(startTime);
  let best: number | null = null;
  for (const k of packets.keyframes) if (k <= limit && (best === null || k > best)) best = k;
  if (best === null) return null;
  const at = mul(rational(best, 1), timeBase);
  return toNumber(at) > start ? at : null;
}

export async function probeVideo(file: string, options: ProbeOptions): Promise<VideoProbe> {
  throwIfAborted(options.signal, `Reading ${fileLabel(file)}`);
  let info;
  try {
    info = await stat(file);
  } catch (cause) {
    throw new MediaError('FILE_NOT_FOUND', `${fileLabel(file)} could not be found at ${file}. Was it moved, renamed or on a disconnected drive?`, { cause });
  }
  const kind = nonFileKind(info);
  // Devices and pipes would never end (or block): name what they are instead of reading them.
  if (kind) throw new MediaError('NOT_A_VIDEO', `${fileLabel(file)} (${file}) is ${kind}, not a video file.`);
  if (info.size === 0) throw new MediaError('NOT_A_VIDEO', `${fileLabel(file)} is empty (0 bytes), not a video file.`);

  const looksLikeVideo = await sniffVideoContainer(file);
  const out = await ffprobeJson(file, ['-show_format', '-show_streams'], options, looksLikeVideo);
  const container = out.format?.format_name ?? '';
  const streams = out.streams ?? [];
  const audio: AudioStreamInfo[] = streams
    .filter((s) => s.codec_type === 'audio')
    .map((s) => ({ index: s.index, codec: s.codec_name ?? 'unknown', channels: s.channels ?? 0, sampleRate: Number(s.sample_rate ?? 0) }));
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);

  if (IMAGE_CONTAINERS.test(container)) {
    throw new MediaError('NOT_A_VIDEO', `${fileLabel(file)} is a still image, not a video file.`);
  }
  if (!video) {
    if (audio.length > 0) {
      throw new MediaError('AUDIO_ONLY', `${fileLabel(file)} contains only sound, no picture. Choose a video file.`);
    }
    throw new MediaError('NOT_A_VIDEO', `${fileLabel(file)} is not a video file (no video stream).`);
  }
  if (!video.width || !video.height) throw corrupt(file, 'the picture size is missing');
  const rate = chooseRate(video);
  if (!rate) throw corrupt(file, 'the frame rate is missing');

  const rotation = parseRotation(video);
  const swap = rotation === 90 || rotation === 270;
  const timeBase = parseRational(video.time_base);
  const startTime = timeOf(video.start_pts, timeBase, video.start_time) ?? rational(0, 1);

  const headerCount = Number(video.nb_frames);
  const headerFrameCount = Number.isSafeInteger(headerCount) && headerCount > 0 ? headerCount : null;
  const packets = await readPackets(file, video.index, options);
  if (packets.pictures === 0) throw new MediaError('NO_FRAMES', `${fileLabel(file)} has a video stream but no frames in it.`);

  const base = {
    path: file,
    container,
    codec: video.codec_name ?? 'unknown',
    pixelFormat: video.pix_fmt ?? null,
    streamIndex: video.index,
    width: swap ? video.height : video.width,
    height: swap ? video.width : video.height,
    codedWidth: video.width,
    codedHeight: video.height,
    rotation,
    fps: rate.fps,
    vfr: rate.vfr,
    startTime,
    audio,
  };
  // Headers can promise frames that never decode (a truncated copy, a pre-roll packet an edit list
  // hides), and packet counts miss the slots of dropped frames: count what the timeline filter yields.
  const counting = { tools: options.tools, signal: options.signal };
  const from = tailStart(packets, timeBase, startTime);
  let frameCount = await countTimelineFrames(file, base, { ...counting, from: from ?? undefined });
  if (frameCount === 0 && from) frameCount = await countTimelineFrames(file, base, counting);
  if (frameCount === 0) throw corrupt(file, 'none of its frames can be decoded');
  const frameCountSource: VideoProbe['frameCountSource'] = rate.vfr
    ? 'timeline'
    : frameCount === headerFrameCount ? 'header' : frameCount === packets.pictures ? 'packets' : 'timeline';

  const warnings: string[] = [];
  const short = headerFrameCount !== null && frameCount < headerFrameCount;
  if (short) {
    warnings.push(
      `${fileLabel(file)}: its header promises ${headerFrameCount} frames but only ${frameCount} can be decoded; ` +
        `it may be truncated or damaged. The project uses the ${frameCount} frames that are there.`,
    );
  }
  if (!rate.vfr && packets.pictures < frameCount) {
    warnings.push(
      `${fileLabel(file)}: ${packets.pictures} pictures over ${frameCount} frame slots: dropped frames are shown as repeats ` +
        '(each slot shows the latest picture at or before it).',
    );
  }
  const fromTimeline = div(rational(frameCount, 1), rate.fps);
  const duration = short
    ? fromTimeline
    : timeOf(video.duration_ts, timeBase, video.duration) ?? parseDecimal(out.format?.duration) ?? fromTimeline;
  return { ...base, frameCount, frameCountSource, headerFrameCount, pictureCount: packets.pictures, warnings, duration };
}
