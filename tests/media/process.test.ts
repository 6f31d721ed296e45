import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { locateTools, type MediaTools } from '../../src-main/media/locate.ts';
import { deathSignalWrapper, runTool, spawnTool } from '../../src-main/media/process.ts';
import { isMediaError } from '../../src-main/media/errors.ts';

let tools: MediaTools;
before(async () => {
  tools = await locateTools({ env: process.env });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('abort kills ffmpeg and rejects with CANCELLED only after it has exited', async () => {
  const controller = new AbortController();
  // An endless source: only the abort can stop it.
  const run = spawnTool(tools.ffmpeg, ['-v', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-f', 'null', '-'], {
    what: 'Test run',
    signal: controller.signal,
  });
  assert.ok(run.pid);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(isRunning(run.pid));
  controller.abort();
  await assert.rejects(run.done, (err) => isMediaError(err, 'CANCELLED'));
  assert.ok(!isRunning(run.pid), 'ffmpeg is gone');
});

test('a failing run reports the tail of stderr', async () => {
  await assert.rejects(runTool(tools.ffmpeg, ['-v', 'error', '-nostdin', '-i', '/definitely/not/here.mp4', '-f', 'null', '-'], { what: 'Reading the test file' }), (err) => {
    assert.ok(isMediaError(err, 'FFMPEG_FAILED'));
    assert.match(err.message, /^Reading the test file failed: ffmpeg exited with status 1:/);
    assert.match(err.message, /No such file or directory/);
    return true;
  });
});

test('a missing binary is FFMPEG_NOT_FOUND', async () => {
  await assert.rejects(runTool('/no/such/ffmpeg', ['-version'], { what: 'Test' }), (err) => isMediaError(err, 'FFMPEG_NOT_FOUND'));
});

test('stdout can be collected or streamed with backpressure', async () => {
  const args = ['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=16x16', '-frames:v', '5', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'];
  const { stdout } = await runTool(tools.ffmpeg, args, { what: 'Test', collectStdout: true });
  assert.equal(stdout.length, 5 * 16 * 16);
  let streamed = 0;
  await runTool(tools.ffmpeg, args, {
    what: 'Test',
    onStdout: async (chunk) => {
      streamed += chunk.length;
      await new Promise((r) => setTimeout(r, 1));
    },
  });
  assert.equal(streamed, 5 * 16 * 16);
});

test('ffmpeg hitting ENOSPC is DISK_FULL (writes to /dev/full)', { skip: !existsSync('/dev/full') && 'no /dev/full on this system' }, async () => {
  await assert.rejects(
    runTool(tools.ffmpeg, ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-frames:v', '10', '-f', 'rawvideo', '/dev/full'], { what: 'Writing' }),
    (err) => {
      assert.ok(isMediaError(err, 'DISK_FULL'), String(err));
      assert.match(err.message, /disk is full/);
      return true;
    },
  );
});

/** Alive and not a zombie (a killed orphan may wait a while for a reaper that never comes). */
function isLive(pid: number): boolean {
  if (!isRunning(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

test('ffmpeg dies with a SIGKILLed parent (setpriv --pdeathsig)', { skip: deathSignalWrapper().length === 0 && 'no setpriv (util-linux) here' }, async () => {
  // A Node process starts an endless ffmpeg through spawnTool, prints its PID, then is SIGKILLed.
  const script = `
    const { spawnTool } = await import(${JSON.stringify(pathToFileURL(path.resolve('src-main/media/process.ts')).href)});
    const run = spawnTool(${JSON.stringify(tools.ffmpeg)}, ['-v', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-f', 'null', '-'], { what: 'Test' });
    process.stdout.write(String(run.pid) + '\\n');
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    parent.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('\n')) resolve(text.trim());
    });
    parent.once('exit', () => reject(new Error(`the parent exited early: ${text}`)));
  });
  const ffmpegPid = Number(line);
  assert.ok(ffmpegPid > 0);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(isLive(ffmpegPid), 'ffmpeg runs while its parent lives');
  const parentGone = new Promise((r) => parent.once('exit', r));
  parent.kill('SIGKILL');
  await parentGone;
  const deadline = Date.now() + 1000;
  while (isLive(ffmpegPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const alive = isLive(ffmpegPid);
  if (alive) process.kill(ffmpegPid, 'SIGKILL');
  assert.equal(alive, false, 'ffmpeg was still running 1 s after its parent was killed');
});
