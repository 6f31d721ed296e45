// Two processes on one project: a second writer is refused with exit 4 naming the first, `info`
// reads alongside it without changing a byte or a job, and the project opens again once freed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Project } from '../../src-main/project/index.ts';
import { initFor, makeVideo } from '../project/fixtures.ts';
import { holdProject } from '../project/holder.ts';
import { jsonLines, runCli } from './run-cli.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rerender-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function lines(r: { stdout: string; stderr: string }): Record<string, unknown>[] {
  return [...jsonLines(r.stdout), ...jsonLines(r.stderr)];
}

test('a second writer gets IN_USE (exit 4); info works alongside and changes nothing', async (t) => {
  const file = path.join(dir, 'm.rrproj');
  Project.create(file, initFor(makeVideo(dir), 40)).close();
  const holder = await holdProject(file, 'rerender propagate');
  t.after(() => holder.kill());
  const bytes = readFileSync(file);

  const info = await runCli(['info', file, '--json']);
  assert.equal(info.code, 0, info.stderr);
  const { jobs } = lines(info).find((l) => l.type === 'result') as { jobs: { id: string; status: string }[] };
  assert.deepEqual(jobs.map((j) => [j.id, j.status]), [[holder.jobId, 'running']]);

  const second = await runCli(['keyframes', file, '--every', '5', '--json']);
  assert.equal(second.code, 4, second.stderr);
  const err = lines(second).find((l) => l.type === 'error')!;
  assert.equal(err.code, 'IN_USE');
  assert.match(String(err.message), new RegExp(`is in use by rerender propagate \\(pid ${holder.pid} on host ${os.hostname()}\\) since \\S+; close it there first`));

  assert.ok(readFileSync(file).equals(bytes), 'neither info nor the refused writer changed the file');
  const r = Project.open(file, { readOnly: true });
  assert.equal(r.getJob(holder.jobId)?.status, 'running', 'the running job of the live writer was left alone');
  assert.deepEqual(r.listKeyframes('').map((k) => k.frame), []);
  r.close();

  await holder.release();
  // An explicit set: the fixture's video is random bytes, and an every-N plan now looks for shot cuts in it.
  const third = await runCli(['keyframes', file, '--set', '0,10,20,30', '--json']);
  assert.equal(third.code, 0, third.stderr);
  const q = Project.open(file, { readOnly: true });
  assert.deepEqual(q.listKeyframes('').map((k) => k.frame), [0, 10, 20, 30]);
  q.close();
});
