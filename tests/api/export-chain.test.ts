// Render status through the host, and export never mixing with a propagation: refused while one
// runs, or chained after it ("Propagate first, then export"), cancelled with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createApiHost, type ApiHost } from '../../src-main/api/host.ts';
import type { JobInfo, ProjectSummary } from '../../src-main/api/contract.ts';
import { encodePng } from '../../src-main/media/index.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { waitForJob } from '../helpers/jobs.ts';
import { liveRenderStatus } from '../../src-main/api/live-status.ts';

let dir = '';
let host: ApiHost;
let project: ProjectSummary;
const N = 8;

before(async () => {
  dir = await makeTempDir('rerender-chain-');
  const clip = await makeClip(dir, { frames: N, width: 96, height: 64, fps: { num: 24, den: 1 } });
  host = createApiHost({ dataDir: path.join(dir, 'data'), env: process.env });
  project = await host.api.createProject({ videoPath: clip, projectPath: path.join(dir, 'c.rrproj'), shortSide: 64 });
  const { width, height } = project.working;
  const rgb = new Uint8Array(width * height * 3).map((_, i) => (i * 7) & 255);
  await host.api.addKeyframe(0);
  project = await host.api.importKeyframeImage(0, encodePng(rgb, width, height, 3));
});
after(async () => {
  await host.dispose();
  await removeDir(dir);
});

const ended = (kind: JobInfo['kind'], id?: string) => (j: JobInfo) => j.kind === kind && (id === undefined || j.id === id) && j.status !== 'running' && j.status !== 'queued';
const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

test('the summary carries the render status: missing, rendering while a propagation runs, then rendered, then stale', async () => {
  assert.deepEqual(project.renderStatus?.counts, { rendered: 0, stale: 0, missing: N, rendering: 0 });
  const seen: ProjectSummary[] = [];
  const off = host.api.on('project', (p) => seen.push(p));
  const finished = waitForJob(host, ended('propagate'), 60_000);
  await host.api.startJob({ kind: 'propagate' });
  // Told at once: every frame is about to be rendered.
  assert.equal(seen[0]?.renderStatus?.counts.rendering, N);
  // No export beside it: it would mix old and new frames.
  await assert.rejects(host.api.startJob({ kind: 'export', outPath: path.join(dir, 'mixed.mp4') }), code('PROPAGATION_RUNNING'));
  assert.equal((await finished).status, 'done');
  off();
  let p = (await host.api.project())!;
  assert.deepEqual(p.renderStatus?.counts, { rendered: N, stale: 0, missing: 0, rendering: 0 });
  p = await host.api.updateSettings({ propagation: { patchSize: (p.settings.propagation as { patchSize: number }).patchSize + 2 } });
  assert.deepEqual(p.renderStatus?.counts, { rendered: 0, stale: N, missing: 0, rendering: 0 });
  assert.equal(p.renderedFrames, N, 'renderedFrames still counts the stored renders');
  assert.deepEqual(p.renderStatus?.spans, [{ start: 0, end: N - 1, state: 'stale' }]);
});

test('propagate first, then export: the export waits, then writes fresh frames', async () => {
  const out = path.join(dir, 'chained.mp4');
  const exported = waitForJob(host, ended('export'), 60_000);
  const exp = await host.api.startJob({ kind: 'export', outPath: out, propagateFirst: true });
  assert.equal(exp.kind, 'export');
  const prop = (await host.api.listJobs()).find((j) => j.kind === 'propagate' && j.status === 'running');
  assert.ok(prop, 'a propagation was started first');
  const done = await exported;
  assert.equal(done.status, 'done', done.error ?? done.note ?? '');
  assert.equal((await host.api.listJobs()).find((j) => j.id === prop.id)?.status, 'done', 'the export ended after its propagation');
  assert.ok(existsSync(out));
  assert.deepEqual((await host.api.project())!.renderStatus?.counts, { rendered: N, stale: 0, missing: 0, rendering: 0 });
});

test('cancelling the propagation cancels the export that waits for it, and the other way round', async () => {
  let p = (await host.api.project())!;
  await host.api.updateSettings({ propagation: { patchSize: (p.settings.propagation as { patchSize: number }).patchSize + 2 } });
  const out = path.join(dir, 'never.mp4');
  let exportEnd = waitForJob(host, ended('export'), 60_000);
  await host.api.startJob({ kind: 'export', outPath: out, propagateFirst: true });
  let prop = (await host.api.listJobs()).find((j) => j.kind === 'propagate' && j.status === 'running')!;
  await host.api.cancelJob(prop.id);
  let e = await exportEnd;
  assert.equal(e.status, 'cancelled');
  assert.match(e.note ?? '', /propagation was cancelled/);
  assert.equal(existsSync(out), false);

  exportEnd = waitForJob(host, ended('export'), 60_000);
  const exp = await host.api.startJob({ kind: 'export', outPath: out, propagateFirst: true });
  prop = (await host.api.listJobs()).find((j) => j.kind === 'propagate' && j.status === 'running')!;
  const propEnd = waitForJob(host, ended('propagate', prop.id), 60_000);
  await host.api.cancelJob(exp.id);
  e = await exportEnd;
  assert.equal(e.status, 'cancelled');
  assert.equal((await propEnd).status, 'cancelled', 'the propagation started for this export goes with it');
  assert.equal(existsSync(out), false);
  p = (await host.api.project())!;
  assert.equal(p.renderStatus?.counts.rendering, 0);
});

test('an existing output file is refused before any propagation starts', async () => {
  const before = (await host.api.listJobs()).length;
  await assert.rejects(host.api.startJob({ kind: 'export', outPath: path.join(dir, 'chained.mp4'), propagateFirst: true }), code('OUTPUT_EXISTS'));
  assert.equal((await host.api.listJobs()).length, before);
});

test('while a propagation runs the summary is sent again at most once per interval', () => {
  let t = 0;
  let ticks = 0;
  const tick = liveRenderStatus(() => ticks++, 1000, () => t);
  const job: JobInfo = { id: 'p', kind: 'propagate', status: 'running', done: 1, total: 9, etaSeconds: null, device: null, note: null, error: null, output: null };
  tick({ ...job, done: 0 }); // nothing rendered yet
  assert.equal(ticks, 0);
  tick(job);
  t = 500;
  tick(job);
  assert.equal(ticks, 1);
  t = 1000;
  tick(job);
  tick({ ...job, kind: 'export' });
  t = 5000;
  tick({ ...job, status: 'done' }); // the end is sent by the job's own change
  assert.equal(ticks, 2);
});
