// The file itself: create/open round trip, refusing foreign and newer files, migrating older ones,
// atomic creation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  APPLICATION_ID,
  Project,
  ProjectError,
  SCHEMA_VERSION,
  migrations,
  type ProjectInit,
} from '../../src-main/project/index.ts';
import { initFor, makeVideo, pngBytes, tempDir } from './fixtures.ts';

function rejectsWith(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProjectError, `expected a ProjectError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('create then open round-trips source, settings and meta; close leaves one file', (t) => {
  const dir = tempDir(t);
  const video = makeVideo(dir);
  const file = path.join(dir, 'My Clip.rrproj');
  const init = initFor(video, 240, { prompt: 'a watercolor painting', steps: 30 });
  const p = Project.create(file, init);
  assert.equal(p.name, 'My Clip');
  assert.equal(p.schemaVersion, SCHEMA_VERSION);
  p.close();
  p.close(); // idempotent
  assert.deepEqual(readdirSync(dir).sort(), ['My Clip.rrproj', 'clip.mp4']);

  const q = Project.open(file);
  t.after(() => q.close());
  const src = q.source();
  assert.equal(src.path, video);
  assert.equal(src.size, init.source.size);
  assert.equal(src.mtimeMs, init.source.mtimeMs);
  assert.equal(src.sha256, init.source.sha256);
  assert.deepEqual(src.probe, init.probe);
  assert.deepEqual(src.working, init.working);
  assert.equal(q.frameCount, 240);
  assert.equal(q.settings().prompt, 'a watercolor painting');
  assert.equal(q.settings().steps, 30);
  assert.equal(q.settings().export.crf, 18);
  assert.match(q.meta('createdAt') ?? '', /^\d{4}-\d\d-\d\dT/);
  assert.equal(q.integrityCheck(), 'ok');
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
});

test('create refuses an existing file unless overwrite is set', (t) => {
  const dir = tempDir(t);
  const video = makeVideo(dir);
  const file = path.join(dir, 'a.rrproj');
  Project.create(file, initFor(video, 10)).close();
  rejectsWith(() => Project.create(file, initFor(video, 20)), 'EXISTS');
  const kept = Project.open(file);
  assert.equal(kept.frameCount, 10);
  kept.close();
  const p = Project.create(file, initFor(video, 20), { overwrite: true });
  assert.equal(p.frameCount, 20);
  p.close();
});

test('open refuses missing files, non-SQLite files and other SQLite databases', (t) => {
  const dir = tempDir(t);
  rejectsWith(() => Project.open(path.join(dir, 'nope.rrproj')), 'NOT_FOUND');

  const text = path.join(dir, 'notes.rrproj');
  writeFileSync(text, 'just some text, long enough to cover a whole SQLite header of 100 bytes '.repeat(3));
  rejectsWith(() => Project.open(text), 'NOT_A_PROJECT', /not an SQLite file/);
  const empty = path.join(dir, 'empty.rrproj');
  writeFileSync(empty, '');
  rejectsWith(() => Project.open(empty), 'NOT_A_PROJECT');

  const other = path.join(dir, 'other.rrproj');
  const db = new Database(other);
  db.pragma('application_id = 12345');
  db.exec('CREATE TABLE t (x INTEGER)');
  db.close();
  rejectsWith(() => Project.open(other), 'NOT_A_PROJECT', /another program/);
  // Refused without SQLite touching it: no WAL or SHM files appear next to it.
  assert.deepEqual(readdirSync(dir).sort(), ['empty.rrproj', 'notes.rrproj', 'other.rrproj']);
});

test('open refuses a file from a newer schema with a clear message and leaves it as it was', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'future.rrproj');
  Project.create(file, initFor(makeVideo(dir), 10)).close();
  const newer = SCHEMA_VERSION + 2;
  const db = new Database(file);
  db.pragma(`user_version = ${newer}`);
  db.close();
  rejectsWith(
    () => Project.open(file),
    'NEWER_VERSION',
    new RegExp(
      `made by a newer Rerender Studio \\(schema v${newer}\\); this build reads up to v${SCHEMA_VERSION}; update the app`,
    ),
  );
  const check = new Database(file, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), newer);
  check.close();
});

test('migrations are numbered 1..n with no gaps', () => {
  assert.deepEqual(
    migrations.map((m) => m.version),
    Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
  );
});

test('an old (v1) file is migrated forward and keeps its data', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'old.rrproj');
  const init = initFor(makeVideo(dir), 50);
  // Build a v1 file the way the first release did: migration 1 only.
  const db = new Database(file);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma('journal_mode = WAL');
  const v1 = migrations[0];
  assert.ok(v1);
  v1.up(db);
  db.pragma('user_version = 1');
  db.prepare("INSERT INTO settings (id, json, updated_at) VALUES (1, ?, '2024-01-01T00:00:00.000Z')").run(
    JSON.stringify({ prompt: 'old prompt' }),
  );
  db.prepare('INSERT INTO source (id, path, size, mtime_ms, sha256, probe, working) VALUES (1, ?, ?, ?, ?, ?, ?)').run(
    init.source.path,
    init.source.size,
    init.source.mtimeMs,
    init.source.sha256,
    JSON.stringify(init.probe),
    JSON.stringify(init.working),
  );
  db.prepare("INSERT INTO renders VALUES (7, ?, 'run-1', 'hash-a', '2024-01-01T00:00:00.000Z')").run(pngBytes(7));
  db.prepare(
    "INSERT INTO jobs (id, kind, status, created_at) VALUES ('j1', 'export', 'done', '2024-01-01T00:00:00.000Z')",
  ).run();
  db.close();

  const p = Project.open(file);
  t.after(() => p.close());
  assert.equal(p.schemaVersion, SCHEMA_VERSION);
  assert.equal(p.settings().prompt, 'old prompt');
  assert.equal(p.settings().steps, 20); // fields the old file lacked take their defaults
  assert.deepEqual(p.getRender(7)?.image, pngBytes(7));
  assert.deepEqual(p.renderedFrames('hash-a'), [7]);
  assert.deepEqual([...p.renderHashes()], [[7, 'hash-a']]);
  // v3 added jobs.output; the old job reads as null and the new column is writable.
  assert.equal(p.getJob('j1')?.output, null);
  assert.equal(p.updateJob('j1', { output: '/tmp/out.mp4' }).output, '/tmp/out.mp4');
  const check = new Database(file, { readonly: true });
  t.after(() => check.close());
  const indexes = (check.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map(
    (r) => r.name,
  );
  assert.ok(indexes.includes('renders_by_params'));
  assert.ok(indexes.includes('jobs_by_created'));
});

test('a failed create leaves neither the target nor the temp file', (t) => {
  const dir = tempDir(t);
  const video = makeVideo(dir);
  const file = path.join(dir, 'bad.rrproj');
  const tmp = `${file}.tmp-${process.pid}`;

  rejectsWith(
    () => Project.create(file, initFor(video, 10, { steps: -3 })),
    'INVALID_SETTINGS',
    /steps/,
  );
  assert.deepEqual(readdirSync(dir), ['clip.mp4']);

  // Fail once the temp database exists and has its schema: reading the probe happens mid-build.
  let tmpExisted = false;
  const init: ProjectInit = initFor(video, 10);
  const probe = init.probe;
  Object.defineProperty(init, 'probe', {
    get: () => {
      tmpExisted = existsSync(tmp);
      return { ...probe, frameCount: 0 };
    },
  });
  rejectsWith(() => Project.create(file, init), 'INVALID_ARGUMENT', /frameCount/);
  assert.ok(tmpExisted, 'the failure happened while the temp file existed');
  assert.deepEqual(readdirSync(dir), ['clip.mp4']);
});

test('create sweeps temp files left by dead processes', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'p.rrproj');
  const stale = `${file}.tmp-999999999`;
  writeFileSync(stale, 'half-made');
  writeFileSync(`${stale}-wal`, 'half-made');
  Project.create(file, initFor(makeVideo(dir), 10)).close();
  assert.deepEqual(readdirSync(dir).sort(), ['clip.mp4', 'p.rrproj']);
});
