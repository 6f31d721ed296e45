// The benchmark's clips: segments of the shared real footage, decoded at the working size.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface ClipSpec {
  name: string;
  file: string;
  /** First source frame of every segment (all lengths start here). */
  start: number;
  /** Source frames per benchmark frame: > 1 makes the motion between frames larger. */
  stride: number;
  /** Longest segment that stays inside one shot. */
  maxLength: number;
  about: string;
}

// Shot cuts measured with ffmpeg's scene score (> 0.3 at each, < 0.03 elsewhere): Megamind.avi
// cuts at 1 (frame 0 is black), 98, 154 and 200; vtest.avi is one shot. Motion at 320x256
// (DIS flow, mean / 99th percentile px per frame): megamind 0.5 / 2.7, vtest 0.1 / 2.2,
// megamind-x3 1.9 / 9.5, vtest-x4 0.4 / 8.6 (walkers only; the camera is fixed).
export const CLIPS: readonly ClipSpec[] = [
  { name: 'megamind', file: 'Megamind.avi', start: 20, stride: 1, maxLength: 78, about: 'animated film, frames 20.. of the shot 1..97' },
  { name: 'vtest', file: 'vtest.avi', start: 100, stride: 1, maxLength: 600, about: 'fixed camera, pedestrians, frames 100..' },
  { name: 'megamind-x3', file: 'Megamind.avi', start: 4, stride: 3, maxLength: 31, about: 'large motion: Megamind every 3rd frame from 4 (shot 1..97)' },
  { name: 'vtest-x4', file: 'vtest.avi', start: 300, stride: 4, maxLength: 120, about: 'large motion of walkers: vtest every 4th frame from 300' },
];

/** Clips of the default full run. */
export const DEFAULT_CLIPS: readonly string[] = ['megamind', 'vtest', 'megamind-x3'];

export function clipByName(name: string): ClipSpec {
  const c = CLIPS.find((x) => x.name === name);
  if (!c) throw new RangeError(`unknown clip ${JSON.stringify(name)}; one of ${CLIPS.map((x) => x.name).join(', ')}`);
  return c;
}

/** Exits with status 2 and a clear message when the shared footage is not there. */
export function requireMedia(dir: string, clips: readonly ClipSpec[]): void {
  const missing = clips.map((c) => path.join(dir, c.file)).filter((f) => !existsSync(f));
  if (missing.length > 0) {
    console.error(`bench:quality needs the shared footage, not found: ${missing.join(', ')}\n(pass --media DIR; see ../shared/media/README.md for where the files come from)`);
    process.exit(2);
  }
}

/**
 * Decodes `count` frames (every `stride`-th from `start`) scaled to cover width x height and
 * centre-cropped, as RGB24.
 */
export function decodeFrames(file: string, start: number, count: number, stride: number, width: number, height: number): Uint8Array[] {
  const select = stride > 1 ? `select=gte(n\\,${start})*not(mod(n-${start}\\,${stride}))` : `select=gte(n\\,${start})`;
  const vf = `${select},scale=${width}:${height}:force_original_aspect_ratio=increase:flags=area,crop=${width}:${height}`;
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', vf, '-fps_mode', 'passthrough', '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`ffmpeg failed on ${file}: ${r.stderr.toString()}`);
  const size = width * height * 3;
  const out: Uint8Array[] = [];
  for (let i = 0; i + size <= r.stdout.length; i += size) out.push(new Uint8Array(r.stdout.subarray(i, i + size)));
  if (out.length < count) throw new Error(`${file}: only ${out.length} of ${count} frames decoded from ${start} (stride ${stride})`);
  return out;
}
