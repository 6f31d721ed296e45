// Damaged project files end in exit 3 (DAMAGED) with a message saying what is damaged, never in
// exit 1 ("a bug"), a hang or a stack trace; a new project in a missing folder is exit 4.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, readFileSync, statSync, truncateSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Project } from '../../src-main/project/index.ts';
import { errorCode, exitCodeFor } from '../../src-main/cli/errors.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { initFor, makeVideo, pngBytes } from '../project/fixtures.ts';
import { jsonLines, runCli } from './run-cli.ts';

let dir = '';
let n = 0;
before(async () => {
  dir = await makeTempDir('rerender-damage-');
});
after(async () => removeDir(dir));

/** A 30-frame project with a key frame and 20 renders, so it spans many pages. */
function project(): string {
  const file = path.join(dir, `d${++n}.rrproj`);
  const p = Project.create(file, initFor(makeVideo(dir, `v${n}.mp4`), 30));
  p.setKeyframeImage(0, pngBytes(1), 'edited', null);
  p.putRenders(Array.from({ length: 20 }, (_, i) => ({ frame: i, png: pngBytes(i, 6000), runId: 'r', paramsHash: 'h' })));
  p.close();
  return file;
}

function sql(file: string, statement: string): void {
  const db = new Database(file);
  db.exec(statement);
  db.close();
}

async function expectDamaged(file: string, args: string[], message: RegExp): Promise<void> {
  const r = await runCli([...args, '--json']);
  assert.equal(r.code, 3, r.stderr);
  const err = [...jsonLines(r.stderr), ...jsonLines(r.stdout)].find((l) => l.type === 'error');
  if (process.env.SHOW_MESSAGES) console.log(err?.message);
  assert.equal(err?.code, 'DAMAGED', r.stderr);
  assert.match(String(err?.message), message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('a truncated file: exit 3, cut off', async () => {
  const file = project();
  truncateSync(file, Math.floor(statSync(file).size / 2));
  await expectDamaged(file, ['info', file], /is damaged: it is cut off/);
  truncateSync(file, 50);
  await expectDamaged(file, ['info', file], /cut off after 50 bytes/);
});

test('overwritten pages: exit 3 with SQLite\'s message', async () => {
  const file = project();
  const pageSize = readFileSync(file).readUInt16BE(16);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(pageSize * 3, 0xa5), 0, pageSize * 3, pageSize);
  closeSync(fd);
  await expectDamaged(file, ['info', file], /is damaged: SQLite reports "database disk image is malformed" \(SQLITE_CORRUPT\)/);
});

test('broken probe JSON, broken settings JSON: exit 3 naming the part and what the file still holds', async () => {
  const a = project();
  sql(a, `UPDATE source SET probe = '{"width": 19'`);
  await expectDamaged(a, ['info', a], /the stored probe of the source video cannot be read.*still holds 1 key frame\(s\) \(1 with an image\) and 20 rendered frame\(s\)/);
  const b = project();
  sql(b, `UPDATE settings SET json = '{"steps": '`);
  await expectDamaged(b, ['keyframes', b, '--every', '5'], /the stored settings cannot be read \(/);
  const c = project();
  sql(c, `UPDATE settings SET json = json_set(json, '$.steps', -4)`);
  await expectDamaged(c, ['info', c], /the stored settings did not pass the checks \(steps:/);
});

test('an absurd frame count or frames beyond it: exit 3 at once, no hang', async () => {
  const a = project();
  sql(a, `UPDATE source SET probe = json_set(probe, '$.frameCount', 1e12)`);
  const t0 = Date.now();
  await expectDamaged(a, ['keyframes', a, '--every', '1'], /frameCount: .*2000000/);
  await expectDamaged(a, ['info', a], /frameCount/);
  assert.ok(Date.now() - t0 < 5000);
  const b = project();
  sql(b, `UPDATE source SET probe = json_set(probe, '$.frameCount', 10)`);
  await expectDamaged(b, ['info', b], /a render is stored for frame 19, but the source has frames 0 to 9/);
});

test('a probe that disagrees with the video itself: exit 3 before any work', async () => {
  const clip = await makeClip(dir, { frames: 12, width: 64, height: 48, fps: { num: 12, den: 1 } });
  const file = path.join(dir, 'real.rrproj');
  assert.equal((await runCli(['init', clip, '-o', file, '--size', '64'])).code, 0);
  sql(file, `UPDATE source SET probe = json_set(probe, '$.frameCount', 100000)`);
  await expectDamaged(file, ['export', file, path.join(dir, 'out.mp4')], /says 100000 frames, but the video's header says 12/);
  sql(file, `UPDATE source SET probe = json_set(probe, '$.frameCount', 12, '$.width', 640)`);
  await expectDamaged(file, ['export', file, path.join(dir, 'out.mp4')], /a 640×48 picture, but the video's is 64×48/);
});

test('SQLite corruption met by any later query maps to DAMAGED, exit 3', () => {
  for (const code of ['SQLITE_CORRUPT', 'SQLITE_CORRUPT_INDEX', 'SQLITE_NOTADB', 'SQLITE_IOERR_SHORT_READ']) {
    const e = Object.assign(new Error('database disk image is malformed'), { code });
    assert.equal(errorCode(e), 'DAMAGED');
    assert.equal(exitCodeFor(e), 3);
  }
  assert.equal(exitCodeFor(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' })), 1);
});

test('init into a missing folder: exit 4, the folder named, nothing created', async () => {
  const video = makeVideo(dir, 'any.mp4');
  const out = path.join(dir, 'missing', 'dir', 'x.rrproj');
  const r = await runCli(['init', video, '-o', out, '--json']);
  assert.equal(r.code, 4, r.stderr);
  const err = [...jsonLines(r.stderr), ...jsonLines(r.stdout)].find((l) => l.type === 'error');
  assert.equal(err?.code, 'OUTPUT_UNWRITABLE');
  assert.match(String(err?.message), /the folder .*missing[/\\]dir does not exist/);
});
