// `rerender … --json | head -1`: the CLI stops like a cancel (exit 130, nothing half-written)
// instead of crashing on EPIPE when its reader goes away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { runCli } from './run-cli.ts';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src-main', 'cli', 'main.ts');
let dir = '';

before(async () => {
  dir = await makeTempDir('rerender-epipe-');
});
after(async () => removeDir(dir));

test('a closed stdout cancels the command cleanly', { timeout: 60_000 }, async () => {
  const clip = await makeClip(dir, { frames: 240, width: 320, height: 240, fps: { num: 25, den: 1 } });
  const proj = path.join(dir, 'e.rrproj');
  assert.equal((await runCli(['init', clip, '-o', proj, '--size', '128'])).code, 0);
  const out = path.join(dir, 'e.mp4');
  const child = spawn(process.execPath, [main, 'export', proj, out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // Read the first line, then go away like `head -1` does.
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  assert.equal(code, 130, stderr);
  assert.doesNotMatch(stderr, /Unhandled|EPIPE/);
  assert.equal(existsSync(out), false);
});
