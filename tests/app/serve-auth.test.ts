// Browser mode's access token: nothing is served without it, the printed URL trades it for a
// cookie, scripts may send it as a Bearer header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../src-main/serve/server.ts';
import { tokensEqual } from '../../src-main/serve/auth.ts';
import { FakeHost } from './fakes.ts';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, pathname: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(method === 'PUT' ? 'abc' : undefined);
  });
}

/** The HTTP status of a WebSocket upgrade (101 when it opened). */
function upgradeStatus(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api`, { origin: `http://127.0.0.1:${port}`, headers });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

async function withServer(token: string | null | undefined, fn: (s: RunningServer, host: FakeHost) => Promise<void>) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rr-auth-'));
  const staticDir = path.join(root, 'renderer');
  mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Rerender</title>');
  writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  const host = new FakeHost();
  const server = await startServer({ port: 0, dataDir: root, staticDir, apiHost: host, ...(token === undefined ? {} : { token }) });
  try {
    await fn(server, host);
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

test('a fresh random token per launch, carried once by the printed URL', async () => {
  const seen: string[] = [];
  for (let i = 0; i < 2; i++) {
    await withServer(undefined, async (s) => {
      assert.ok(s.token);
      assert.match(s.token, /^[A-Za-z0-9_-]{43}$/, '256 bits, base64url');
      assert.equal(s.url, `http://127.0.0.1:${s.port}/?token=${s.token}`);
      assert.equal(s.origin, `http://127.0.0.1:${s.port}/`);
      seen.push(s.token);
    });
  }
  assert.notEqual(seen[0], seen[1]);
  await assert.rejects(startServer({ port: 0, dataDir: os.tmpdir(), staticDir: os.tmpdir(), apiHost: new FakeHost(), token: 'short' }), /at least 22/);
  assert.equal(tokensEqual('abc', 'abc'), true);
  assert.equal(tokensEqual('abc', 'abd'), false);
  assert.equal(tokensEqual('abc', 'abcd'), false);
});

test('without the token every route answers 401 and the API is never reached', async () => {
  await withServer(undefined, async (s, host) => {
    const { port } = s;
    for (const p of ['/', '/index.html', '/assets/app.js', '/media/frame/source/3.png', '/api', '/anything']) {
      const r = await request(port, p);
      assert.equal(r.status, 401, p);
      assert.match(r.body, /URL printed in the terminal/);
    }
    assert.equal((await request(port, '/upload/x.mp4', { 'content-length': '3' }, 'PUT')).status, 401);
    assert.equal((await request(port, '/?token=wrong-token-aaaaaaaaaaaaaaaaaaaa')).status, 401);
    assert.equal((await request(port, '/', { authorization: 'Bearer nope' })).status, 401);
    assert.equal((await request(port, '/', { authorization: `Basic ${s.token}` })).status, 401);
    // A cookie named for another port (another server on this machine) does not count.
    assert.equal((await request(port, '/', { cookie: `rerender_token_${port + 1}=${s.token}` })).status, 401);
    assert.equal(await upgradeStatus(port, {}), 401);
    assert.equal(await upgradeStatus(port, { cookie: `rerender_token_${port}=wrong` }), 401);
    assert.equal(host.mediaCalls.length, 0);
    assert.equal(host.calls.length, 0);
  });
});

test('the printed URL sets an HttpOnly SameSite=Strict cookie and redirects to the clean URL; cookie and Bearer both work', async () => {
  await withServer(undefined, async (s) => {
    const { port, token } = s;
    const first = await request(port, new URL(s.url).pathname + new URL(s.url).search);
    assert.ok(first.status === 302 || first.status === 303, String(first.status));
    assert.equal(first.headers.location, '/');
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    assert.match(setCookie, new RegExp(`^rerender_token_${port}=${token};`));
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\//);
    // Other query parameters survive the redirect.
    assert.equal((await request(port, `/media/frame/source/3.png?v=2&token=${token}`)).headers.location, '/media/frame/source/3.png?v=2');

    const cookie = setCookie.split(';')[0]!;
    const page = await request(port, '/', { cookie: `other=1; ${cookie}` });
    assert.equal(page.status, 200);
    assert.match(page.body, /Rerender/);
    assert.equal((await request(port, '/media/frame/source/3.png', { cookie })).status, 200);
    assert.equal((await request(port, '/assets/app.js', { authorization: `Bearer ${token}` })).status, 200);
    assert.equal(await upgradeStatus(port, { cookie }), 101);
    assert.equal(await upgradeStatus(port, { authorization: `Bearer ${token}` }), 101);
    // The Host and Origin checks still apply to token holders.
    assert.equal((await request(port, '/', { cookie, host: 'evil.example' })).status, 403);
    assert.equal((await request(port, '/', { cookie, origin: 'http://evil.example' })).status, 403);
  });
});

test('token: null serves without a token (the --no-token escape hatch)', async () => {
  await withServer(null, async (s) => {
    assert.equal(s.token, null);
    assert.equal(s.url, s.origin);
    assert.equal((await request(s.port, '/')).status, 200);
    assert.equal(await upgradeStatus(s.port, {}), 101);
  });
});

test('serve/main.ts prints the tokened URL; --no-token warns on stderr and prints a plain one', async () => {
  const { spawn } = await import('node:child_process');
  const root = mkdtempSync(path.join(os.tmpdir(), 'rr-auth-main-'));
  const run = (extra: string[]) =>
    new Promise<{ out: string; err: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['src-main/serve/main.ts', '--port', '0', '--data-dir', root, '--static-dir', root, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) child.kill('SIGTERM');
      });
      child.on('error', reject);
      child.on('exit', () => resolve({ out, err }));
    });
  try {
    const normal = await run([]);
    assert.match(normal.out, /at http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}\n/);
    assert.doesNotMatch(normal.err, /warning/);
    const open = await run(['--no-token']);
    assert.match(open.out, /at http:\/\/127\.0\.0\.1:\d+\/\n/);
    assert.match(open.err, /warning: --no-token/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
