// The editor's farm requests against a real redis-server (no worker: nothing renders here; the
// e2e test tests/e2e/farm.e2e.ts runs one): the remembered connection never gives its password
// back, bad input fails before anything is queued, Cancel calls the work off on the farm, and
// closing the project stops the watch only, leaving the farm's work queued.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createApiHost, type ApiHost } from '../../src-main/api/host.ts';
import { Project } from '../../src-main/project/index.ts';
import { workersKey } from '../../src-main/farm/queue.ts';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { farmRedis, freePort, makeProject, redisSkip, until } from '../farm/helpers.ts';
import type { FarmRedis, RedisServer } from '../farm/helpers.ts';

const skip = redisSkip;

let dir = '';
let file = '';
let store = '';
let farm: FarmRedis | undefined;
let redis: RedisServer;
let host: ApiHost;
let queue: Queue;
let client: Redis;
const dataDir = () => path.join(dir, 'data');
const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

before(async () => {
  if (skip) return;
  dir = await makeTempDir('rerender-farm-editor-');
  store = path.join(dir, 'store');
  farm = await farmRedis(path.join(dir, 'redis'));
  ({ redis, queue, client } = farm);
  file = await makeProject(dir, 'shot', { frames: 8, keys: [0, 7], pattern: 'testsrc2', hue: 40 });
  host = createApiHost({ dataDir: dataDir(), env: process.env });
});

after(async () => {
  await host?.dispose();
  await farm?.stop();
  if (dir) await removeDir(dir);
});

/** Propagation segments waiting for a worker (a shot's finishing job is not one). */
async function segmentsWaiting(): Promise<number> {
  return (await queue.getJobs(['waiting'])).filter((j) => j.name === 'propagate').length;
}

test('bad farm input fails at once, naming the problem; nothing is remembered', { skip }, async () => {
  await host.api.openProject(file);
  const s = await host.api.farmSettings();
  assert.deepEqual(s, { redis: null, store: null, needed: ['propagate'] });
  await assert.rejects(host.api.farmSubmit({ stages: ['propagate'], redisUrl: null, store }), code('INVALID_ARGUMENT'));
  await assert.rejects(host.api.farmSubmit({ stages: ['propagate'], redisUrl: redis.url, store: 'relative/store' }), code('INVALID_ARGUMENT'));
  await assert.rejects(host.api.farmSubmit({ stages: ['propagate'], redisUrl: 'http://x', store }), code('INVALID_ARGUMENT'));
  await assert.rejects(host.call('farmSubmit', [{ stages: ['render'], redisUrl: redis.url, store }]), code('INVALID_ARGUMENT'));
  await assert.rejects(host.api.farmSubmit({ stages: ['propagate', 'export'], redisUrl: redis.url, store, exportPath: 'shot.mp4' }), code('INVALID_ARGUMENT'));
  await assert.rejects(host.api.farmSubmit({ stages: ['propagate', 'export'], redisUrl: redis.url, store, exportPath: path.join(dir, 'shot.mov') }), code('INVALID_ARGUMENT'));
  // Nothing listens there: refused fast instead of waiting for Redis forever.
  const t0 = Date.now();
  await assert.rejects(host.api.farmWorkers(`redis://127.0.0.1:${await freePort()}`), code('REDIS_UNAVAILABLE'));
  assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`);
  assert.equal((await host.api.farmSettings()).redis, null);
});

test('the workers list: name, device, current job, heartbeat, alive or gone', { skip }, async () => {
  const now = Date.now();
  const entry = (name: string, heartbeat: number, current: { id: string; project: string; frames: string }[]) => JSON.stringify({
    name, host: 'box', pid: 1, device: `GPU ${name}`, concurrency: 1, current, heartbeat, startedAt: now - 100_000, done: 3,
  });
  await client.hset(workersKey(), 'a', entry('gpu-a', now - 2500, [{ id: 'j', project: 'shot', frames: '0-4' }]), 'b', entry('gpu-b', now - 600_000, []));
  try {
    const r = await host.api.farmWorkers(redis.url);
    assert.deepEqual(r.workers.map((w) => [w.name, w.device, w.alive, w.current]), [
      ['gpu-a', 'GPU gpu-a', true, [{ project: 'shot', frames: '0-4' }]],
      ['gpu-b', 'GPU gpu-b', false, []],
    ]);
    assert.ok(r.workers[0]!.secondsSinceHeartbeat >= 2.5 && r.workers[0]!.secondsSinceHeartbeat < 30);
  } finally {
    await client.del(workersKey());
  }
});

test('Render on farm remembers the connection without giving its password back; Cancel calls the work off on the farm', { skip }, async () => {
  const withPassword = redis.url.replace('redis://', 'redis://:s3cret-pw@');
  const job = await host.api.farmSubmit({ stages: ['propagate'], redisUrl: withPassword, store });
  assert.equal(job.kind, 'farm');
  assert.doesNotMatch(JSON.stringify(job), /s3cret/);
  const s = await host.api.farmSettings();
  assert.equal(s.redis, redis.url.replace('redis://', 'redis://:***@'));
  assert.equal(s.store, store);
  // Kept for this user alone, password and all.
  const saved = path.join(dataDir(), 'farm.json');
  assert.match(readFileSync(saved, 'utf8'), /s3cret-pw/);
  assert.equal(statSync(saved).mode & 0o077, 0);
  // Queued, and no worker takes it: the job waits with its total known.
  await until('the segments queued', async () => await segmentsWaiting() > 0);
  const waiting = await until('the total', async () => (await host.api.listJobs()).find((j) => j.id === job.id && j.total === 8));
  assert.equal(waiting.status, 'running');
  assert.equal(waiting.done, 0);
  // The redacted address sent back means the remembered one: the workers list still answers.
  assert.deepEqual((await host.api.farmWorkers(s.redis)).workers, []);
  await assert.rejects(host.api.farmSubmit({ stages: ['propagate'], redisUrl: null, store }), code('JOB_RUNNING'));
  // Renders from here and from the farm never overlap.
  await assert.rejects(host.api.startJob({ kind: 'propagate' }), code('JOB_RUNNING'));

  const cancelled = await host.api.cancelJob(job.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.note, null, 'a cancel is not a stop of the watch only');
  assert.equal(await segmentsWaiting(), 0, 'the waiting segments are off the farm');
});

test('closing the project stops watching only: the farm keeps the work, and Render on farm picks it up', { skip }, async () => {
  const job = await host.api.farmSubmit({ stages: ['propagate'], redisUrl: null, store });
  await until('the segments queued', async () => await segmentsWaiting() > 0);
  await until('the watch', async () => (await host.api.listJobs()).find((j) => j.id === job.id && j.total === 8));
  await host.api.closeProject();
  assert.ok(await segmentsWaiting() > 0, 'the work stays on the farm');
  const p = Project.openReadOnly(file);
  try {
    const rec = p.getJob(job.id);
    assert.equal(rec?.status, 'cancelled');
    assert.match(rec?.note ?? '', /farm keeps working/);
  } finally {
    p.close();
  }
  // Reopened: a resubmit finds the same segments on the farm (same ids) and queues nothing new.
  await host.api.openProject(file);
  const waitingBefore = await segmentsWaiting();
  const again = await host.api.farmSubmit({ stages: ['propagate'], redisUrl: null, store });
  await until('the total', async () => (await host.api.listJobs()).find((j) => j.id === again.id && j.total === 8));
  assert.equal(await segmentsWaiting(), waitingBefore);
  await host.api.cancelJob(again.id);
});
