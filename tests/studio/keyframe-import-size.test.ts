// A key-frame image at the source's full size imports whatever the source width: ffmpeg's pixel
// limit counts the decoder's padded picture, so a width that is not a multiple of 64 once failed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pixelCap } from '../../src-main/studio/keyframe-image.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { runCli } from '../cli/run-cli.ts';

let dir = '';
let clip = '';
before(async () => {
  dir = await makeTempDir('rerender-import-size-');
  clip = await makeClip(dir, { frames: 2, width: 152, height: 100, fps: { num: 24, den: 1 } });
});
after(async () => removeDir(dir));

test('the pixel cap leaves a block of headroom on each side and still bounds the size', () => {
  assert.ok(pixelCap(152, 100) >= 192 * 128);
  assert.ok(pixelCap(152, 100) < 4 * 152 * 100);
});

test('a source-size PNG of a 152-wide clip imports as a key-frame image', async () => {
  const proj = path.join(dir, 'p.rrproj');
  assert.equal((await runCli(['init', clip, '-o', proj, '--size', '64'])).code, 0);
  const png = path.join(dir, 'frame0.png');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-frames:v', '1', png]);
  const r = await runCli(['keyframe', proj, '--frame', '0', '--import', png]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
});
