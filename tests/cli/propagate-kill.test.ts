// A propagation killed with SIGKILL mid-run resumes: the rerun keeps every render already stored
// and writes only the rest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { Project } from '../../src-main/project/index.ts';
import { jsonLines, runCli } from './run-cli.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let dir = '';
let clip = '';

before(async () => {
  dir = await makeTempDir('rerender-kill-');
  clip = await makeClip(dir, { frames: 24, width: 128, height: 96, fps: { num: 24, den: 1 }, pattern: 'mandelbrot' });
});
after(async () => removeDir(dir));

test('a killed propagation resumes where it stopped', { timeout: 240_000 }, async () => {
  const proj = path.join(dir, 'k.rrproj');
  assert.equal((await runCli(['init', clip, '-o', proj, '--size', '64'])).code, 0);
  const key = path.join(dir, 'key.png');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-vf', 'select=eq(n\\,0),negate', '-frames:v', '1', key]);
  assert.equal((await runCli(['keyframe', proj, '--frame', '0', '--import', key])).code, 0);

  // Run the real CLI in a child and kill it once a few renders have been reported.
  const child = spawn(process.execPath, [path.join(root, 'src-main/cli/main.ts'), 'propagate', proj, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  const killedAfter = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      buffered += c.toString();
      const writes = jsonLines(buffered.slice(0, buffered.lastIndexOf('\n') + 1)).filter((l) => l.type === 'progress' && (l.done as number) >= 4);
      if (writes.length > 0 && child.exitCode === null) {
        child.kill('SIGKILL');
        resolve(writes[0]!.done as number);
      }
    });
    child.on('exit', (code, sig) => {
      if (sig !== 'SIGKILL') reject(new Error(`propagation ended before it could be killed (code ${code})`));
    });
  });
  assert.ok(killedAfter >= 4);
  await new Promise((r) => child.once('close', r));

  const p = Project.open(proj);
  const kept = p.renderCount();
  assert.equal(p.integrityCheck(), 'ok');
  p.close();
  assert.ok(kept > 0 && kept < 24, `some but not all frames were stored before the kill (${kept})`);

  const r = await runCli(['propagate', proj, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = jsonLines(r.stdout).find((l) => l.type === 'result')!;
  assert.equal(res.alreadyDone, kept);
  assert.equal(res.framesWritten, 24 - kept);
  const q = Project.open(proj);
  assert.equal(q.renderCount(), 24);
  q.close();
});
