// The farm with real parts: a redis-server, worker processes spawned from the CLI, two tiny
// projects. Each scenario compares the farm's renders byte for byte with a local `propagate` run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { jsonLines, runCli } from '../cli/run-cli.ts';
import { copyProject, farmRedis, freePort, makeProject, redisSkip, renders, spawnWorker, until } from './helpers.ts';
import type { FarmRedis, RedisServer, SpawnedWorker } from './helpers.ts';
import { cancelKey, submissionsKey, workersKey } from '../../src-main/farm/queue.ts';
import type { Redis } from 'ioredis';

let dir = '';
let store = '';
let server: FarmRedis;
let redis: RedisServer;
let queue: Queue;
let client: Redis;
const templates: Record<'p' | 'q', string> = { p: '', q: '' };
const reference: Record<'p' | 'q', Map<number, { png: Buffer; paramsHash: string }>> = { p: new Map(), q: new Map() };
const workers: SpawnedWorker[] = [];
let copies = 0;

before(async () => {
  if (redisSkip) return;
  dir = await makeTempDir('rerender-farm-');
  store = path.join(dir, 'store');
  await mkdir(scratch(), { recursive: true });
  server = await farmRedis(path.join(dir, 'redis'), { persist: true });
  ({ redis, queue, client } = server);
  // p: three intervals, keys owned by them; q: a head, an interval and a tail.
  templates.p = await makeProject(dir, 'p', { frames: 16, keys: [0, 5, 10, 15], pattern: 'mandelbrot', hue: 120 });
  templates.q = await makeProject(dir, 'q', { frames: 12, keys: [3, 8], pattern: 'testsrc2', hue: 200 });
  for (const k of ['p', 'q'] as const) {
    const local = await copyProject(templates[k], path.join(dir, `${k}-local.rrproj`));
    const r = await runCli(['propagate', local]);
    assert.equal(r.code, 0, r.stderr);
    reference[k] = renders(local);
  }
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await server?.stop();
  if (dir) await removeDir(dir);
});

function freshCopy(k: 'p' | 'q'): Promise<string> {
  return copyProject(templates[k], path.join(dir, `${k}-farm-${++copies}.rrproj`));
}

const scratch = () => path.join(dir, 'tmp');

function worker(name: string, env: Record<string, string> = {}, storeDir = store, extra: string[] = []): SpawnedWorker {
  // A temp folder of this file's own: workers started by other test files clean stale scratch
  // folders in theirs, never in this one.
  const w = spawnWorker(name, redis.url, storeDir, { TMPDIR: scratch(), ...env }, extra);
  workers.push(w);
  return w;
}

/** Stops the workers and empties the farm: job ids follow content, so each scenario starts clean. */
async function stopAll(): Promise<void> {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await queue.obliterate({ force: true });
  await client.del(submissionsKey(), workersKey(), cancelKey());
}

function assertSameAsLocal(file: string, k: 'p' | 'q'): Map<number, { png: Buffer; paramsHash: string; runId: string }> {
  const got = renders(file);
  assert.equal(got.size, reference[k].size, `${file}: ${got.size} renders, the local run has ${reference[k].size}`);
  for (const [f, ref] of reference[k]) {
    const r = got.get(f);
    assert.ok(r, `frame ${f} has no render`);
    assert.equal(r.paramsHash, ref.paramsHash, `frame ${f}: params hash`);
    assert.ok(r.png.equals(ref.png), `frame ${f}: the farm's PNG differs from the local run's`);
  }
  return got;
}

const farm = (args: string[]) => runCli(['farm', ...args, '--redis', redis.url, ...(args[0] === 'submit' || args[0] === 'watch' ? ['--store', store] : [])]);

