import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer } from '../../src-main/serve/server.ts';
import { decodeWire, encodeWire } from '../../src-main/serve/wire.ts';
import { FakeHost } from './fakes.ts';

const TOKEN = 'test-token-0123456789abcdefghij';

/** An authenticated GET (Bearer token) unless `headers.authorization` says otherwise. */
function get(port: number, pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

function connect(url: string, origin: string | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ...(origin === undefined ? {} : { origin }), headers: { authorization: `Bearer ${TOKEN}` } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

async function withServer(fn: (s: { port: number; url: string; host: FakeHost }) => Promise<void>) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rr-serve-'));
  const staticDir = path.join(root, 'renderer');
  mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Rerender</title>');
  writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(root, 'secret.txt'), 'secret');
  const host = new FakeHost();
  const server = await startServer({ port: 0, dataDir: root, staticDir, apiHost: host, token: TOKEN });
  try {
    assert.equal(server.url, `http://127.0.0.1:${server.port}/?token=${TOKEN}`);
    assert.equal(server.origin, `http://127.0.0.1:${server.port}/`);
    await fn({ port: server.port, url: server.url, host });
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
  assert.equal(host.disposed, false, 'an injected host belongs to the caller');
}

test('serves the renderer and media; refuses foreign Host headers and path escapes', async () => {
  await withServer(async ({ port, host }) => {
    const index = await get(port, '/');
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /text\/html/);
    assert.equal((await get(port, '/assets/app.js')).headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal((await get(port, '/assets/nope.js')).status, 404);
    assert.equal((await get(port, '/%2e%2e/secret.txt')).body.toString().includes('secret'), false);
    assert.equal((await get(port, '/..%2Fsecret.txt')).status, 403);

    // DNS rebinding: a request naming another host is refused, whatever its path.
    assert.equal((await get(port, '/', { host: 'evil.example:80' })).status, 403);
    assert.equal((await get(port, '/media/frame/source/3.png', { host: `attacker.test:${port}` })).status, 403);
    assert.equal((await get(port, '/', { origin: 'http://evil.example' })).status, 403);
    assert.equal((await get(port, '/', { host: `localhost:${port}` })).status, 200);

    const full = await get(port, '/media/frame/source/3.png');
    assert.equal(full.status, 200);
    assert.equal(full.headers.etag, '"v1"');
    assert.equal(full.headers['cache-control'], 'no-cache');
    assert.deepEqual([...full.body], [137, 80, 78, 71, 1, 2, 3, 4, 5, 6]);
    const part = await get(port, '/media/frame/source/3.png', { range: 'bytes=1-3' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], 'bytes 1-3/10');
    assert.deepEqual([...part.body], [80, 78, 71]);
    const cached = await get(port, '/media/frame/source/3.png', { 'if-none-match': '"v1"' });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
    assert.equal((await get(port, '/media/frame/source/42.png')).status, 404);
    assert.deepEqual(host.mediaCalls.slice(-3).map((c) => c.req), [{ range: 'bytes=1-3' }, { ifNoneMatch: '"v1"' }, {}]);
  });
});

test('WebSocket /api: same-origin only, requests with bytes, typed errors, events', async () => {
  await withServer(async ({ port, host }) => {
    const api = `ws://127.0.0.1:${port}/api`;
    await assert.rejects(connect(api, 'http://evil.example'), /403/);
    await assert.rejects(connect(api, undefined), /403/);
    await assert.rejects(connect(`ws://127.0.0.1:${port}/other`, `http://127.0.0.1:${port}`), /403/);
    assert.equal(host.calls.length, 0);

    const ws = await connect(api, `http://127.0.0.1:${port}`);
    const inbox: unknown[] = [];
    const waiters: Array<() => void> = [];
    ws.on('message', (d) => {
      inbox.push(decodeWire(String(d)));
      waiters.splice(0).forEach((w) => w());
    });
    const next = async (pred: (m: Record<string, unknown>) => boolean) => {
      for (;;) {
        const found = inbox.find((m) => pred(m as Record<string, unknown>));
        if (found) return found as Record<string, unknown>;
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    ws.send(encodeWire({ id: 1, method: 'importKeyframeImage', args: [4, new Uint8Array([9, 8, 7])] }));
    assert.deepEqual(await next((m) => m.id === 1), { id: 1, ok: true, value: { frame: 4, byteLength: 3, first: 9, isBytes: true } });
    ws.send(encodeWire({ id: 2, method: 'openProject', args: ['/missing'] }));
    assert.deepEqual(await next((m) => m.id === 2), { id: 2, ok: false, error: { code: 'PROJECT_NOT_FOUND', message: 'no project at /missing' } });
    host.emit('job', { id: 'j', done: 1, total: 2 });
    assert.deepEqual(await next((m) => m.event === 'job'), { event: 'job', payload: { id: 'j', done: 1, total: 2 } });
    // Valid JSON whose bytes are not base64: answered as a bad argument, the socket stays.
    ws.send('{"id":3,"method":"importKeyframeImage","args":[1,{"$bytes":"!!!"}]}');
    assert.deepEqual(await next((m) => m.id === 3), { id: 3, ok: false, error: { code: 'INVALID_ARGUMENT', message: 'The request carries bytes that are not valid base64.' } });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('not json');
    assert.equal(await closed, 1003);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(host.listenerCount('job'), 0, 'a closed connection stops listening');
  });
});

test('refuses to bind anything but loopback', async () => {
  await assert.rejects(
    startServer({ host: '0.0.0.0' as '127.0.0.1', port: 0, dataDir: os.tmpdir(), staticDir: os.tmpdir(), apiHost: new FakeHost() }),
    /loopback only/,
  );
});
