// Renders, jobs and the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Project, ProjectError } from '../../src-main/project/index.ts';
import { initFor, makeVideo, pngBytes, tempDir } from './fixtures.ts';

function open(t: { after: (fn: () => void) => void }): { p: Project; file: string } {
  const dir = tempDir(t);
  const file = path.join(dir, 'r.rrproj');
  const p = Project.create(file, initFor(makeVideo(dir), 50));
  t.after(() => p.close());
  return { p, file };
}

test('renders: put, batch, query by params hash, count and delete', (t) => {
  const { p } = open(t);
  p.putRender(3, pngBytes(3), { runId: 'run-a', paramsHash: 'h1' });
  p.putRenders([1, 2, 4].map((f) => ({ frame: f, png: pngBytes(f), runId: 'run-b', paramsHash: 'h2' })));
  p.putRender(2, pngBytes(200), { runId: 'run-c', paramsHash: 'h1' }); // replaces
  assert.deepEqual(p.renderedFrames(), [1, 2, 3, 4]);
  assert.deepEqual(p.renderedFrames('h1'), [2, 3]);
  assert.deepEqual(p.renderedFrames('h2'), [1, 4]);
  assert.equal(p.renderCount(), 4);
  const r = p.getRender(2);
  assert.deepEqual(r?.image, pngBytes(200));
  assert.equal(r?.runId, 'run-c');
  assert.match(r?.createdAt ?? '', /^\d{4}-.*Z$/);
  assert.equal(p.getRender(0), null);

  // A batch with one bad item writes nothing.
  assert.throws(
    () =>
      p.putRenders([
        { frame: 10, png: pngBytes(10), runId: 'x', paramsHash: 'h3' },
        { frame: 50, png: pngBytes(50), runId: 'x', paramsHash: 'h3' },
      ]),
    (e: unknown) => e instanceof ProjectError && e.code === 'OUT_OF_RANGE',
  );
  assert.throws(
    () => p.putRender(10, pngBytes(10), { runId: '', paramsHash: 'h' }),
    (e: unknown) => e instanceof ProjectError && e.code === 'INVALID_ARGUMENT',
  );
  assert.equal(p.renderCount(), 4);

  assert.equal(p.deleteRenders([1, 2, 30]), 2);
  assert.deepEqual(p.renderedFrames(), [3, 4]);
  assert.equal(p.deleteRenders(), 2);
  assert.equal(p.renderCount(), 0);
});

test('jobs: create, update with timestamps, list newest first, validation', (t) => {
  const { p } = open(t);
  const a = p.createJob({ kind: 'propagate', total: 50, params: { frames: [0, 49] } });
  assert.match(a.id, /^[0-9a-f-]{36}$/);
  assert.equal(a.status, 'queued');
  assert.deepEqual(a.params, { frames: [0, 49] });
  const running = p.updateJob(a.id, { status: 'running', device: 'cpu' });
  assert.ok(running.startedAt);
  assert.equal(running.finishedAt, null);
  p.updateJob(a.id, { done: 20, note: 'frame 20' });
  const done = p.updateJob(a.id, { status: 'done', done: 50 });
  assert.ok(done.finishedAt);
  assert.equal(p.getJob(a.id)?.done, 50);
  assert.equal(p.getJob(a.id)?.device, 'cpu');

  const b = p.createJob({ kind: 'export', id: 'export-1' });
  assert.deepEqual(p.listJobs().map((j) => j.id), [b.id, a.id]);
  assert.deepEqual(p.listJobs({ status: 'done' }).map((j) => j.id), [a.id]);
  assert.deepEqual(p.listJobs({ kind: 'export' }).map((j) => j.id), ['export-1']);

  const code = (fn: () => unknown, c: string) =>
    assert.throws(fn, (e: unknown) => e instanceof ProjectError && e.code === c, c);
  code(() => p.createJob({ kind: 'export', id: 'export-1' }), 'EXISTS');
  code(() => p.updateJob('nope', { done: 1 }), 'NOT_FOUND');
  code(() => p.updateJob(a.id, { status: 'finished' as 'done' }), 'INVALID_ARGUMENT');
  code(() => p.updateJob(a.id, { done: -1 }), 'INVALID_ARGUMENT');
  assert.equal(p.getJob('nope'), null);
});

test('a job left running by a dead process is marked cancelled (interrupted) on open', (t) => {
  const { p, file } = open(t);
  const j = p.createJob({ kind: 'propagate', total: 10 });
  p.updateJob(j.id, { status: 'running', done: 4 });
  const q = p.createJob({ kind: 'export' });
  p.close();
  const reopened = Project.open(file);
  t.after(() => reopened.close());
  assert.equal(reopened.interruptedJobs, 1);
  const after = reopened.getJob(j.id);
  assert.equal(after?.status, 'cancelled');
  assert.equal(after?.note, 'interrupted');
  assert.equal(after?.done, 4);
  assert.ok(after?.finishedAt);
  assert.equal(reopened.getJob(q.id)?.status, 'queued');
});

test('cache: put, get with meta, keys, delete one and by kind', (t) => {
  const { p, file } = open(t);
  const flow = new Uint8Array(64 * 64 * 2 * 4).map((_, i) => i % 251);
  p.putCache('flow', '3->4', flow, { width: 64, height: 64, format: 'f32x2' });
  p.putCache('flow', '4->5', new Uint8Array([1, 2, 3]));
  p.putCache('thumbnails', 'strip', new Uint8Array([9]));
  const e = p.getCache('flow', '3->4');
  assert.deepEqual(new Uint8Array(e?.data ?? []), flow);
  assert.deepEqual(e?.meta, { width: 64, height: 64, format: 'f32x2' });
  assert.equal(p.getCache('flow', '4->5')?.meta, null);
  assert.deepEqual(p.cacheKeys('flow'), ['3->4', '4->5']);
  assert.equal(p.deleteCache('flow', '4->5'), 1);
  assert.equal(p.deleteCache('flow'), 1);
  assert.equal(p.getCache('flow', '3->4'), null);
  assert.deepEqual(p.getCache('thumbnails', 'strip')?.data, Buffer.from([9]));
  // Blobs live in the file itself.
  p.close();
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  assert.equal((db.prepare('SELECT count(*) AS n FROM cache').get() as { n: number }).n, 1);
});
