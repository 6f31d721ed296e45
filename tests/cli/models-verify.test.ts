// `rerender models download` checks every file against the hash the hub publishes (the tree API's
// lfs.oid / oid, else the resolve URL's x-linked-etag / ETag), resumes interrupted downloads, and
// deletes a file that does not match (exit 4). A huggingface_hub cache is checked against its blob
// names and used in place. The hub is a stand-in on a loopback port: no network.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { EXIT } from '../../src-main/cli/exit-codes.ts';
import { jsonLines, runCli } from './run-cli.ts';

const FIX = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
const SD = 'stable-diffusion-v1-5/stable-diffusion-v1-5';
const CN = 'lllyasviel/control_v11p_sd15_canny';
const BODIES: Record<string, Buffer> = {
  [`/${SD}/resolve/main/v1-5-pruned-emaonly.safetensors`]: fs.readFileSync(path.join(FIX, 'tiny-sd.safetensors')),
  [`/${CN}/resolve/main/config.json`]: fs.readFileSync(path.join(FIX, 'tiny-controlnet', 'config.json')),
  [`/${CN}/resolve/main/diffusion_pytorch_model.safetensors`]: fs.readFileSync(path.join(FIX, 'tiny-controlnet', 'diffusion_pytorch_model.safetensors')),
  // Tiny random stand-ins for the preprocessors' networks, in their original formats.
  ['/lllyasviel/Annotators/resolve/main/ControlNetHED.pth']: fs.readFileSync(path.join(FIX, 'annotators', 'hed-tiny.pth')),
  ['/depth-anything/Depth-Anything-V2-Small-hf/resolve/main/model.safetensors']: fs.readFileSync(path.join(FIX, 'annotators', 'depth-tiny.safetensors')),
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const body = (repo: string, file: string) => BODIES[`/${repo}/resolve/main/${file}`]!;

// What the stand-in hub publishes; reset before each test.
let sdHash = '';
let cutNextGetAt: number | null = null;
const log: { method: string; url: string; range: string | undefined }[] = [];

let dir = '';
let server: http.Server;
let endpoint = '';

before(async () => {
  dir = await makeTempDir('rerender-models-verify-');
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    log.push({ method: req.method ?? '', url, range: req.headers.range });
    // The tree API knows the checkpoint's repo only; the ControlNet's hashes come from headers.
    if (url === `/api/models/${SD}/tree/main`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([
        { type: 'file', path: 'v1-5-pruned-emaonly.safetensors', oid: 'f'.repeat(40), size: 1, lfs: { oid: sdHash, size: 1, pointerSize: 134 } },
        { type: 'file', path: 'README.md', oid: 'e'.repeat(40), size: 1 },
      ]));
      return;
    }
    const data = BODIES[url];
    if (!data) {
      res.writeHead(404).end();
      return;
    }
    if (req.method === 'HEAD') {
      // As the hub does: a redirect to the CDN for LFS files, carrying the sha256; the git blob sha1 as the ETag of small files.
      if (url.endsWith('.json')) res.writeHead(200, { etag: `"${gitSha1(data)}"`, 'content-length': data.length }).end();
      else res.writeHead(302, { location: `${endpoint}/cdn${url}`, 'x-linked-etag': `"${sha256(data)}"`, etag: '"not-the-hash"' }).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const rest = data.subarray(start);
    res.writeHead(m ? 206 : 200, { 'content-length': rest.length, ...(m ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
    if (cutNextGetAt !== null) {
      const cut = cutNextGetAt;
      cutNextGetAt = null;
      res.write(rest.subarray(0, cut), () => res.destroy());
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((r) => server.close(r));
  await removeDir(dir);
});
beforeEach(() => {
  sdHash = sha256(body(SD, 'v1-5-pruned-emaonly.safetensors'));
  cutNextGetAt = null;
  log.length = 0;
});

const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH, HOME: dir, HF_HUB_CACHE: path.join(dir, 'no-hub-cache'), HF_ENDPOINT: endpoint, ...extra });
const download = (models: string, extra: Record<string, string> = {}, flags: string[] = []) => runCli(['models', 'download', '--dir', models, ...flags, '--json'], { env: env(extra) });
const lines = (stdout: string, type: string) => jsonLines(stdout).filter((l) => l.type === type);
const result = (stdout: string) => lines(stdout, 'result')[0] as { models: { kind: string; path: string; source: string; verified: boolean }[] };
const error = (stdout: string) => lines(stdout, 'error')[0]?.message as string;

test('an interrupted download resumes and every file is checked against the hub\'s hash', async () => {
  const models = path.join(dir, 'good');
  cutNextGetAt = 100_000;
  let r = await download(models);
  assert.equal(r.code, EXIT.environment, r.stdout);
  assert.match(error(r.stdout), /interrupted at 100000 bytes.*run it again to resume/);

  r = await download(models);
  assert.equal(r.code, EXIT.ok, r.stdout + r.stderr);
  assert.deepEqual(result(r.stdout).models.map((m) => [m.kind, m.source, m.verified]), [['checkpoint', 'downloaded', true], ['controlnet', 'downloaded', true]]);
  assert.deepEqual(lines(r.stdout, 'warning'), []);
  const resumed = log.find((l) => l.method === 'GET' && l.url.endsWith('.safetensors') && l.range !== undefined);
  assert.equal(resumed?.range, 'bytes=100000-');
  // The ControlNet's hashes came from the resolve URL's headers, asked without following the redirect.
  assert.ok(log.some((l) => l.method === 'HEAD' && l.url === `/${CN}/resolve/main/diffusion_pytorch_model.safetensors`));
  assert.ok(!log.some((l) => l.url.startsWith('/cdn/')));
  assert.deepEqual(fs.readFileSync(path.join(models, 'checkpoints', 'v1-5-pruned-emaonly.safetensors')), body(SD, 'v1-5-pruned-emaonly.safetensors'));
});

test('--annotators also fetches the HED and depth networks into annotators/, each checked', async () => {
  const models = path.join(dir, 'annotators');
  const r = await download(models, {}, ['--annotators']);
  assert.equal(r.code, EXIT.ok, r.stdout + r.stderr);
  assert.deepEqual(result(r.stdout).models.map((m) => [m.kind, path.relative(models, m.path), m.verified]), [
    ['checkpoint', path.join('checkpoints', 'v1-5-pruned-emaonly.safetensors'), true],
    ['controlnet', path.join('controlnet', 'control_v11p_sd15_canny'), true],
    ['annotator', path.join('annotators', 'ControlNetHED.pth'), true],
    ['annotator', path.join('annotators', 'depth_anything_v2_vits.safetensors'), true],
  ]);
  assert.deepEqual(fs.readFileSync(path.join(models, 'annotators', 'ControlNetHED.pth')), fs.readFileSync(path.join(FIX, 'annotators', 'hed-tiny.pth')));
});

test('a file that does not match the published sha256 is deleted and the command says so (exit 4)', async () => {
  const models = path.join(dir, 'bad');
  sdHash = 'a'.repeat(64);
  const r = await download(models);
  assert.equal(r.code, EXIT.environment, r.stdout);
  assert.match(error(r.stdout), /v1-5-pruned-emaonly\.safetensors\.fetching is damaged: its sha256 is [0-9a-f]{12}… but the hub publishes aaaaaaaaaaaa… for it\. The file was deleted/);
  assert.deepEqual(fs.readdirSync(path.join(models, 'checkpoints')), [], 'nothing is left behind, not even the .part');
  assert.ok(!log.some((l) => l.url.includes(CN)), 'it stops at the first bad file');
});

test('a damaged partial download is caught after resuming, deleted, and the next run starts afresh', async () => {
  const models = path.join(dir, 'badpart');
  const part = path.join(models, 'checkpoints', 'v1-5-pruned-emaonly.safetensors.fetching.part');
  fs.mkdirSync(path.dirname(part), { recursive: true });
  fs.writeFileSync(part, Buffer.alloc(5000, 7)); // not the first 5000 bytes of the file
  let r = await download(models);
  assert.equal(r.code, EXIT.environment);
  assert.match(error(r.stdout), /is damaged/);
  assert.equal(fs.existsSync(part), false);
  r = await download(models);
  assert.equal(r.code, EXIT.ok, r.stdout);
  assert.equal(log.filter((l) => l.method === 'GET' && l.url.endsWith('emaonly.safetensors')).at(-1)?.range, undefined);
  assert.equal(result(r.stdout).models[0]!.verified, true);
});

/** A huggingface_hub cache: blobs named by sha256 (or git sha1), snapshot links to them. */
function hubCache(hub: string, blobName: (repo: string, file: string, data: Buffer) => string): void {
  for (const [repo, files] of [[SD, ['v1-5-pruned-emaonly.safetensors']], [CN, ['config.json', 'diffusion_pytorch_model.safetensors']]] as const) {
    const base = path.join(hub, `models--${repo.split('/').join('--')}`);
    const snap = path.join(base, 'snapshots', 'rev1');
    fs.mkdirSync(snap, { recursive: true });
    fs.mkdirSync(path.join(base, 'blobs'), { recursive: true });
    for (const f of files) {
      const data = body(repo, f);
      const blob = path.join(base, 'blobs', blobName(repo, f, data));
      fs.writeFileSync(blob, data);
      fs.symlinkSync(path.relative(snap, blob), path.join(snap, f));
    }
  }
}

test('a huggingface_hub cache is checked against its blob names and used in place; a damaged blob is left alone and downloaded instead', async () => {
  const good = path.join(dir, 'hub-good');
  hubCache(good, (_r, f, d) => (f.endsWith('.json') ? gitSha1(d) : sha256(d)));
  const models = path.join(dir, 'via-cache');
  let r = await download(models, { HF_HUB_CACHE: good });
  assert.equal(r.code, EXIT.ok, r.stdout);
  const res = result(r.stdout).models;
  assert.deepEqual(res.map((m) => [m.source, m.verified]), [['hub-cache', true], ['hub-cache', true]]);
  assert.ok(res.every((m) => m.path.startsWith(good)), 'referenced in the cache, not copied');
  assert.equal(fs.existsSync(models), false);
  assert.equal(log.length, 0, 'no network');

  const bad = path.join(dir, 'hub-bad');
  hubCache(bad, (repo, _f, d) => (repo === SD ? 'b'.repeat(64) : _f.endsWith('.json') ? gitSha1(d) : sha256(d)));
  r = await download(models, { HF_HUB_CACHE: bad });
  assert.equal(r.code, EXIT.ok, r.stdout);
  assert.deepEqual(result(r.stdout).models.map((m) => m.source), ['downloaded', 'hub-cache']);
  assert.match(lines(r.stdout, 'warning')[0]!.message as string, /v1-5-pruned-emaonly\.safetensors in the huggingface_hub cache is damaged .*downloading stable-diffusion-v1-5\/stable-diffusion-v1-5 instead/);
  assert.ok(fs.existsSync(path.join(bad, `models--${SD.split('/').join('--')}`, 'blobs', 'b'.repeat(64))), 'the artist\'s cache is not touched');
});
