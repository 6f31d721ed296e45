// Export never replaces a file by surprise: the open project never, other non-videos only with
// --force (CLI) or `overwrite` (API, after the editor asked). Through main() and the API host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createApiHost } from '../../src-main/api/host.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { waitForJob } from '../helpers/jobs.ts';
import { runCli } from '../cli/run-cli.ts';

let dir = '';
let proj = '';

before(async () => {
  dir = await makeTempDir('rerender-export-ow-');
  const clip = await makeClip(dir, { frames: 4, width: 64, height: 48, fps: { num: 24, den: 1 } });
  proj = path.join(dir, 'p.rrproj');
  const r = await runCli(['init', clip, '-o', proj, '--size', '64']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => removeDir(dir));

const isMp4 = (file: string): boolean => readFileSync(file).subarray(4, 8).toString('latin1') === 'ftyp';

test('CLI: the project itself is refused (exit 3), even with --force or through a link, and stays intact', async () => {
  const before = readFileSync(proj);
  for (const args of [[proj], [proj, '--force']]) {
    const r = await runCli(['export', proj, ...args]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /open project/);
  }
  const link = path.join(dir, 'link.mp4');
  symlinkSync(proj, link);
  const r = await runCli(['export', proj, link, '--force']);
  assert.equal(r.code, 3, r.stderr);
  assert.deepEqual(readFileSync(proj), before, 'the project is byte-identical');
  assert.equal((await runCli(['info', proj])).code, 0, 'the project still opens');
});

test('CLI: a non-video is refused unless --force; an existing video is replaced', async () => {
  const notes = path.join(dir, 'notes.txt');
  writeFileSync(notes, 'my notes\n');
  let r = await runCli(['export', proj, notes]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /'notes\.txt' already exists and is not a video.*--force/);
  assert.equal(readFileSync(notes, 'utf8'), 'my notes\n');

  // Another project (a SQLite file) is refused the same way.
  const other = path.join(dir, 'other.rrproj');
  copyFileSync(proj, other);
  const otherBytes = readFileSync(other);
  r = await runCli(['export', proj, other]);
  assert.equal(r.code, 3, r.stderr);
  assert.deepEqual(readFileSync(other), otherBytes);

  r = await runCli(['export', proj, notes, '--force']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(isMp4(notes), '--force replaced the text file with the video');

  const video = path.join(dir, 'out.mp4');
  writeFileSync(video, Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(12)]));
  r = await runCli(['export', proj, video]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(video).length > 32, 'the old video was replaced');
});

test('API: an existing file is OUTPUT_EXISTS unless overwrite; the open project never', async () => {
  const host = createApiHost({ dataDir: path.join(dir, 'data'), env: process.env });
  try {
    const apiProj = path.join(dir, 'api.rrproj');
    copyFileSync(proj, apiProj);
    await host.api.openProject(apiProj);
    const video = path.join(dir, 'api.mp4');
    writeFileSync(video, Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(12)]));
    const old = readFileSync(video);
    const jobsBefore = (await host.api.listJobs()).filter((j) => j.kind === 'export').length;

    const code = (e: unknown) => (e as { code?: string }).code;
    await assert.rejects(host.api.startJob({ kind: 'export', outPath: video }), (e) => code(e) === 'OUTPUT_EXISTS');
    await assert.rejects(host.api.startJob({ kind: 'export', outPath: apiProj, overwrite: true }), (e) => code(e) === 'OUTPUT_EXISTS');
    assert.deepEqual(readFileSync(video), old);
    assert.equal((await host.api.listJobs()).filter((j) => j.kind === 'export').length, jobsBefore, 'a refused export records no job');

    const finished = waitForJob(host, (j) => j.kind === 'export' && j.status !== 'running' && j.status !== 'queued');
    await host.api.startJob({ kind: 'export', outPath: video, overwrite: true });
    const job = await finished;
    assert.equal(job.status, 'done', job.error ?? '');
    assert.ok(isMp4(video) && readFileSync(video).length > old.length);

    const fresh = path.join(dir, 'fresh.mp4');
    const done2 = waitForJob(host, (j) => j.kind === 'export' && j.output === fresh && j.status === 'done');
    await host.api.startJob({ kind: 'export', outPath: fresh });
    await done2;
    assert.ok(existsSync(fresh));
  } finally {
    await host.dispose();
  }
});
