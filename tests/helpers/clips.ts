// Small synthetic media for tests, generated with ffmpeg's lavfi sources (Debian ffmpeg on PATH).
// testsrc2 draws a frame counter, so every frame differs from its neighbours.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClipOptions {
  frames: number;
  width: number;
  height: number;
  fps: { num: number; den: number };
  /** Adds a 440 Hz tone as long as the video. */
  audio?: boolean;
  audioCodec?: 'aac' | 'pcm_s16le';
  /** Clockwise display rotation, written as an MP4/MOV track matrix the way phones do. */
  rotate?: 90 | 180 | 270;
  /** Drops every third frame of a `fps` source so timestamps are irregular (average rate = 2/3 fps). */
  vfr?: boolean;
  pattern?: 'testsrc2' | 'mandelbrot';
  container?: 'mp4' | 'mov' | 'mkv' | 'avi';
  /** Keyframe interval (default 12, so seeking has keyframes to land on). */
  gop?: number;
  /** MP4/MOV: put the index first (a truncated copy then still probes). */
  faststart?: boolean;
  /** Timestamps start here instead of 0 (as in camera files with timecode), in whole seconds. */
  startSeconds?: number;
}

export async function makeTempDir(prefix = 'rerender-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

function seconds(frames: number, fps: { num: number; den: number }): string {
  return ((frames * fps.den) / fps.num).toFixed(6);
}

/** Generates (or reuses, for identical options in the same dir) a clip and returns its path. */
export async function makeClip(dir: string, options: ClipOptions): Promise<string> {
  const zero = options.frames === 0;
  // A video stream with no frames only survives in Matroska next to an audio stream.
  const container = zero ? 'mkv' : (options.container ?? 'mp4');
  const audio = zero || options.audio === true;
  const key = createHash('sha1').update(JSON.stringify({ ...options, container, audio })).digest('hex').slice(0, 12);
  const out = path.join(dir, `clip-${key}.${container}`);
  if (await exists(out)) return out;

  const { num, den } = options.fps;
  const size = `${options.width}x${options.height}`;
  const source = options.pattern === 'mandelbrot'
    ? `mandelbrot=size=${size}:rate=${num}/${den}`
    : `testsrc2=size=${size}:rate=${num}/${den}`;
  const inputFrames = options.vfr ? Math.ceil((options.frames * 3) / 2) + 3 : Math.max(options.frames, 1);
  const args = ['-v', 'error', '-y', '-f', 'lavfi', '-i', source];
  if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds(inputFrames, options.fps)}`);
  args.push('-map', '0:v');
  if (audio) args.push('-map', '1:a');
  if (zero) args.push('-vf', 'trim=end_frame=0');
  else if (options.vfr) args.push('-vf', "select='not(eq(mod(n,3),1))'", '-fps_mode', 'vfr');
  if (!zero) args.push('-frames:v', String(options.frames));
  if (container === 'avi') args.push('-c:v', 'mpeg4', '-q:v', '3', '-g', String(options.gop ?? 12));
  else args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(options.gop ?? 12), '-pix_fmt', 'yuv420p');
  if (audio) args.push('-c:a', options.audioCodec ?? (container === 'avi' ? 'pcm_s16le' : 'aac'));
  if (options.faststart) args.push('-movflags', '+faststart');
  if (options.startSeconds) args.push('-output_ts_offset', String(options.startSeconds));
  args.push(out);
  await run('ffmpeg', args);
  if (options.rotate) await setTrackRotation(out, options.rotate);
  return out;
}

/** Writes a clockwise display rotation into the first track's tkhd matrix (MP4/MOV). */
export async function setTrackRotation(file: string, clockwise: 90 | 180 | 270): Promise<void> {
  const bytes = await readFile(file);
  const tkhd = findBox(bytes, 0, bytes.length, ['moov', 'trak', 'tkhd']);
  if (tkhd === null) throw new Error(`no tkhd box in ${file}`);
  const version = bytes[tkhd + 8];
  const matrix = tkhd + 8 + (version === 1 ? 52 : 40);
  const one = 0x10000;
  const [a, b, c, d] = clockwise === 90 ? [0, one, -one, 0] : clockwise === 180 ? [-one, 0, 0, -one] : [0, -one, one, 0];
  [a, b, 0, c, d, 0, 0, 0, 0x40000000].forEach((v, i) => bytes.writeInt32BE(v, matrix + 4 * i));
  await writeFile(file, bytes);
}

function findBox(bytes: Buffer, start: number, end: number, route: string[]): number | null {
  const [want, ...rest] = route;
  for (let at = start; at + 8 <= end;) {
    const size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (size < 8) return null;
    if (type === want) return rest.length === 0 ? at : findBox(bytes, at + 8, at + size, rest);
    at += size;
  }
  return null;
}

/** An audio-only file (AAC in M4A). */
export async function makeAudioFile(dir: string, options: { seconds: number } = { seconds: 1 }): Promise<string> {
  const out = path.join(dir, `tone-${options.seconds}.m4a`);
  if (!(await exists(out))) {
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${options.seconds}`, '-c:a', 'aac', out]);
  }
  return out;
}

/** A still image (PNG). */
export async function makeImage(dir: string, options: { width: number; height: number }): Promise<string> {
  const out = path.join(dir, `still-${options.width}x${options.height}.png`);
  if (!(await exists(out))) {
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${options.width}x${options.height}`, '-frames:v', '1', out]);
  }
  return out;
}

/** Copies the first `fraction` of a file's bytes: what an interrupted copy or download leaves. */
export async function truncatedCopy(file: string, fraction = 0.5): Promise<string> {
  const bytes = await readFile(file);
  const ext = path.extname(file);
  const out = path.join(path.dirname(file), `${path.basename(file, ext)}-truncated${ext}`);
  await writeFile(out, bytes.subarray(0, Math.floor(bytes.length * fraction)));
  return out;
}
