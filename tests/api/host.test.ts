// The services host as the UI sees it: validated requests, events, jobs and media routes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createApiHost, type ApiHost } from '../../src-main/api/host.ts';
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import { decodePng, encodePng } from '../../src-main/media/index.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { waitForJob } from '../helpers/jobs.ts';

let dir = '';
let clip = '';
let host: ApiHost;

before(async () => {
  dir = await makeTempDir('rerender-host-');
  clip = await makeClip(dir, { frames: 24, width: 256, height: 192, fps: { num: 24, den: 1 }, audio: true });
  host = createApiHost({ dataDir: path.join(dir, 'data'), env: process.env });
});
after(async () => {
  await host.dispose();
  await removeDir(dir);
});

test('requests are validated before anything runs', async () => {
  await assert.rejects(host.call('addKeyframe', [-1]), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(host.call('nope', []), (e: Error & { code?: string }) => e.code === 'UNKNOWN_REQUEST');
  await assert.rejects(host.call('addKeyframe', [1]), (e: Error & { code?: string }) => e.code === 'NO_PROJECT');
  const caps = (await host.call('capabilities', [])) as { ffmpeg: { available: boolean }; translate: { available: boolean; message: string } };
  assert.equal(caps.ffmpeg.available, true);
  assert.equal(caps.translate.available, false);
  assert.match(caps.translate.message, /Open a project first/);
});

test('createProject only makes a new .rrproj in an existing folder, checked before the video is read', async () => {
  const code = (c: string) => (e: Error & { code?: string }) => e.code === c;
  const create = (projectPath: string) => host.api.createProject({ videoPath: clip, projectPath });
  await assert.rejects(create(path.join(dir, 'evil.sh')), code('INVALID_ARGUMENT'));
  await assert.rejects(create(path.join(dir, '.rrproj')), code('INVALID_ARGUMENT'));
  await assert.rejects(create('relative.rrproj'), code('INVALID_ARGUMENT'));
  await assert.rejects(create(path.join(dir, 'no-such-folder', 'p.rrproj')), code('OUTPUT_UNWRITABLE'));
  const taken = path.join(dir, 'taken.rrproj');
  writeFileSync(taken, 'not mine');
  await assert.rejects(create(taken), code('EXISTS'));
  assert.equal(readFileSync(taken, 'utf8'), 'not mine', 'an existing file is never replaced');
  assert.equal(existsSync(path.join(dir, 'evil.sh')), false);
  assert.equal(await host.api.project(), null);
  await assert.rejects(host.api.revealFile('relative/file'), code('INVALID_ARGUMENT'));
  await assert.rejects(host.api.revealFile(path.join(dir, 'missing.mp4')), code('NOT_FOUND'));
});

test('a project made from an upload is recorded, so the upload clean-up keeps its source', async () => {
  const dataDir = path.join(dir, 'data-uploads');
  mkdirSync(path.join(dataDir, 'uploads'), { recursive: true });
  const uploaded = path.join(dataDir, 'uploads', 'clip.mp4');
  copyFileSync(clip, uploaded);
  const own = createApiHost({ dataDir, env: process.env });
  try {
    const projectPath = path.join(dir, 'from-upload.rrproj');
    await own.api.createProject({ videoPath: uploaded, projectPath, shortSide: 64 });
    assert.deepEqual(JSON.parse(readFileSync(path.join(dataDir, 'upload-sources.json'), 'utf8')), { [projectPath]: uploaded });
  } finally {
    await own.dispose();
  }
});

test('create a project, edit key frames, serve media, export with progress', async () => {
  const projectPath = path.join(dir, 'h.rrproj');
  const strip = waitForJob(host, (j) => j.kind === 'thumbnails' && j.status === 'done');
  const events: ProjectSummary[] = [];
  const off = host.api.on('project', (p) => events.push(p));
  const s = await host.api.createProject({ videoPath: clip, projectPath, shortSide: 128 });
  assert.equal(s.source.frameCount, 24);
  assert.deepEqual(s.working, { width: 192, height: 128 });
  assert.equal(s.source.linked, true);
  assert.deepEqual(await host.api.recentProjects(), [projectPath]);

  await host.api.addKeyframe(0);
  const s2 = await host.api.addKeyframe(12);
  assert.deepEqual(s2.keyframes.map((k) => k.frame), [0, 12]);
  assert.ok(events.length >= 2, 'edits are pushed as project events');
  off();

  // Source frame at the working size, with a validator and byte ranges.
  const full = await host.media('frame/source/5.png', {});
  assert.equal(full.status, 200);
  const img = decodePng(full.body!);
  assert.deepEqual([img.width, img.height], [192, 128]);
  const etag = full.headers.etag!;
  assert.equal((await host.media('frame/source/5.png', { ifNoneMatch: etag })).status, 304);
  const part = await host.media('frame/source/5.png', { range: 'bytes=0-9' });
  assert.equal(part.status, 206);
  assert.equal(part.body!.length, 10);
  assert.equal(part.headers['content-range'], `bytes 0-9/${full.body!.length}`);
  assert.equal((await host.media('frame/source/5.png', { range: 'bytes=999999-' })).status, 416);
  assert.notEqual(decodePng((await host.media('frame/source/6.png', {})).body!).data.join(), img.data.join(), 'frames differ');
  assert.equal((await host.media('frame/source/24.png', {})).status, 404);
  assert.equal((await host.media('../../etc/passwd', {})).status, 404);

  // A painted mask is stored as grey at the working size and served back.
  const rgba = new Uint8Array(192 * 128 * 4);
  for (let i = 0; i < 192 * 128; i++) {
    const x = i % 192;
    const v = x < 96 ? 255 : 0;
    rgba.set([v, v, v, 255], i * 4);
  }
  await assert.rejects(host.api.setKeyframeMask(3, encodePng(rgba, 192, 128, 4)), /not a key frame/);
  const s3 = await host.api.setKeyframeMask(12, encodePng(rgba, 192, 128, 4));
  assert.equal(s3.keyframes.find((k) => k.frame === 12)!.hasMask, true);
  const mask = decodePng((await host.media('frame/mask/12.png', {})).body!);
  assert.equal(mask.channels, 1);
  assert.equal(mask.data[10], 255);
  assert.equal(mask.data[150], 0);

  // An edited key frame from PNG bytes.
  const edited = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=blue:size=192x128', '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', 'pipe:1']);
  const s4 = await host.api.importKeyframeImage(12, new Uint8Array(edited));
  assert.equal(s4.keyframes.find((k) => k.frame === 12)!.state, 'edited');
  assert.equal((await host.media('frame/keyframe/12.png', {})).status, 200);
  assert.equal((await host.media('frame/render/3.png', {})).status, 404);

  await strip;
  assert.equal((await host.media('thumbnails.png', {})).status, 200);

  await assert.rejects(host.api.startJob({ kind: 'translate' }), (e: Error & { code?: string }) => e.code === 'ENGINE_UNAVAILABLE');
  const out = path.join(dir, 'h.mp4');
  const finished = waitForJob(host, (j) => j.kind === 'export' && j.status !== 'running');
  const progress: number[] = [];
  const offJob = host.api.on('job', (j) => { if (j.kind === 'export') progress.push(j.done); });
  const started = await host.api.startJob({ kind: 'export', outPath: out });
  assert.equal(started.status, 'running');
  const done = await finished;
  offJob();
  assert.equal(done.status, 'done', done.error ?? '');
  assert.equal(done.done, 24);
  assert.equal(done.output, out);
  assert.match(done.note ?? '', /23 of 24 frames had no render/);
  assert.ok(progress.length >= 2);
  assert.ok(existsSync(out));
  const jobs = await host.api.listJobs();
  assert.ok(jobs.some((j) => j.id === started.id && j.status === 'done'));
});

test('a propagation job renders every frame with progress, and renders are served', async () => {
  const caps = await host.api.capabilities();
  assert.equal(caps.propagate.available, true, caps.propagate.message ?? '');
  const finished = waitForJob(host, (j) => j.kind === 'propagate' && j.status !== 'running', 120_000);
  const started = await host.api.startJob({ kind: 'propagate' });
  assert.equal(started.device?.startsWith('cpu (native'), true);
  const done = await finished;
  assert.equal(done.status, 'done', done.error ?? '');
  assert.equal(done.done, done.total);
  const p = (await host.api.project())!;
  assert.equal(p.renderedFrames, 24);
  const r = await host.media('frame/render/5.png', {});
  assert.equal(r.status, 200);
  assert.deepEqual([decodePng(r.body!).width, decodePng(r.body!).height], [192, 128]);
});

test('a cancelled export is recorded as cancelled and leaves no file', async () => {
  const out = path.join(dir, 'c.mp4');
  const started = await host.api.startJob({ kind: 'export', outPath: out });
  const cancelled = await host.api.cancelJob(started.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(existsSync(out), false);
});

test('a project with no model set takes the checkpoint and ControlNet the models folder holds, as the CLI does', async () => {
  const models = path.join(dir, 'found-models');
  const fixtures = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
  cpSync(path.join(fixtures, 'tiny-sd'), path.join(models, 'checkpoints', 'tiny-sd'), { recursive: true });
  cpSync(path.join(fixtures, 'tiny-controlnet'), path.join(models, 'controlnet', 'control_v11p_sd15_canny'), { recursive: true });
  // Nothing of this machine's: only the folder above.
  const env = { ...process.env, HOME: path.join(dir, 'found-home'), HF_HOME: path.join(dir, 'found-hf'), HF_HUB_CACHE: undefined, RERENDER_MODEL_ROOTS: undefined, RERENDER_MODELS: undefined, RERENDER_MODELS_DIR: models };
  const own = createApiHost({ dataDir: path.join(dir, 'found-data'), env });
  try {
    const s = await own.api.createProject({ videoPath: clip, projectPath: path.join(dir, 'found.rrproj'), shortSide: 64 });
    assert.equal(s.settings.model, path.join(models, 'checkpoints', 'tiny-sd'));
    assert.equal(s.settings.controlnetModel, path.join(models, 'controlnet', 'control_v11p_sd15_canny'));
  } finally {
    await own.dispose();
  }
});
