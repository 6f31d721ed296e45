// The farm's pure parts: Redis URLs, path mapping and roots, the artifact store, job schemas and
// the cut of a project into jobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { redactRedisUrl, redisOptionsFromUrl } from '../../src-main/farm/redis.ts';
import { acceptPath, mapPath, parsePathMapping } from '../../src-main/farm/path-map.ts';
import { FolderArtifactStore, sha256 } from '../../src-main/farm/artifacts.ts';
import { jobDataSchema, parseOrThrow, propagateJobSchema } from '../../src-main/farm/schemas.ts';
import { planFarm } from '../../src-main/farm/plan.ts';

test('redis URLs: password, TLS and database; the password is never shown', () => {
  const t = redisOptionsFromUrl('rediss://farm:s3cr%40t@redis.example:6380/2');
  assert.equal(t.options.host, 'redis.example');
  assert.equal(t.options.port, 6380);
  assert.equal(t.options.db, 2);
  assert.equal(t.options.username, 'farm');
  assert.equal(t.options.password, 's3cr@t');
  assert.deepEqual(t.options.tls, { servername: 'redis.example' });
  assert.equal(t.options.maxRetriesPerRequest, null);
  assert.doesNotMatch(t.display, /s3cr/);
  const plain = redisOptionsFromUrl('redis://127.0.0.1');
  assert.equal(plain.options.port, 6379);
  assert.equal(plain.options.tls, undefined);
  assert.equal(plain.options.password, undefined);
  assert.doesNotMatch(redactRedisUrl('redis://:hunter2@h:1'), /hunter2/);
  for (const bad of ['', 'http://h:1', 'redis://h:1/x', 'not a url']) {
    assert.throws(() => redisOptionsFromUrl(bad), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && !/hunter2/.test(e.message));
  }
});

test('path mapping: the longest prefix wins, and only paths under the roots are accepted', () => {
  const maps = [parsePathMapping('/mnt/farm=/Volumes/farm'), parsePathMapping('/mnt/farm/big=/Volumes/big/')];
  assert.equal(mapPath('/mnt/farm/store', maps), '/Volumes/farm/store');
  assert.equal(mapPath('/mnt/farm/big/x', maps), '/Volumes/big/x');
  assert.equal(mapPath('/mnt/farmer/x', maps), '/mnt/farmer/x');
  assert.equal(mapPath('D:\\farm\\store', [parsePathMapping('D:\\farm=/srv/farm')]), '/srv/farm/store');
  assert.equal(acceptPath('/mnt/farm/store', maps, ['/Volumes/farm']), '/Volumes/farm/store');
  assert.throws(() => acceptPath('/mnt/farm/../../etc', maps, ['/Volumes/farm']), { code: 'PATH_REFUSED' });
  assert.throws(() => acceptPath('/etc', maps, ['/Volumes/farm']), { code: 'PATH_REFUSED' });
  assert.throws(() => acceptPath('store', maps, ['/Volumes/farm']), { code: 'PATH_REFUSED' });
  assert.throws(() => parsePathMapping('relative=/x'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => parsePathMapping('/x'), { code: 'INVALID_ARGUMENT' });
});

test('artifact store: named by SHA-256, written whole, checked on read', async () => {
  const dir = await makeTempDir('rerender-farm-store-');
  try {
    const store = new FolderArtifactStore(dir);
    const bytes = new TextEncoder().encode('frame 7');
    const h = await store.put(bytes);
    assert.equal(h, sha256(bytes));
    assert.equal(await store.put(bytes), h); // idempotent
    assert.deepEqual(Buffer.from(await store.get(h)), Buffer.from(bytes));
    assert.ok(await store.has(h));
    const sub = path.join(dir, 'sha256', h.slice(0, 2));
    assert.deepEqual(await readdir(sub), [h]); // no temporary file left behind
    await writeFile(path.join(sub, h), 'tampered');
    await assert.rejects(store.get(h), { code: 'ARTIFACT_CORRUPT' });
    await assert.rejects(store.get('0'.repeat(64)), { code: 'ARTIFACT_MISSING' });
    await assert.rejects(store.get('../../etc/passwd'), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new FolderArtifactStore('relative/dir'), { code: 'INVALID_ARGUMENT' });
  } finally {
    await removeDir(dir);
  }
});

const H = 'a'.repeat(64);
const goodJob = {
  v: 1, kind: 'propagate', project: { key: '0123456789abcdef', name: 'p' }, shot: { index: 0, first: 0, last: 9 },
  store: '/mnt/farm', width: 64, height: 48, frameCount: 10, cuts: [],
  keys: [{ frame: 0, image: H, mask: null }, { frame: 5, image: H, mask: H }],
  sources: [{ frame: 0, rgb: H }], frames: [{ frame: 1, paramsHash: 'abcdef012345' }],
  settings: { patchSize: 5, flowMethod: 'dis-fine', blend: { deflicker: 0.7 } },
};

test('job schemas: a good payload passes; anything unexpected is refused with a clear message', () => {
  assert.equal(parseOrThrow(jobDataSchema, goodJob, 'job').kind, 'propagate');
  const bad = [
    { ...goodJob, extra: 'rm -rf /' },
    { ...goodJob, keys: [{ frame: 0, image: '../x', mask: null }] },
    { ...goodJob, settings: { ...goodJob.settings, flowMethod: 'evil' } },
    { ...goodJob, settings: { ...goodJob.settings, onLoad: 'require("child_process")' } },
    { ...goodJob, frames: [] },
    { ...goodJob, v: 2 },
    { ...goodJob, kind: 'shell' },
    'just a string',
  ];
  for (const b of bad) {
    assert.throws(() => parseOrThrow(jobDataSchema, b, 'job 42'), (e: Error & { code?: string }) => e.code === 'BAD_JOB' && /job 42 does not match its schema/.test(e.message));
  }
  assert.throws(() => parseOrThrow(propagateJobSchema, { ...goodJob, width: 4 }, 'job'), /width/);
});

test('planFarm: every frame in exactly one job per shot; ids follow the content; done work drops out', () => {
  const n = 24;
  const cuts = [12];
  const hashes = Array.from({ length: n }, (_, i) => `h${i}-aaaaaaaa`);
  const keys = [3, 8, 11, 15];
  const plan = planFarm({ frameCount: n, keyFrames: keys, cuts, hashes, isValid: () => false });
  assert.deepEqual(plan.map((s) => [s.first, s.last]), [[0, 11], [12, 23]]);
  const owned = plan.flatMap((s) => s.jobs.flatMap((j) => j.frames)).sort((a, b) => a - b);
  assert.deepEqual(owned, Array.from({ length: n }, (_, i) => i));
  const kinds = plan.map((s) => s.jobs.map((j) => `${j.kind}:${j.keys.join('+')}`));
  assert.deepEqual(kinds, [['head:3', 'interval:3+8', 'interval:8+11'], ['head:15', 'tail:15']]);
  // Jobs stay inside their shot: the sources never cross the cut.
  for (const s of plan) for (const j of s.jobs) assert.ok(j.sources[0] >= s.first && j.sources[1] <= s.last);
  // Same content, same ids; one changed hash changes that job's id only.
  const again = planFarm({ frameCount: n, keyFrames: keys, cuts, hashes, isValid: () => false });
  assert.deepEqual(again.flatMap((s) => s.jobs.map((j) => j.id)), plan.flatMap((s) => s.jobs.map((j) => j.id)));
  const edited = planFarm({ frameCount: n, keyFrames: keys, cuts, hashes: hashes.map((h, i) => (i === 9 ? 'changed-xx' : h)), isValid: () => false });
  const diff = edited.flatMap((s) => s.jobs).filter((j, i) => j.id !== plan.flatMap((s) => s.jobs)[i]!.id);
  assert.deepEqual(diff.map((j) => j.keys), [[8, 11]]);
  const partly = planFarm({ frameCount: n, keyFrames: keys, cuts, hashes, isValid: (f) => f < 8 });
  assert.deepEqual(partly[0]!.jobs.map((j) => j.pending.length), [0, 0, 4]);
});

test('farm commands: usage mistakes exit 2; an unreachable Redis is said plainly, password hidden', async () => {
  const { runCli } = await import('../cli/run-cli.ts');
  let r = await runCli(['farm', 'submit', 'x.rrproj'], { env: {} });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--redis URL is needed/);
  r = await runCli(['farm', 'launch', '--redis', 'redis://h']);
  assert.equal(r.code, 2);
  r = await runCli(['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0', '--store', '/tmp']);
  assert.equal(r.code, 2);
  // Port 1 on loopback refuses at once.
  r = await runCli(['farm', 'status', '--redis', 'redis://:hunter2@127.0.0.1:1']);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
  assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
});

