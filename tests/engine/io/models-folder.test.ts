import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import nodePath from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  DownloadError, classifyModel, downloadFile, findHuggingFaceSnapshot, importModel, listModels,
} from '../../../src-main/engine/weights/models-folder.ts';
import { CheckpointError } from '../../../src-main/engine/weights/checkpoint.ts';
import { FIXTURES } from './fixtures.ts';

const tmp = (): string => fs.mkdtempSync(nodePath.join(os.tmpdir(), 'models-'));

test('classifies fixtures by their keys', () => {
  assert.equal(classifyModel(nodePath.join(FIXTURES, 'tiny-sd.safetensors')), 'checkpoint');
  assert.equal(classifyModel(nodePath.join(FIXTURES, 'tiny-sd')), 'checkpoint');
  assert.equal(classifyModel(nodePath.join(FIXTURES, 'tiny-controlnet.safetensors')), 'controlnet');
  assert.equal(classifyModel(nodePath.join(FIXTURES, 'tiny-controlnet')), 'controlnet');
  assert.equal(classifyModel(nodePath.join(FIXTURES, 'tiny-vae-override.safetensors')), 'vae');
  assert.equal(classifyModel(nodePath.join(FIXTURES, 'lora-peft.safetensors')), 'lora');
  assert.equal(classifyModel(nodePath.join(FIXTURES, 'lora-kohya-ldm-f16.safetensors')), 'lora');
});

test('import places models by kind, lists them, refuses duplicates and files that are not weights', () => {
  const dir = tmp();
  for (const f of ['tiny-sd.safetensors', 'tiny-controlnet.safetensors', 'lora-kohya.safetensors', 'tiny-vae-override.safetensors', 'tiny-sd']) {
    importModel(nodePath.join(FIXTURES, f), dir);
  }
  const list = listModels(dir);
  assert.deepEqual(list.map((e) => [e.kind, e.name, e.format]), [
    ['checkpoint', 'tiny-sd', 'diffusers'],
    ['checkpoint', 'tiny-sd.safetensors', 'single-file'],
    ['controlnet', 'tiny-controlnet.safetensors', 'single-file'],
    ['lora', 'lora-kohya.safetensors', 'single-file'],
    ['vae', 'tiny-vae-override.safetensors', 'single-file'],
  ]);
  assert.equal(list[1]!.sizeBytes, fs.statSync(nodePath.join(FIXTURES, 'tiny-sd.safetensors')).size);
  assert.throws(() => importModel(nodePath.join(FIXTURES, 'tiny-sd.safetensors'), dir), /already exists/);
  const junk = nodePath.join(tmp(), 'junk.ckpt');
  fs.writeFileSync(junk, 'x');
  assert.throws(() => importModel(junk, dir), CheckpointError);
});

test('finds a huggingface_hub snapshot, preferring refs/main', () => {
  const hub = tmp();
  const repo = nodePath.join(hub, 'models--org--tiny-sd');
  fs.mkdirSync(nodePath.join(repo, 'snapshots', 'aaa'), { recursive: true });
  fs.mkdirSync(nodePath.join(repo, 'snapshots', 'bbb'), { recursive: true });
  assert.ok(findHuggingFaceSnapshot(hub, 'org/tiny-sd')?.startsWith(nodePath.join(repo, 'snapshots')));
  fs.mkdirSync(nodePath.join(repo, 'refs'));
  fs.writeFileSync(nodePath.join(repo, 'refs', 'main'), 'aaa\n');
  assert.equal(findHuggingFaceSnapshot(hub, 'org/tiny-sd'), nodePath.join(repo, 'snapshots', 'aaa'));
  assert.equal(findHuggingFaceSnapshot(hub, 'org/other'), null);
});

/** Serves `payload` with Range support; the first `cutFirst` full requests are cut after `cutAt` bytes. */
async function startServer(payload: Buffer, cutAt: number): Promise<{ url: string; ranges: string[]; close: () => Promise<void> }> {
  const ranges: string[] = [];
  let cuts = 1;
  const server = http.createServer((req, res) => {
    const range = req.headers.range;
    ranges.push(range ?? 'none');
    const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
    const start = m ? Number(m[1]) : 0;
    if (m) res.writeHead(206, { 'content-length': payload.length - start, 'content-range': `bytes ${start}-${payload.length - 1}/${payload.length}` });
    else res.writeHead(200, { 'content-length': payload.length });
    if (!m && cuts-- > 0) {
      // Cut only once the first bytes have had time to reach the client's .part file; cutting at
      // once races the client's write and can leave nothing to resume from.
      res.write(payload.subarray(0, cutAt), () => setTimeout(() => res.destroy(), 150));
      return;
    }
    res.end(payload.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/model.safetensors`, ranges, close: () => new Promise((r) => server.close(() => r())) };
}

test('download is interrupted, then resumes with a Range request and completes', async () => {
  const payload = Buffer.alloc(300_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
  const srv = await startServer(payload, 100_000);
  try {
    const dest = nodePath.join(tmp(), 'sub', 'model.safetensors');
    await assert.rejects(downloadFile(srv.url, dest), (e: unknown) => e instanceof DownloadError && /resume/.test(e.message));
    assert.ok(!fs.existsSync(dest));
    const partial = fs.statSync(`${dest}.part`).size;
    assert.ok(partial > 0 && partial < payload.length);
    const progress: [number, number | null][] = [];
    await downloadFile(srv.url, dest, { onProgress: (d, t) => progress.push([d, t]) });
    assert.deepEqual(fs.readFileSync(dest), payload);
    assert.ok(!fs.existsSync(`${dest}.part`));
    assert.equal(srv.ranges.at(-1), `bytes=${partial}-`);
    assert.deepEqual(progress[0], [partial, payload.length]);
    assert.deepEqual(progress.at(-1), [payload.length, payload.length]);
  } finally {
    await srv.close();
  }
});

test('offline (connection refused) fails with a clear message', async () => {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  const dest = nodePath.join(tmp(), 'm.safetensors');
  await assert.rejects(downloadFile(`http://127.0.0.1:${port}/m.safetensors`, dest), (e: unknown) => e instanceof DownloadError && /could not reach .*offline/i.test(e.message));
  assert.ok(!fs.existsSync(dest));
});

test('HTTP errors and abort', async () => {
  const server = http.createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await assert.rejects(downloadFile(`http://127.0.0.1:${port}/x`, nodePath.join(tmp(), 'x')), /HTTP 404/);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(downloadFile(`http://127.0.0.1:${port}/x`, nodePath.join(tmp(), 'y'), { signal: ac.signal }), { name: 'AbortError' });
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
