// Browser mode's `/exports/<job id>`: serves only what an export started through this server wrote,
// needs the access token, and honours byte ranges (a <video> element seeks with them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer } from '../../src-main/serve/server.ts';
import { contentDisposition, parseRange } from '../../src-main/serve/downloads.ts';
import { decodeWire, encodeWire } from '../../src-main/serve/wire.ts';
import { FakeHost } from '../app/fakes.ts';

const TOKEN = 'test-token-0123456789abcdefghij';
const VIDEO = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

/** A host whose startJob answers an export job, and whose listJobs says which jobs are done. */
class ExportHost extends FakeHost {
  jobs: Record<string, unknown>[] = [];
  override async call(name: string, args: unknown[]): Promise<unknown> {
    if (name === 'startJob') {
      const req = args[0] as { kind: string; outPath: string };
      const job = { id: `job${this.jobs.length + 1}`, kind: req.kind, status: 'running', output: null, outPath: req.outPath };
      this.jobs.push(job);
      return job;
    }
    if (name === 'listJobs') return this.jobs;
    return super.call(name, args);
  }
  finish(id: string, output: string): void {
    const j = this.jobs.find((x) => x.id === id)!;
    Object.assign(j, { status: 'done', output });
  }
}

type Reply = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
function request(port: number, pathname: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method, headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts a job over the WebSocket, as the editor does; answers its id. */
async function startExport(port: number, outPath: string): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api`, { origin: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${TOKEN}` } });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const reply = new Promise<Record<string, unknown>>((r) => ws.once('message', (d) => r(decodeWire(String(d)) as Record<string, unknown>)));
  ws.send(encodeWire({ id: 1, method: 'startJob', args: [{ kind: 'export', outPath }] }));
  const value = (await reply).value as { id: string };
  ws.close();
  return value.id;
}

async function withServer(fn: (s: { port: number; host: ExportHost; root: string }) => Promise<void>): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rr-dl-'));
  const staticDir = path.join(root, 'renderer');
  mkdirSync(staticDir, { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html>');
  const host = new ExportHost();
  const server = await startServer({ port: 0, dataDir: root, staticDir, apiHost: host, token: TOKEN });
  try {
    await fn({ port: server.port, host, root });
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

test('a finished export is served whole, by range, and as an attachment; only with the token', async () => {
  await withServer(async ({ port, host, root }) => {
    const out = path.join(root, 'my clip é.mp4');
    writeFileSync(out, VIDEO);
    const id = await startExport(port, out);
    // Not finished yet: nothing to fetch.
    assert.equal((await request(port, `/exports/${id}`)).status, 404);
    host.finish(id, out);

    const whole = await request(port, `/exports/${id}`);
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.body, VIDEO);
    assert.equal(whole.headers['content-type'], 'video/mp4');
    assert.equal(whole.headers['accept-ranges'], 'bytes');
    assert.match(String(whole.headers['content-disposition']), /^inline;/);

    const part = await request(port, `/exports/${id}`, { range: 'bytes=100-199' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], 'bytes 100-199/1000');
    assert.deepEqual(part.body, VIDEO.subarray(100, 200));
    const tail = await request(port, `/exports/${id}`, { range: 'bytes=-10' });
    assert.deepEqual(tail.body, VIDEO.subarray(990));
    const open = await request(port, `/exports/${id}`, { range: 'bytes=995-' });
    assert.equal(open.headers['content-range'], 'bytes 995-999/1000');
    const bad = await request(port, `/exports/${id}`, { range: 'bytes=5000-' });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */1000');

    const dl = await request(port, `/exports/${id}?download=1`);
    assert.equal(dl.headers['content-disposition'], `attachment; filename="my clip _.mp4"; filename*=UTF-8''my%20clip%20%C3%A9.mp4`);
    const head = await request(port, `/exports/${id}`, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '1000');
    assert.equal(head.body.length, 0);

    assert.equal((await request(port, `/exports/${id}`, { authorization: 'Bearer wrong-token-0123456789abcdef' })).status, 401);
    assert.equal((await request(port, `/exports/${id}`, { authorization: '' })).status, 401);
    assert.equal((await request(port, `/exports/${id}`, {}, 'DELETE')).status, 405);
  });
});

test('nothing but the outputs of exports started here: no other job, no path', async () => {
  await withServer(async ({ port, host, root }) => {
    const secret = path.join(root, 'secret.mp4');
    writeFileSync(secret, 'secret');
    // A done export the server never saw started (an earlier session's, in the project's records).
    host.jobs.push({ id: 'old', kind: 'export', status: 'done', output: secret });
    assert.equal((await request(port, '/exports/old')).status, 404);
    for (const p of [`/exports/${encodeURIComponent(secret)}`, '/exports/..%2Fsecret.mp4', '/exports/', '/exports/a/b']) {
      const r = await request(port, p);
      assert.equal(r.status, 404, p);
      assert.ok(!r.body.includes('secret'), p);
    }
    // A file that went away after the export: said plainly.
    const out = path.join(root, 'gone.mp4');
    writeFileSync(out, VIDEO);
    const id = await startExport(port, out);
    host.finish(id, out);
    rmSync(out);
    const gone = await request(port, `/exports/${id}`);
    assert.equal(gone.status, 404);
    assert.match(gone.body.toString(), /no longer there/);
  });
});

test('range parsing', () => {
  assert.equal(parseRange(undefined, 10), null);
  assert.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
  assert.deepEqual(parseRange('bytes=3-99', 10), { start: 3, end: 9 });
  assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=5-2', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,4-5', 10), null, 'several ranges: the whole file');
  assert.equal(contentDisposition('inline', '/a/"x".mp4'), `inline; filename="_x_.mp4"; filename*=UTF-8''%22x%22.mp4`);
});