test('served artifact store: token required, bodies must hash to their names, client checks reads', async () => {
  const { serveArtifacts, HttpArtifactStore, urlUnder } = await import('../../src-main/farm/http-store.ts');
  const dir = await makeTempDir('rerender-farm-http-');
  const token = 'a-token-of-twenty-two-chars-or-more';
  const served = await serveArtifacts(new FolderArtifactStore(dir), { token, port: 0, host: '127.0.0.1' });
  try {
    const client = new HttpArtifactStore(served.url, token);
    const bytes = new TextEncoder().encode('render 3');
    const h = await client.put(bytes);
    assert.equal(h, sha256(bytes));
    assert.deepEqual(Buffer.from(await client.get(h)), Buffer.from(bytes));
    assert.ok(await new FolderArtifactStore(dir).has(h), 'stored in the owner\'s folder');
    await assert.rejects(new HttpArtifactStore(served.url, 'wrong-token-wrong-token-wrong').get(h), /401/);
    const lie = await fetch(`${served.url}/artifacts/${'b'.repeat(64)}`, { method: 'PUT', body: bytes, headers: { authorization: `Bearer ${token}` } });
    assert.equal(lie.status, 400);
    await assert.rejects(client.get('c'.repeat(64)), { code: 'ARTIFACT_MISSING' });
    const other = await fetch(`${served.url}/etc/passwd`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(other.status, 404);
  } finally {
    await served.close();
    await removeDir(dir);
  }
  assert.ok(urlUnder('http://owner:7070/farm', 'http://owner:7070'));
  assert.ok(!urlUnder('http://owner:7071', 'http://owner:7070'));
  assert.ok(!urlUnder('http://owner:7070.evil.com', 'http://owner:7070'));
  assert.ok(!urlUnder('http://owner:7070/farmer', 'http://owner:7070/farm'));
  assert.ok(!urlUnder('http://user:pw@owner:7070', 'http://owner:7070'));
});
