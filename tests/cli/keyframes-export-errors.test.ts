// `keyframes --export` to a folder that cannot be made or written ends at once with an exit code
// and a message naming the folder (it used to hang on /proc/x: Node's recursive mkdir spins there),
// and leaves no temporary files behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT } from '../../src-main/cli/exit-codes.ts';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { runCli } from './run-cli.ts';

let dir = '';
let proj = '';

before(async () => {
  dir = await makeTempDir('rerender-kf-export-');
  const clip = path.join(dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=25', '-frames:v', '12', '-pix_fmt', 'yuv420p', clip]);
  proj = path.join(dir, 'p.rrproj');
  const r = await runCli(['init', clip, '-o', proj, '--size', '64']);
  assert.equal(r.code, 0, r.stderr);
  const k = await runCli(['keyframes', proj, '--every', '4']);
  assert.equal(k.code, 0, k.stderr);
});
after(async () => removeDir(dir));

/** The CLI with a watchdog: a hang fails the test instead of stalling the run. */
async function exportTo(target: string, extra: string[] = []): Promise<{ code: number; stderr: string }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 10_000);
  try {
    const r = await runCli(['keyframes', proj, '--export', target, ...extra], { signal: ac.signal });
    assert.ok(!ac.signal.aborted, `export to ${target} hung`);
    return r;
  } finally {
    clearTimeout(timer);
  }
}

test('a folder the system will not create (/proc/x) fails with exit 4 naming it', { skip: process.platform !== 'linux', timeout: 15_000 }, async () => {
  for (const target of ['/proc/x', '/proc/x/y']) {
    const r = await exportTo(target);
    assert.equal(r.code, EXIT.environment, r.stderr);
    assert.ok(r.stderr.includes(`'${target}'`), r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});

test('a file where the folder should be, or on its way, fails with exit 4 naming it', async () => {
  const file = path.join(dir, 'a-file');
  await writeFile(file, 'x');
  for (const target of [file, path.join(file, 'sub')]) {
    const r = await exportTo(target);
    assert.equal(r.code, EXIT.environment, r.stderr);
    assert.ok(r.stderr.includes(`'${target}'`), r.stderr);
  }
});

test('a read-only folder fails with exit 4 (needs a non-root user)', { skip: process.getuid?.() === 0 || process.platform === 'win32' }, async () => {
  const ro = path.join(dir, 'read-only');
  await mkdir(ro, { mode: 0o555 });
  const r = await exportTo(path.join(ro, 'keys'));
  assert.equal(r.code, EXIT.environment, r.stderr);
  assert.ok(r.stderr.includes(path.join(ro, 'keys')), r.stderr);
});

test('a frame that cannot be written midway leaves no temporary file behind', async () => {
  const out = path.join(dir, 'partly');
  // A folder under frame 4's name: frame 0 is written, frame 4's rename fails (as root too).
  await mkdir(path.join(out, '00004.png'), { recursive: true });
  const r = await exportTo(out, ['--overwrite']);
  assert.equal(r.code, EXIT.environment, r.stderr);
  assert.ok(r.stderr.includes(path.join(out, '00004.png')), r.stderr);
  const left = await readdir(out);
  assert.deepEqual(left.filter((f) => f.includes('.tmp')), []);
  assert.deepEqual(left.sort(), ['00000.png', '00004.png']);
});

test('missing parent folders are made, level by level', async () => {
  const out = path.join(dir, 'new', 'a', 'b');
  const r = await exportTo(out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await readdir(out)).sort(), ['00000.png', '00004.png', '00008.png']);
});