test('three workers render two projects byte-identical to a local run; status lists them', { skip: redisSkip }, async () => {
  const [p, q] = [await freshCopy('p'), await freshCopy('q')];
  const sub = await farm(['submit', p, q, '--json']);
  assert.equal(sub.code, 0, sub.stdout + sub.stderr);
  const res = jsonLines(sub.stdout).find((l) => l.type === 'result') as { projects: { queued: number }[] };
  assert.deepEqual(res.projects.map((x) => x.queued), [3, 3]);
  const ws = [worker('w1'), worker('w2'), worker('w3')];
  await Promise.all(ws.map((w) => w.ready));
  const st = await farm(['status', '--json']);
  const status = jsonLines(st.stdout).find((l) => l.type === 'result') as { workers: { name: string; device: string; alive: boolean }[]; projects: unknown[] };
  assert.deepEqual(status.workers.filter((w) => w.alive).map((w) => w.name), ['w1', 'w2', 'w3']);
  assert.match(status.workers[0]!.device, /CPU/);
  assert.equal(status.projects.length >= 2, true);
  const watch = await farm(['watch', p, q, '--poll-ms', '100']);
  assert.equal(watch.code, 0, watch.stdout + watch.stderr);
  assert.match(watch.stdout, /stored 28 frame\(s\) from 6 job\(s\)/);
  assertSameAsLocal(p, 'p');
  assertSameAsLocal(q, 'q');
  // All three took part (six segments, one process each at a time).
  const by = new Set<string>();
  for (const id of (await queue.getJobs(['completed'])).filter((j) => j.name === 'propagate')) by.add((id.returnvalue as { worker: string }).worker);
  assert.ok(by.size >= 2, `segments ran on ${[...by].join(', ')}`);
  // A resubmit finds nothing to do: every segment is in the project.
  const again = await farm(['submit', p, '--json']);
  const r2 = jsonLines(again.stdout).find((l) => l.type === 'result') as { projects: { queued: number; alreadyDone: number }[] };
  assert.deepEqual([r2.projects[0]!.queued, r2.projects[0]!.alreadyDone], [0, 3]);
  await stopAll();
});

/** Waits for a running segment with at least `frames` frames stored; returns its job and worker. */
async function runningJob(frames: number): Promise<{ id: string; worker: string }> {
  return until('a segment part-way through', async () => {
    for (const j of await queue.getJobs(['active'])) {
      const pr = j.progress as { done?: number; worker?: string };
      if (j.name === 'propagate' && typeof pr?.done === 'number' && pr.done >= frames && pr.worker) return { id: j.id!, worker: pr.worker };
    }
    return null;
  }, 30_000, 50);
}

test('SIGKILL a worker mid-interval: another takes the job after its lock expires; output complete and identical', { skip: redisSkip }, async () => {
  const p = await freshCopy('p');
  const slow = { RERENDER_FARM_FRAME_DELAY_MS: '250' };
  const ws = [worker('k1', slow), worker('k2', slow)];
  assert.equal((await farm(['submit', p])).code, 0);
  const watching = farm(['watch', p, '--poll-ms', '100']);
  const victim = await runningJob(2);
  const w = ws.find((x) => x.name === victim.worker)!;
  w.proc.kill('SIGKILL');
  // The killed worker's lock expires (2 s in the tests), a stalled check moves the job back.
  const watch = await watching;
  assert.equal(watch.code, 0, watch.stdout + watch.stderr);
  const job = await queue.getJob(victim.id);
  const rv = job!.returnvalue as { worker: string };
  assert.notEqual(rv.worker, victim.worker, 'the job was finished by another worker');
  const got = assertSameAsLocal(p, 'p');
  assert.equal(got.size, 16); // one render per frame: nothing duplicated
  // The killed worker's scratch folder is removed by the next worker to start on this machine.
  const leftovers = async () => (await readdir(scratch())).filter((n) => n.startsWith(`rerender-farm-job-${w.proc.pid}-`));
  assert.ok((await leftovers()).length > 0, 'a SIGKILL leaves the scratch folder behind');
  await worker('k3').ready;
  assert.deepEqual(await leftovers(), []);
  await stopAll();
});

