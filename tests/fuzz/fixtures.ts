// Valid inputs the mutations start from, made once per fuzz process: a small lavfi clip, a
// project with key frame 0 imported, and a copy of it with every frame rendered.
import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeClip } from '../helpers/clips.ts';
import { cli, fail } from './support.ts';

const run = promisify(execFile);

export const FRAMES = 12;

export interface BaseFixture {
  dir: string;
  clip: string;
  /** Key frame 0 has an image; nothing rendered. */
  keyed: string;
  /** `keyed` with all FRAMES frames rendered. */
  rendered: string;
  /** A working-size (128×64) PNG, a JPEG of it, and a grey mask. */
  png: string;
  jpg: string;
  mask: string;
}

async function must(args: string[]): Promise<void> {
  const r = await cli(args, 60_000);
  if (r.code !== 0) fail('other', `fixture step failed: ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

export async function videoClip(dir: string): Promise<string> {
  return makeClip(dir, { frames: FRAMES, width: 96, height: 64, fps: { num: 12, den: 1 }, gop: 6 });
}

export async function baseFixture(dir: string, opts: { rendered?: boolean } = {}): Promise<BaseFixture> {
  const clip = await videoClip(dir);
  const png = path.join(dir, 'key.png');
  const jpg = path.join(dir, 'key.jpg');
  const mask = path.join(dir, 'mask.png');
  const ff = ['-v', 'error', '-y', '-i', clip, '-frames:v', '1'];
  await run('ffmpeg', [...ff, '-vf', 'scale=128:64,negate', png]);
  await run('ffmpeg', [...ff, '-vf', 'scale=128:64', jpg]);
  await run('ffmpeg', [...ff, '-vf', 'scale=128:64,format=gray', mask]);
  const keyed = path.join(dir, 'keyed.rrproj');
  await must(['init', clip, '-o', keyed, '--size', '64']);
  await must(['keyframe', keyed, '--frame', '0', '--import', png]);
  const rendered = path.join(dir, 'rendered.rrproj');
  if (opts.rendered !== false) {
    copyFileSync(keyed, rendered);
    await must(['propagate', rendered]);
  }
  return { dir, clip, keyed, rendered, png, jpg, mask };
}

/** A private copy of a template project in `caseDir`. */
export function copyProject(template: string, caseDir: string, name = 'p.rrproj'): string {
  const out = path.join(caseDir, name);
  copyFileSync(template, out);
  return out;
}
