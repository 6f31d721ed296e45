// The export as a farm job, without Redis: the owner prepares it (artifacts + manifest), a worker
// runs it from artifacts only (some frames' renders coming from its "children"), the owner ingests
// the MP4. Its frames must be those of a local `rerender export` of the same project.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { locateTools, type MediaTools } from '../../src-main/media/index.ts';
import { Project } from '../../src-main/project/index.ts';
import { FolderArtifactStore, sha256 } from '../../src-main/farm/artifacts.ts';
import { HttpArtifactStore, serveArtifacts } from '../../src-main/farm/http-store.ts';
import { childFramesOf, exportJobSchema, ingestExport, prepareExportJob, runExportJob, type ExportJobData } from '../../src-main/farm/export-job.ts';
import { parseOrThrow } from '../../src-main/farm/schemas.ts';
import { projectFiles } from '../../src-main/studio/export.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { runCli } from '../cli/run-cli.ts';

const FRAMES = 8;
const KEYS = [0, 7];
/** Frames the "farm" renders: their renders reach the export only through childFrames. */
const FARM = [1, 2, 4];
const ident = { key: '0123456789abcdef', name: 'p' };
const shot = { index: 0, first: 0, last: FRAMES - 1 };

let dir = '';
let proj = '';
let store: FolderArtifactStore;
let tools: MediaTools;
let job: ExportJobData;
const children = new Map<number, string>();
const localMp4 = () => path.join(dir, 'local.mp4');

