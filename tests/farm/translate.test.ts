// Key-frame translation on the farm, with real parts: a redis-server, worker processes spawned
// from the CLI with the tiny fixture models in their models folder (under other names: workers find
// models by content), and a project translated and propagated locally as the reference. A worker is
// SIGKILLed mid-translation: another resumes the chain after the key frames already made, and the
// key frames and every render are byte-identical to the local run's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { keyframeImages } from '../helpers/keyframes.ts';
import { jsonLines, runCli } from '../cli/run-cli.ts';
import { copyProject, farmRedis, redisSkip, renders, spawnWorker, until } from './helpers.ts';
import type { FarmRedis, RedisServer, SpawnedWorker } from './helpers.ts';
import { Project } from '../../src-main/project/index.ts';
import { translateProgressSchema } from '../../src-main/farm/schemas.ts';

const ENGINE = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
let dir = '';
let store = '';
let models = '';
let cache = '';
let template = '';
let server: FarmRedis;
let redis: RedisServer;
let queue: Queue;
const workers: SpawnedWorker[] = [];
let reference: { keys: Map<number, Buffer>; renders: Map<number, { png: Buffer; paramsHash: string }> };

/** No models folder or hub cache of this machine's: only what a test names is found. */
const isolated = (): Record<string, string | undefined> => ({ ...process.env, HOME: path.join(dir, 'home'), HF_HOME: path.join(dir, 'hf'), RERENDER_MODELS_DIR: undefined, RERENDER_MODELS: undefined, RERENDER_MODEL_ROOTS: undefined, HF_HUB_CACHE: undefined });

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args, { env: isolated() });
  assert.equal(r.code, 0, `rerender ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

before(async () => {
  if (redisSkip) return;
  dir = await makeTempDir('rerender-farm-translate-');
  store = path.join(dir, 'store');
  cache = path.join(dir, 'engine');
  server = await farmRedis(path.join(dir, 'redis'));
  ({ redis, queue } = server);
  // The workers' models folder: the fixture models under names the project never used.
  models = path.join(dir, 'worker-models');
  await mkdir(path.join(models, 'checkpoints'), { recursive: true });
  await mkdir(path.join(models, 'controlnet'), { recursive: true });
  await cp(path.join(ENGINE, 'tiny-sd'), path.join(models, 'checkpoints', 'renamed-sd'), { recursive: true });
  await cp(path.join(ENGINE, 'tiny-controlnet'), path.join(models, 'controlnet', 'renamed-canny'), { recursive: true });

  const clip = await makeClip(dir, { frames: 9, width: 64, height: 64, fps: { num: 25, den: 1 } });
  template = path.join(dir, 'template.rrproj');
  await cli(['init', clip, '-o', template, '--size', '64']);
  await cli(['keyframes', template, '--set', '0,4,8']);
  const p = Project.open(template);
  p.updateSettings({ steps: 2, prompt: 'a watercolor fox', model: path.join(ENGINE, 'tiny-sd'), controlnetModel: path.join(ENGINE, 'tiny-controlnet') });
  p.close();
  const local = await copyProject(template, path.join(dir, 'local.rrproj'));
  await cli(['translate', local, '--provider', 'cpu', '--cache', cache]);
  await cli(['propagate', local]);
  await cli(['export', local, path.join(dir, 'local.mp4')]);
  reference = { keys: keyframeImages(local), renders: renders(local) };
  assert.equal(reference.keys.size, 3);
  assert.equal(reference.renders.size, 9);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await server?.stop();
  if (dir) await removeDir(dir);
});

function worker(name: string, env: Record<string, string> = {}, modelsDir = models): SpawnedWorker {
  const w = spawnWorker(name, redis.url, store, { HOME: path.join(dir, 'home'), ...env }, ['--models', modelsDir, '--provider', 'cpu', '--cache', cache]);
  workers.push(w);
  return w;
}

const farm = (args: string[], signal?: AbortSignal) =>
  runCli(['farm', ...args, '--redis', redis.url, ...(args[0] === 'submit' || args[0] === 'watch' ? ['--store', store] : [])], { env: isolated(), ...(signal ? { signal } : {}) });

test('SIGKILL a worker mid-translation: another resumes the chain; key frames and renders identical to a local run, nothing duplicated', { skip: redisSkip }, async () => {
  const file = await copyProject(template, path.join(dir, 'farm.rrproj'));
  const sub = await farm(['submit', file, '--stages', 'translate,propagate', '--json']);
  assert.equal(sub.code, 0, sub.stdout + sub.stderr);
  const res = jsonLines(sub.stdout).find((l) => l.type === 'result') as { projects: { translating: number; next: string[] }[] };
  assert.deepEqual([res.projects[0]!.translating, res.projects[0]!.next], [3, ['propagate']]);

  // The owner watches from the start: key frames land in the project as they are made.
  const watching = farm(['watch', file, '--poll-ms', '100']);
  // A pause after each key frame leaves time to kill the worker between two of them.
  const first = worker('t1', { RERENDER_FARM_FRAME_DELAY_MS: '4000' });
  await first.ready;
  const job = await until('a translation part-way through', async () => {
    for (const j of await queue.getJobs(['active'])) {
      const pr = translateProgressSchema.safeParse(j.progress);
      if (j.name === 'translate' && pr.success && pr.data.keyframes.length >= 1) return j;
    }
    return null;
  }, 120_000, 100);
  first.proc.kill('SIGKILL');
  await new Promise((r) => first.proc.once('exit', r));
  // The owner stored the key frame made before the kill.
  await until('the first key frame in the project', async () => keyframeImages(file).get(0)?.equals(reference.keys.get(0)!) ?? false, 20_000);
  // Status shows the chain part-way, and what follows it.
  const st = await farm(['status', '--json']);
  const status = jsonLines(st.stdout).find((l) => l.type === 'result') as { projects: { translate: { done: number; total: number } | null; next: string[] }[] };
  const mine = status.projects.find((p) => p.translate);
  assert.ok(mine && mine.translate!.done >= 1 && mine.translate!.total === 3, st.stdout);
  assert.deepEqual(mine.next, ['propagate']);
  const second = worker('t2');
  await second.ready;
  const watch = await watching;
  assert.equal(watch.code, 0, watch.stdout + watch.stderr);

  const done = await queue.getJob(job.id!);
  assert.equal((done!.returnvalue as { worker: string }).worker, 't2');
  assert.match(second.log(), /key frames 0-8 done/);
  const keys = keyframeImages(file);
  for (const [f, png] of reference.keys) assert.ok(keys.get(f)?.equals(png), `key frame ${f} differs from the local translation`);
  const got = renders(file);
  assert.equal(got.size, reference.renders.size);
  for (const [f, ref] of reference.renders) {
    assert.equal(got.get(f)?.paramsHash, ref.paramsHash, `frame ${f}: params hash`);
    assert.ok(got.get(f)?.png.equals(ref.png), `frame ${f}: the farm's render differs from the local run's`);
  }
  // One key frame row per key frame, one render per frame: nothing duplicated.
  const p = Project.openReadOnly(file);
  try {
    assert.deepEqual(p.listKeyframes(() => '').map((k) => k.frame), [0, 4, 8]);
    assert.equal(p.renderedFrames().length, 9);
  } finally {
    p.close();
  }
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

test('a worker without the model refuses the job with a clear error naming it', { skip: redisSkip }, async () => {
  await queue.obliterate({ force: true });
  const file = await copyProject(template, path.join(dir, 'nomodel.rrproj'));
  const p = Project.open(file);
  p.updateSettings({ prompt: 'another prompt, another chain' });
  p.close();
  const empty = path.join(dir, 'empty-models');
  await mkdir(empty, { recursive: true });
  assert.equal((await farm(['submit', file, '--stages', 'translate'])).code, 0);
  const w = worker('bare', {}, empty);
  await w.ready;
  const reason = await until('the job\'s error', async () => {
    const [j] = await queue.getJobs(['delayed', 'failed', 'wait']);
    return j?.failedReason || null;
  }, 30_000);
  assert.match(reason, /worker bare does not have Stable Diffusion model 'tiny-sd' \(sha256 [0-9a-f]{12}…\), ControlNet 'tiny-controlnet'/);
  await Promise.all(workers.splice(0).map((x) => x.stop()));
});

/** Every frame of a video as raw RGB, decoded by ffmpeg. */
function decoded(file: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 64 << 20 });
}

test('one submit runs all three stages: translate, then propagate under the export, then the video; same as a local run', { skip: redisSkip }, async () => {
  await queue.obliterate({ force: true });
  const file = await copyProject(template, path.join(dir, 'stages.rrproj'));
  const out = path.join(dir, 'videos');
  await mkdir(out, { recursive: true });
  const sub = await farm(['submit', file, '--stages', 'export,translate,propagate', '--out', out]);
  assert.equal(sub.code, 0, sub.stdout + sub.stderr);
  const ws = [worker('s1'), worker('s2')];
  await Promise.all(ws.map((w) => w.ready));
  const watch = await farm(['watch', file, '--poll-ms', '100', '--json']);
  assert.equal(watch.code, 0, watch.stdout + watch.stderr);
  const result = jsonLines(watch.stdout).find((l) => l.type === 'result') as { keyframesWritten: number; framesWritten: number; exported: { out: string }[] };
  assert.equal(result.keyframesWritten, 3);
  assert.equal(result.framesWritten, 9);
  assert.deepEqual(result.exported.map((e) => e.out), [path.join(out, 'stages.mp4')]);
  // The export ran on a worker, as the parent of the propagation jobs.
  const [exportJob] = (await queue.getJobs(['completed'])).filter((j) => j.name === 'export');
  assert.ok(exportJob, 'an export job ran');
  const children = await exportJob.getChildrenValues();
  assert.equal(Object.keys(children).length, 2, 'the two intervals are the export\'s children');
  const farmVideo = path.join(out, 'stages.mp4');
  const localVideo = path.join(dir, 'local.mp4');
  assert.ok(decoded(farmVideo).equals(decoded(localVideo)), 'the farm\'s video shows other pictures than the local export');
  assert.ok((await readFile(farmVideo)).equals(await readFile(localVideo)), 'the farm\'s video file differs from the local export');
  // The worker that translated says where translation runs, beside its propagation device.
  const st = jsonLines((await farm(['status', '--json'])).stdout).find((l) => l.type === 'result') as { workers: { device: string }[] };
  assert.ok(st.workers.some((w) => /; translation: .*CPU/i.test(w.device)), JSON.stringify(st.workers.map((w) => w.device)));
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
