// Browser mode under hostile traffic: raw WebSocket frames after a valid upgrade, and random API
// calls. After each case the server still answers HTTP and a fresh WebSocket call, and an API
// call is answered with a typed error (never INTERNAL) or a value.
import http from 'node:http';
import net from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import type { FuzzClass } from '../harness.ts';
import { rng } from '../generators/prng.ts';
import { hostileFrames, randomCall } from '../generators/ws.ts';
import { startServer } from '../../../src-main/serve/server.ts';
import { decodeWire, encodeWire } from '../../../src-main/serve/wire.ts';
import { fail, within } from '../support.ts';

interface ServerFixture {
  port: number;
  token: string | undefined;
  paths: string[];
  close(): Promise<void>;
  /** Uncaught errors seen since the last case (a crash of the server's code). */
  uncaught: unknown[];
  onUncaught: (e: unknown) => void;
}

function authHeaders(f: ServerFixture): Record<string, string> {
  return f.token ? { authorization: `Bearer ${f.token}` } : {};
}

function httpGet(f: ServerFixture): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: f.port, path: '/', headers: { host: `127.0.0.1:${f.port}`, ...authHeaders(f) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

function connect(f: ServerFixture): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${f.port}/api`, { origin: `http://127.0.0.1:${f.port}`, headers: authHeaders(f) });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered HTTP ${res.statusCode}`)));
  });
}

type Reply = { kind: 'reply'; msg: Record<string, unknown> } | { kind: 'closed'; code: number };

/** Sends one message and waits for its reply (or the socket's close). */
function call(ws: WebSocket, id: number, method: string, args: unknown): Promise<Reply> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const msg = decodeWire(String(data)) as Record<string, unknown>;
      if (msg.id !== id) return;
      ws.off('message', onMessage);
      resolve({ kind: 'reply', msg });
    };
    ws.on('message', onMessage);
    ws.once('close', (code) => resolve({ kind: 'closed', code }));
    ws.send(encodeWire({ id, method, args }));
  });
}

/** HTTP answers, and a fresh WebSocket carries a call to completion. */
async function expectHealthy(f: ServerFixture, after: string): Promise<void> {
  try {
    await within(3000, 'HTTP GET /', httpGet(f));
    const ws = await within(3000, 'WebSocket upgrade', connect(f));
    try {
      const r = await within(3000, 'recentProjects', call(ws, 1, 'recentProjects', []));
      if (r.kind !== 'reply' || r.msg.ok !== true) fail('crash', `after ${after}: a fresh call got ${JSON.stringify(r)}`);
    } finally {
      ws.terminate();
    }
  } catch (e) {
    if (e instanceof Error && 'failure' in e) throw e;
    fail('crash', `after ${after}: the server no longer answers (${e instanceof Error ? e.message : String(e)})`);
  }
  if (f.uncaught.length > 0) {
    const e = f.uncaught.splice(0)[0];
    fail('crash', `after ${after}: uncaught ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
}

/** A raw TCP connection that completes a valid upgrade, then sends `chunks`. */
async function rawFrames(f: ServerFixture, chunks: Buffer[]): Promise<void> {
  const sock = net.connect(f.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.on('error', () => {});
  const headers = [
    'GET /api HTTP/1.1', `Host: 127.0.0.1:${f.port}`, `Origin: http://127.0.0.1:${f.port}`, 'Upgrade: websocket', 'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', ...(f.token ? [`Authorization: Bearer ${f.token}`] : []), '', '',
  ].join('\r\n');
  let got = '';
  const upgraded = new Promise<boolean>((resolve) => {
    sock.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (got.includes('\r\n\r\n')) resolve(got.startsWith('HTTP/1.1 101'));
    });
    sock.once('close', () => resolve(false));
  });
  sock.write(headers);
  if (!(await within(3000, 'raw upgrade', upgraded))) fail('other', `raw upgrade refused: ${got.split('\r\n')[0]}`);
  for (const c of chunks) sock.write(c);
  // Give the server time to read (and reject) the frames; it may close the socket itself.
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 150);
    sock.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  sock.destroy();
}

export const server: FuzzClass<ServerFixture> = {
  name: 'server',
  async setup(dir) {
    const staticDir = path.join(dir, 'renderer');
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>fuzz</title>');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a video');
    const s = (await startServer({ port: 0, dataDir: path.join(dir, 'data'), staticDir })) as Awaited<ReturnType<typeof startServer>> & { token?: string };
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    const paths = [dir, path.join(dir, 'notes.txt'), path.join(dir, 'missing.mp4'), path.join(dir, 'missing.rrproj'), path.join(dir, 'data'), '/', 'relative/x.rrproj'];
    return { port: s.port, token: s.token, paths, close: () => s.close(), uncaught, onUncaught };
  },
  async teardown(f) {
    await f.close();
    process.off('uncaughtException', f.onUncaught);
    process.off('unhandledRejection', f.onUncaught);
  },
  async run(f, seed) {
    const r = rng(seed);
    if (r.bool(0.4)) {
      const h = hostileFrames(r);
      await rawFrames(f, h.chunks);
      await expectHealthy(f, h.label);
      return h.label;
    }
    const ws = await within(3000, 'WebSocket upgrade', connect(f)).catch((e: unknown) => fail('crash', `cannot connect: ${String(e)}`));
    const labels: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const c = randomCall(r, f.paths);
        const label = `${c.method.slice(0, 30)}(${JSON.stringify(c.args)?.slice(0, 60)})`;
        labels.push(label);
        const reply = await within(5000, label, call(ws, i + 1, c.method, c.args));
        if (reply.kind === 'closed') {
          // Only a message that is not a request at all may close the socket, and not as an error.
          if (Array.isArray(c.args)) fail('other', `${label}: socket closed (${reply.code}) instead of an error reply`);
          if (reply.code === 1011) fail('crash', `${label}: closed with 1011 (internal error)`);
          break;
        }
        const msg = reply.msg as { ok?: boolean; error?: { code?: unknown } };
        if (msg.ok === false && (typeof msg.error?.code !== 'string' || msg.error.code === 'INTERNAL')) {
          fail('other', `${label}: untyped error ${JSON.stringify(msg.error).slice(0, 300)}`);
        }
        if (msg.ok !== true && msg.ok !== false) fail('other', `${label}: reply without ok: ${JSON.stringify(msg).slice(0, 200)}`);
      }
    } finally {
      ws.terminate();
    }
    await expectHealthy(f, labels.join('; '));
    return labels.join('; ');
  },
};
