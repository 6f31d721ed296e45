// One writer per project: the lock file beside it, its recovery after a crash, and read-only opens
// that take no lock and change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Project, lockPathFor, readLock, type ProjectError } from '../../src-main/project/index.ts';
import { initFor, makeVideo, pngBytes, tempDir } from './fixtures.ts';
import { holdProject } from './holder.ts';

function newProject(dir: string, name = 'p.rrproj'): string {
  const file = path.join(dir, name);
  Project.create(file, initFor(makeVideo(dir), 30)).close();
  return file;
}

function code(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    return { code: (e as ProjectError).code, message: (e as Error).message };
  }
  assert.fail('expected an error');
}

test('a writer holds the lock until close; a second writer in the same process is refused', (t) => {
  const dir = tempDir(t);
  const file = newProject(dir);
  assert.equal(existsSync(lockPathFor(file)), false, 'create released its lock on close');
  const p = Project.open(file, { label: 'test writer' });
  const lock = readLock(file);
  assert.equal(lock?.pid, process.pid);
  assert.equal(lock?.host, os.hostname());
  assert.equal(lock?.what, 'test writer');
  assert.ok(!Number.isNaN(Date.parse(lock!.since)));
  const second = code(() => Project.open(file));
  assert.equal(second.code, 'IN_USE');
  assert.match(second.message, /already open in this program \(test writer\)/);
  assert.equal(code(() => Project.create(file, initFor(makeVideo(dir, 'b.mp4'), 30), { overwrite: true })).code, 'IN_USE');
  p.close();
  assert.equal(existsSync(lockPathFor(file)), false);
  const q = Project.open(file);
  q.close();
  q.close(); // idempotent, and does not remove someone else's lock
});

test('another live process holding the project: IN_USE naming it; open works once it closes', async (t) => {
  const dir = tempDir(t);
  const file = newProject(dir);
  const holder = await holdProject(file, 'rerender propagate');
  t.after(() => holder.kill());
  const err = code(() => Project.open(file));
  assert.equal(err.code, 'IN_USE');
  assert.match(err.message, new RegExp(`in use by rerender propagate \\(pid ${holder.pid} on host ${os.hostname()}\\) since .*; close it there first`));
  await holder.release();
  assert.equal(existsSync(lockPathFor(file)), false);
  const p = Project.open(file);
  t.after(() => p.close());
  assert.equal(p.interruptedJobs, 1, 'the job the holder left running is judged only now, under our lock');
});

test('a lock left by a SIGKILLed process is recovered by the next opener, which then marks its job interrupted', async (t) => {
  const dir = tempDir(t);
  const file = newProject(dir);
  const holder = await holdProject(file, 'rerender propagate');
  // While it lives, its running job is not touched by anyone.
  assert.equal(code(() => Project.open(file)).code, 'IN_USE');
  await holder.kill();
  assert.equal(readLock(file)?.pid, holder.pid, 'the dead process left its lock behind');
  const p = Project.open(file);
  t.after(() => p.close());
  assert.equal(readLock(file)?.pid, process.pid, 'the lock is ours now');
  assert.equal(p.interruptedJobs, 1);
  assert.equal(p.getJob(holder.jobId)?.status, 'cancelled');
  assert.equal(p.getJob(holder.jobId)?.note, 'interrupted');
});

test('a lock from another host is never taken over; the message says how to remove it by hand', (t) => {
  const dir = tempDir(t);
  const file = newProject(dir);
  writeFileSync(lockPathFor(file), JSON.stringify({ host: 'render-box-7', pid: 4242, since: '2024-01-01T00:00:00.000Z', what: 'Rerender Studio editor' }));
  const err = code(() => Project.open(file));
  assert.equal(err.code, 'IN_USE');
  assert.match(err.message, /in use by Rerender Studio editor \(pid 4242 on host render-box-7\) since 2024-01-01/);
  assert.match(err.message, new RegExp(`delete ${lockPathFor(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} by hand`));
  assert.equal(readLock(file)?.host, 'render-box-7', 'left as it was');
});

test('an unreadable lock is respected while fresh (being written) and taken over once old', (t) => {
  const dir = tempDir(t);
  const file = newProject(dir);
  writeFileSync(lockPathFor(file), '{"host":');
  assert.equal(code(() => Project.open(file)).code, 'IN_USE');
  const old = new Date(Date.now() - 60_000);
  utimesSync(lockPathFor(file), old, old);
  const p = Project.open(file);
  assert.equal(readLock(file)?.pid, process.pid);
  p.close();
});

test('read-only: no lock, no migration, jobs untouched, writes refused, file bytes unchanged', async (t) => {
  const dir = tempDir(t);
  const file = newProject(dir);
  const holder = await holdProject(file, 'rerender propagate');
  t.after(() => holder.kill());
  const lockBefore = readFileSync(lockPathFor(file), 'utf8');
  const bytesBefore = readFileSync(file);
  const r = Project.open(file, { readOnly: true });
  assert.equal(r.readOnly, true);
  assert.equal(r.interruptedJobs, 0);
  assert.equal(r.getJob(holder.jobId)?.status, 'running', 'the live holder\'s job is seen as running');
  assert.equal(r.frameCount, 30);
  for (const write of [
    () => r.addKeyframe(1),
    () => r.updateSettings({ steps: 5 }),
    () => r.putRender(0, pngBytes(1), { runId: 'x', paramsHash: 'y' }),
    () => r.createJob({ kind: 'export' }),
    () => r.deleteRenders(),
  ]) {
    assert.equal(code(write).code, 'READ_ONLY');
  }
  r.close();
  r.close();
  assert.equal(readFileSync(lockPathFor(file), 'utf8'), lockBefore, 'the holder keeps its lock');
  assert.ok(readFileSync(file).equals(bytesBefore), 'the .rrproj bytes are unchanged');
  await holder.release();
  const alone = readFileSync(file);
  const again = Project.openReadOnly(file);
  assert.equal(again.readOnly, true);
  assert.equal(again.getJob(holder.jobId)?.status, 'running', 'still as the holder left it');
  again.close();
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('p.rrproj')), ['p.rrproj'], 'no -wal, -shm or lock left behind');
  assert.ok(readFileSync(file).equals(alone));
});

test('read-only open of a file that needs a migration refuses with NEEDS_UPGRADE and leaves it as it was', (t) => {
  const dir = tempDir(t);
  const file = newProject(dir);
  const db = new Database(file);
  db.pragma('user_version = 2');
  db.close();
  const bytes = readFileSync(file);
  assert.equal(code(() => Project.open(file, { readOnly: true })).code, 'NEEDS_UPGRADE');
  assert.ok(readFileSync(file).equals(bytes));
});

test('create in a missing folder: OUTPUT_UNWRITABLE naming it, and no lock file anywhere', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'missing', 'dir', 'x.rrproj');
  const err = code(() => Project.create(file, initFor(makeVideo(dir), 30)));
  assert.equal(err.code, 'OUTPUT_UNWRITABLE');
  assert.match(err.message, /the folder .*missing[/\\]dir does not exist/);
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.lock')), []);
});