async function cli(args: string[]): Promise<void> {
  const r = await runCli(args);
  assert.equal(r.code, 0, `rerender ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
}

function rgbOf(file: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 26 });
}

function streamsOf(file: string): string {
  return execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'csv=p=0', file]).toString().trim();
}

const deps = (over: Partial<Parameters<typeof runExportJob>[1]> = {}): Parameters<typeof runExportJob>[1] => ({
  store, worker: 'w1', device: 'cpu', childFrames: children, tools, scratchDir: dir, ...over,
});

before(async () => {
  dir = await makeTempDir('rerender-farm-export-');
  tools = await locateTools({ env: process.env });
  store = new FolderArtifactStore(path.join(dir, 'store'));
  const clip = await makeClip(dir, { frames: FRAMES, width: 64, height: 48, fps: { num: 25, den: 1 }, audio: true });
  proj = path.join(dir, 'p.rrproj');
  await cli(['init', clip, '-o', proj, '--size', '64']);
  await cli(['keyframes', proj, '--set', KEYS.join(',')]);
  for (const k of KEYS) {
    const png = path.join(dir, `k${k}.png`);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-vf', `select=eq(n\\,${k}),hue=h=${60 + k * 20}:s=2`, '-frames:v', '1', png]);
    await cli(['keyframe', proj, '--frame', String(k), '--import', png]);
  }
  await cli(['propagate', proj]);
  const p = Project.open(proj);
  try {
    // Frame 3 shows the source and frame 7 its key frame's image: every kind of frame is in.
    p.deleteRenders([3, 7]);
    for (const f of FARM) children.set(f, await store.put(p.getRender(f)!.image));
    job = await prepareExportJob(p, store, { outPath: path.join(dir, 'farm.mp4') }, ident, shot, new Map(FARM.map((f) => [f, 'farm' as const])), { tools });
  } finally {
    p.close();
  }
  await cli(['export', proj, localMp4()]);
});
after(async () => removeDir(dir));

test('a farm export gives the frames of a local export, from artifacts only', async (t) => {
  const manifest = JSON.parse(new TextDecoder().decode(await store.get(job.manifest))) as { frames: { farm: boolean; render: string | null; keyframe: string | null }[] };
  assert.deepEqual(manifest.frames.map((f) => (f.farm ? 'farm' : f.render ? 'render' : f.keyframe ? 'key' : 'source')), ['render', 'farm', 'farm', 'source', 'farm', 'render', 'render', 'key']);
  const p = Project.openReadOnly(proj);
  const video = p.source().path;
  const protect = projectFiles(p);
  p.close();
  assert.equal(job.video.hash, sha256(await readFile(video)), 'the source video is in the store by content');
  assert.equal(job.outName, 'farm.mp4');

  const progress: number[] = [];
  // The children's results, as BullMQ's getChildrenValues() gives them.
  const result = await runExportJob(job, deps({
    childFrames: childFramesOf({
      'bull:farm:a': { frames: [1, 2].map((f) => ({ frame: f, paramsHash: 'params-hash', png: children.get(f)! })), worker: 'w2', device: 'cpu', ms: 5 },
      'bull:farm:b': { frames: [{ frame: 4, paramsHash: 'params-hash', png: children.get(4)! }], worker: 'w3', device: 'cpu', ms: 5 },
    }),
    onProgress: (done) => progress.push(done),
  }));
  assert.equal(result.frames, FRAMES);
  assert.deepEqual([result.fromRenders, result.fromKeyframes, result.fromSource, result.audio], [6, 1, 1, true]);
  assert.ok(progress.length > 0 && progress.at(-1) === FRAMES, 'progress reaches the total');

  await assert.rejects(ingestExport({ ...result, frames: 3 }, store, path.join(dir, 'farm.mp4'), 'videos', { protect, job }), { code: 'BAD_JOB' });
  const out = await ingestExport(result, store, path.join(dir, 'farm.mp4'), 'videos', { protect, job });
  assert.equal(out.bytes, (await readFile(out.out)).length);
  assert.equal(streamsOf(out.out), streamsOf(localMp4()), 'same streams (video size, sound)');
  const farmRgb = rgbOf(out.out);
  const localRgb = rgbOf(localMp4());
  assert.equal(farmRgb.length, localRgb.length);
  assert.ok(farmRgb.equals(localRgb), 'the decoded frames are identical to the local export\'s');
  const same = (await readFile(out.out)).equals(await readFile(localMp4()));
  t.diagnostic(`MP4 bytes identical to the local export: ${same} (${out.bytes} bytes)`);

  // The children's renders really are used: without them the export is refused, not made from the source.
  const partial = new Map(children);
  partial.delete(2);
  await assert.rejects(runExportJob(job, deps({ childFrames: partial })), (e: Error & { code?: string }) => e.code === 'JOB_FAILED' && /frame\(s\) 2 of shot 0/.test(e.message));
});

test('over HTTP (no shared disk) the worker streams the video in and the MP4 out: the same MP4', async () => {
  const token = 'export-test-token-0123456789';
  const served = await serveArtifacts(store, { token, port: 0, host: '127.0.0.1' });
  try {
    const first = await runExportJob(job, deps());
    const remote = await runExportJob(job, deps({ store: new HttpArtifactStore(served.url, token) }));
    assert.equal(remote.mp4, first.mp4, 'the same bytes wherever it runs');
    const copy = path.join(dir, 'fetched.bin');
    await new HttpArtifactStore(served.url, token).getToFile(job.video.hash, copy);
    assert.equal(sha256(await readFile(copy)), job.video.hash);
    await assert.rejects(new HttpArtifactStore(served.url, token).getToFile('d'.repeat(64), copy), { code: 'ARTIFACT_MISSING' });
    // A file streamed up: stored under its hash; a streamed body that lies about its name is refused.
    const big = path.join(dir, 'big.bin');
    await writeFile(big, Buffer.alloc(3 << 20, 7));
    const up = await new HttpArtifactStore(served.url, token).putFile(big);
    assert.equal(up, sha256(await readFile(big)));
    assert.equal((await readFile(store.fileOf(up))).length, 3 << 20);
    const lie = await fetch(`${served.url}/artifacts/${'a'.repeat(64)}`, { method: 'PUT', body: await readFile(big), headers: { authorization: `Bearer ${token}` } });
    assert.equal(lie.status, 400);
    assert.ok(!(await store.has('a'.repeat(64))));
  } finally {
    await served.close();
  }
});

test('a malformed manifest or child render is BAD_JOB; a missing artifact is said plainly', async () => {
  const bad = async (manifest: unknown) => ({ ...job, manifest: await store.put(new TextEncoder().encode(typeof manifest === 'string' ? manifest : JSON.stringify(manifest))) });
  const original = JSON.parse(new TextDecoder().decode(await store.get(job.manifest))) as { v: 1; kind: string; first: number; frames: { farm: boolean; render: string | null; keyframe: string | null }[] };
  const isBad = (re: RegExp) => (e: Error & { code?: string }) => e.code === 'BAD_JOB' && re.test(e.message);
  await assert.rejects(runExportJob(await bad('{"v":1,'), deps()), isBad(/not JSON/));
  await assert.rejects(runExportJob(await bad({ ...original, frames: original.frames.map((f, i) => (i === 5 ? { ...f, render: '../../etc/passwd' } : f)) }), deps()), isBad(/export manifest does not match its schema/));
  await assert.rejects(runExportJob(await bad({ ...original, frames: original.frames.slice(1) }), deps()), isBad(/not the shot's 0-7/));
  await assert.rejects(runExportJob(await bad({ ...original, extra: 1 }), deps()), isBad(/schema/));
  await assert.rejects(runExportJob(job, deps({ childFrames: new Map([...children, [9, children.get(1)!]]) })), isBad(/frame 9, which is not in shot 0/));
  await assert.rejects(runExportJob(job, deps({ childFrames: new Map([...children, [5, 'nothex']]) })), isBad(/not an artifact hash/));
  const child = (png: string) => ({ frames: [{ frame: 1, paramsHash: 'params-hash', png }], worker: 'w', device: 'cpu', ms: 1 });
  assert.throws(() => childFramesOf({ a: child('nothex') }), isBad(/result of child job a does not match its schema/));
  assert.throws(() => childFramesOf({ a: child('a'.repeat(64)), b: child('b'.repeat(64)) }), isBad(/different renders of frame 1/));

  // The manifest's bytes changed in the store: they no longer hash to its name.
  const tampered = new FolderArtifactStore(path.join(dir, 'store-tampered'));
  const h = await tampered.put(await store.get(job.manifest));
  await writeFile(tampered.fileOf(h), '{"v":1,"kind":"export-manifest","first":0,"frames":[]}');
  await assert.rejects(runExportJob(job, deps({ store: tampered })), { code: 'ARTIFACT_CORRUPT' });
  // So with the video, streamed to the worker's scratch folder: refused, and no copy is left.
  await tampered.put(await store.get(job.manifest));
  await mkdir(path.dirname(tampered.fileOf(job.video.hash)), { recursive: true });
  await writeFile(tampered.fileOf(job.video.hash), 'not the video');
  const scratch = await mkdtemp(path.join(dir, 'scratch-'));
  await assert.rejects(runExportJob(job, deps({ store: tampered, scratchDir: scratch })), { code: 'ARTIFACT_CORRUPT' });
  assert.deepEqual(await readdir(scratch), [], 'the scratch folder is left empty');

  // A store without the source video (or a child's render): ARTIFACT_MISSING, naming the artifact.
  const empty = new FolderArtifactStore(path.join(dir, 'store-empty'));
  await empty.put(await store.get(job.manifest));
  await assert.rejects(runExportJob(job, deps({ store: empty })), (e: Error & { code?: string }) => e.code === 'ARTIFACT_MISSING' && e.message.includes(job.video.hash.slice(0, 12)));
});

test('the schema refuses an output name with a folder, and numbers out of range', () => {
  const refused = (patch: Record<string, unknown>, re: RegExp) => assert.throws(() => parseOrThrow(exportJobSchema, { ...job, ...patch }, 'the export job'), (e: Error & { code?: string }) => e.code === 'BAD_JOB' && re.test(e.message));
  parseOrThrow(exportJobSchema, job, 'the export job');
  refused({ outName: 'a/b.mp4' }, /outName/);
  refused({ outName: '..\\b.mp4' }, /outName/);
  refused({ outName: '.hidden.mp4' }, /outName/);
  refused({ source: { ...job.source, frameCount: 0 } }, /frameCount/);
  refused({ source: { ...job.source, container: 'mp4; rm -rf /' } }, /container/);
  refused({ shot: { index: 0, first: 0, last: FRAMES } }, /within the video/);
  refused({ request: { ...job.request, crf: 99 } }, /crf/);
  refused({ video: { ...job.video, ext: '../mp4' } }, /ext/);
});

test('prepare: a finished farm render must be in the store', async () => {
  const p = Project.open(proj);
  try {
    const prep = (h: string) => prepareExportJob(p, store, { outPath: path.join(dir, 'x.mp4') }, ident, shot, new Map([[5, h]]), { tools });
    await assert.rejects(prep('f'.repeat(64)), { code: 'ARTIFACT_MISSING' });
    await assert.rejects(prep('nothex'), { code: 'INVALID_ARGUMENT' });
    const h = await store.put(p.getRender(6)!.image);
    const m = JSON.parse(new TextDecoder().decode(await store.get((await prep(h)).manifest))) as { frames: { render: string | null }[] };
    assert.equal(m.frames[5]!.render, h, 'the farm\'s render stands for the frame');
    await assert.rejects(prepareExportJob(p, store, { outPath: path.join(dir, 'x.mp4') }, ident, { index: 0, first: 0, last: FRAMES }, new Map(), { tools }), { code: 'INVALID_ARGUMENT' });
  } finally {
    p.close();
  }
});

test('ingest: a result that is not well-formed, a missing MP4, or a path holding a non-video is refused', async () => {
  const good = { mp4: 'e'.repeat(64), bytes: 10, frames: 8, width: 64, height: 48, worker: 'w', device: 'cpu', ms: 1, fromRenders: 8, fromKeyframes: 0, fromSource: 0, audio: false };
  await assert.rejects(ingestExport({ ...good, mp4: 'x' }, store, path.join(dir, 'x.mp4')), { code: 'BAD_JOB' });
  await assert.rejects(ingestExport(good, store, path.join(dir, 'x.mp4')), { code: 'ARTIFACT_MISSING' });
  const notes = path.join(dir, 'notes.txt');
  await writeFile(notes, 'my notes');
  await assert.rejects(ingestExport({ ...good, mp4: await store.put(new TextEncoder().encode('an mp4')) }, store, notes), { code: 'OUTPUT_EXISTS' });
  assert.equal(await readFile(notes, 'utf8'), 'my notes', 'left as it was');
  await rm(notes);
});

test('a later shot exports its own frames (without the sound, which the encoder reads from the start)', async () => {
  const p = Project.open(proj);
  let part: ExportJobData;
  try {
    part = await prepareExportJob(p, store, { outPath: path.join(dir, 'shot1.mp4'), size: 'working', crf: 0 }, ident, { index: 1, first: 2, last: 5 }, new Map(), { tools });
  } finally {
    p.close();
  }
  const r = await runExportJob(part, deps({ childFrames: new Map() }));
  assert.deepEqual([r.frames, r.fromRenders, r.fromSource, r.audio], [4, 3, 1, false]);
  const out = await ingestExport(r, store, path.join(dir, 'shot1.mp4'));
  const local = path.join(dir, 'local-working.mp4');
  await cli(['export', proj, local, '--size', 'working', '--crf', '0']);
  const mine = rgbOf(out.out);
  const all = rgbOf(local);
  const frameBytes = all.length / FRAMES;
  assert.equal(mine.length, 4 * frameBytes);
  // Losslessly encoded (CRF 0), so encoded on their own they still decode to the same pictures.
  assert.ok(mine.equals(all.subarray(2 * frameBytes, 6 * frameBytes)), 'frames 2-5 are the local export\'s');
  assert.ok(!streamsOf(out.out).includes('audio'));
});