test('Redis restarted mid-run: workers and the owner reconnect and the run finishes', { skip: redisSkip }, async () => {
  const q = await freshCopy('q');
  const ws = [worker('r1', { RERENDER_FARM_FRAME_DELAY_MS: '200' }), worker('r2', { RERENDER_FARM_FRAME_DELAY_MS: '200' })];
  await Promise.all(ws.map((w) => w.ready));
  assert.equal((await farm(['submit', q])).code, 0);
  const watching = farm(['watch', q, '--poll-ms', '100']);
  await runningJob(1);
  await redis.stop();
  await new Promise((r) => setTimeout(r, 500));
  await redis.restart();
  const watch = await watching;
  assert.equal(watch.code, 0, watch.stdout + watch.stderr);
  assertSameAsLocal(q, 'q');
  // Both workers are back: their heartbeats reached the new server.
  await until('heartbeats after the restart', async () => {
    const all = await client.hgetall(workersKey());
    return ['r1', 'r2'].every((n) => all[n] && Date.now() - (JSON.parse(all[n]) as { heartbeat: number }).heartbeat < 3000);
  }, 10_000);
  await stopAll();
});

test('a bad job payload is rejected with a clear error, once, and never run', { skip: redisSkip }, async () => {
  worker('b1');
  const bogus = await queue.add('propagate', { v: 1, kind: 'propagate', command: 'touch /tmp/pwned' }, { attempts: 3 });
  const outside = await queue.add('propagate', {
    v: 1, kind: 'propagate', project: { key: '0123456789abcdef', name: 'x' }, shot: { index: 0, first: 0, last: 1 }, store: '/etc',
    width: 64, height: 64, frameCount: 2, cuts: [], keys: [{ frame: 0, image: 'a'.repeat(64), mask: null }],
    sources: [{ frame: 0, rgb: 'a'.repeat(64) }], frames: [{ frame: 1, paramsHash: 'abcdefabcdef' }], settings: {},
  }, { attempts: 3 });
  // A served store the worker was not told about: it never gets the worker's token.
  const elsewhere = await queue.add('propagate', { ...outside.data, store: 'http://203.0.113.9:7070' }, { attempts: 3 });
  const unrunnable = await queue.add('propagate', { ...outside.data, store, settings: { patchSize: 4 } }, { attempts: 3 });
  for (const [job, why] of [[bogus, /does not match its schema/], [outside, /outside this worker's store roots/], [elsewhere, /not one this worker may use/], [unrunnable, /settings are refused: patchSize must be odd/]] as const) {
    const failed = await until('the job to fail', async () => {
      const j = await queue.getJob(job.id!);
      return j && (await j.getState()) === 'failed' ? j : null;
    });
    assert.match(failed.failedReason, why);
    assert.equal(failed.attemptsMade, 1, 'not retried: it would fail the same way anywhere');
    await failed.remove();
  }
  await stopAll();
});

test('a cancelled run resumes without redoing finished segments', { skip: redisSkip }, async () => {
  const p = await freshCopy('p');
  const w = worker('c1', { RERENDER_FARM_FRAME_DELAY_MS: '300' });
  await w.ready;
  assert.equal((await farm(['submit', p])).code, 0);
  // Cancel once the first segment is done and the second has started.
  await until('one finished segment', async () => (await queue.getJobs(['completed'])).some((j) => j.name === 'propagate' && (j.returnvalue as { frames: unknown[] }).frames.length > 0 && j.timestamp > Date.now() - 60_000));
  await runningJob(1);
  const c = await farm(['cancel', p, '--json']);
  assert.equal(c.code, 0, c.stderr);
  const cr = jsonLines(c.stdout).find((l) => l.type === 'result') as { removed: number; stopping: number; finished: number };
  assert.deepEqual([cr.finished >= 1, cr.stopping + cr.removed >= 1], [true, true]);
  const partial = await farm(['watch', p, '--poll-ms', '100']);
  assert.equal(partial.code, 1, 'the watch reports the cancelled segments');
  assert.match(partial.stdout + partial.stderr, /cancel/);
  const kept = renders(p);
  assert.ok(kept.size > 0 && kept.size < 16, `${kept.size} frames stored before the cancel`);
  // Resubmit: only what is left is queued; the finished segment's frames are not rendered again.
  const sub = await farm(['submit', p, '--json']);
  const r = jsonLines(sub.stdout).find((l) => l.type === 'result') as { projects: { queued: number; alreadyDone: number }[] };
  assert.ok(r.projects[0]!.alreadyDone >= 1);
  assert.equal(r.projects[0]!.queued, 3 - r.projects[0]!.alreadyDone);
  const watch = await farm(['watch', p, '--poll-ms', '100']);
  assert.equal(watch.code, 0, watch.stdout + watch.stderr);
  const got = assertSameAsLocal(p, 'p');
  for (const [f, k] of kept) assert.equal(got.get(f)!.runId, k.runId, `frame ${f} was stored again`);
  await stopAll();
});

test('workers with no shared disk use the store the owner serves over HTTP, with its token', { skip: redisSkip }, async () => {
  const q = await freshCopy('q');
  const port = await freePort();
  const token = 'farm-test-token-0123456789abcdef';
  const served = `http://127.0.0.1:${port}`;
  // No --store: this worker reaches artifacts only through the served URL.
  const w = worker('h1', {}, '', ['--store-url', served, '--token', token]);
  await w.ready;
  assert.equal((await farm(['submit', q, '--serve', served])).code, 0);
  const watch = await farm(['watch', q, '--poll-ms', '100', '--serve-port', String(port), '--serve-host', '127.0.0.1', '--token', token]);
  assert.equal(watch.code, 0, watch.stdout + watch.stderr);
  assertSameAsLocal(q, 'q');
  assert.doesNotMatch(watch.stdout + watch.stderr + w.log(), new RegExp(token), 'the token is never printed when given');
  await stopAll();
});

test('finished segments whose renders left the store are queued again, not trusted', { skip: redisSkip }, async () => {
  const q = await freshCopy('q');
  const w = worker('s1');
  await w.ready;
  assert.equal((await farm(['submit', q])).code, 0);
  await until('all segments finished', async () => (await queue.getJobs(['completed'])).filter((j) => j.name === 'propagate').length === 3);
  // The store is wiped (cleaned up, or another share mounted) before the owner ingested anything.
  await rm(store, { recursive: true, force: true });
  const sub = await farm(['submit', q, '--json']);
  const r = jsonLines(sub.stdout).find((l) => l.type === 'result') as { projects: { queued: number; onFarm: number }[] };
  assert.deepEqual([r.projects[0]!.queued, r.projects[0]!.onFarm], [3, 0]);
  const watch = await farm(['watch', q, '--poll-ms', '100']);
  assert.equal(watch.code, 0, watch.stdout + watch.stderr);
  assertSameAsLocal(q, 'q');
  await stopAll();
});

test('a resubmit after a key-frame edit withdraws the waiting segments it no longer needs', { skip: redisSkip }, async () => {
  const q = await freshCopy('q');
  const first = jsonLines((await farm(['submit', q, '--json'])).stdout).find((l) => l.type === 'result') as { projects: { queued: number }[] };
  assert.equal(first.projects[0]!.queued, 3);
  const before = new Set((await queue.getJobs(['waiting', 'waiting-children'])).map((j) => j.id));
  // Key frame 8 changes: the interval 3-8 and the tail from 8 change; the head before 3 does not.
  assert.equal((await runCli(['keyframe', q, '--frame', '8', '--import', path.join(dir, 'q-k3.png')])).code, 0);
  const again = jsonLines((await farm(['submit', q, '--json'])).stdout).find((l) => l.type === 'result') as { projects: { queued: number; onFarm: number; withdrawn: number }[] };
  assert.deepEqual([again.projects[0]!.queued, again.projects[0]!.onFarm, again.projects[0]!.withdrawn], [2, 1, 2]);
  const now = new Set((await queue.getJobs(['waiting'])).filter((j) => j.name === 'propagate').map((j) => j.id));
  assert.equal(now.size, 3);
  assert.equal([...now].filter((id) => before.has(id)).length, 1, 'only the unchanged head is still the old job');
  await stopAll();
});
