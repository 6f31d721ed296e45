// Decodes a run of real frames for the flow benchmarks: scaled to fill W x H, centre-cropped.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function decodeFrames(clip: string, start: number, count: number, w: number, h: number, step = 1): Uint8Array[] {
  if (!existsSync(clip)) throw new Error(`clip not found: ${clip} (see ../shared/media/README.md)`);
  const vf = `select=gte(n\\,${start})*not(mod(n-${start}\\,${step})),scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h}`;
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', clip, '-vf', vf, '-fps_mode', 'passthrough', '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
  const size = w * h * 3;
  const out: Uint8Array[] = [];
  for (let i = 0; i + size <= r.stdout.length; i += size) out.push(new Uint8Array(r.stdout.subarray(i, i + size)));
  return out;
}
