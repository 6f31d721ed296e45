// Browser mode against a hostile or broken peer: hand-built WebSocket frames and bad HTTP must
// close only the offending connection (with the right close code) while the server, its other
// clients and their events carry on; and bad requests are 4xx, not 500.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer } from '../../src-main/serve/server.ts';
import { HostError } from '../../src-main/api/host.ts';
import { decodeWire } from '../../src-main/serve/wire.ts';
import { FakeHost } from './fakes.ts';

const TOKEN = 'frames-test-token-0123456789abcdef';

/** A host whose media reader fails like the real one can: no project open, or a bug. */
class FailingMediaHost extends FakeHost {
  override async media(route: string, req: { range?: string; ifNoneMatch?: string }) {
    if (route === 'no-project.png') throw new HostError('NO_PROJECT', 'No project is open: create or open one first.');
    if (route === 'out-of-range.png') throw Object.assign(new Error('frame 99 is past the end'), { code: 'OUT_OF_RANGE' });
    if (route === 'bug.png') throw new TypeError('cannot read properties of undefined');
    return super.media(route, req);
  }
}

async function withServer(fn: (port: number, host: FakeHost) => Promise<void>) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rr-frames-'));
  const staticDir = path.join(root, 'renderer');
  mkdirSync(staticDir);
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html>');
  const host = new FailingMediaHost();
  const server = await startServer({ port: 0, dataDir: root, staticDir, apiHost: host, token: TOKEN });
  try {
    await fn(server.port, host);
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

function get(port: number, pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: pathname, headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${TOKEN}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      })
      .on('error', reject);
  });
}

/** A raw TCP connection upgraded to a WebSocket by hand; resolves once the 101 is read. */
async function rawSocket(port: number): Promise<{ sock: net.Socket; closeCode: Promise<number> }> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.write(
    [
      'GET /api HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      `Origin: http://127.0.0.1:${port}`,
      `Authorization: Bearer ${TOKEN}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  );
  let buf = Buffer.alloc(0);
  let upgraded: () => void = () => undefined;
  const ready = new Promise<void>((r) => (upgraded = r));
  // Resolves with the status code of the server's close frame (-1 if the socket ends without one).
  const closeCode = new Promise<number>((resolve) => {
    let headerDone = false;
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!headerDone) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        assert.match(buf.subarray(0, end).toString(), /^HTTP\/1\.1 101/);
        buf = buf.subarray(end + 4);
        headerDone = true;
        upgraded();
      }
      // Server frames are unmasked and small here: opcode in byte 0, 7-bit length in byte 1.
      while (buf.length >= 2 && buf.length >= 2 + (buf[1]! & 0x7f)) {
        const opcode = buf[0]! & 0x0f;
        const len = buf[1]! & 0x7f;
        if (opcode === 0x8) return resolve(len >= 2 ? buf.readUInt16BE(2) : 1005);
        buf = buf.subarray(2 + len);
      }
    });
    sock.on('close', () => resolve(-1));
  });
  await ready;
  return { sock, closeCode };
}

/** A client frame: FIN set, `rsv` bits, masked unless told otherwise; `claimLength` lies about the length. */
function frame(opcode: number, payload: Buffer, opts: { rsv?: number; masked?: boolean; claimLength?: bigint } = {}): Buffer {
  const masked = opts.masked ?? true;
  const head = [0x80 | ((opts.rsv ?? 0) << 4) | opcode];
  const len = opts.claimLength ?? BigInt(payload.length);
  const m = masked ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126n) head.push(m | Number(len));
  else if (len < 65536n) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len));
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len);
  }
  const key = masked ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

test('bad WebSocket frames close only their socket, with the protocol close code; the server and other clients carry on', async () => {
  await withServer(async (port, host) => {
    // A well-behaved client that must keep receiving events throughout.
    const good = new WebSocket(`ws://127.0.0.1:${port}/api`, { origin: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${TOKEN}` } });
    await new Promise((r, j) => good.once('open', r).once('error', j));
    const events: unknown[] = [];
    good.on('message', (d) => events.push(decodeWire(String(d))));

    const text = Buffer.from('{"id":1,"method":"recentProjects","args":[]}');
    const cases: Array<[string, Buffer, number]> = [
      ['unmasked client frame', frame(0x1, text, { masked: false }), 1002],
      ['invalid UTF-8 text', frame(0x1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 1007],
      ['reserved opcode', frame(0x3, text), 1002],
      ['RSV1 without an extension', frame(0x1, text, { rsv: 4 }), 1002],
      // 250 MB announced: refused from the header, before any of it is buffered.
      ['frame over the payload limit', frame(0x2, Buffer.alloc(0), { claimLength: 250_000_000n }), 1009],
    ];
    const rssBefore = process.memoryUsage().rss;
    for (const [what, bytes, expected] of cases) {
      const { sock, closeCode } = await rawSocket(port);
      sock.write(bytes);
      if (expected === 1009) sock.write(Buffer.alloc(4 << 20)); // some of the announced body: discarded, not kept
      assert.equal(await closeCode, expected, what);
      sock.destroy();
      host.emit('job', { id: what });
      assert.equal((await get(port, '/')).status, 200, `the server still answers after: ${what}`);
    }
    assert.ok(process.memoryUsage().rss - rssBefore < 64 * 1024 * 1024, 'no big buffer is kept');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      events.map((e) => (e as { payload: { id: string } }).payload.id),
      cases.map((c) => c[0]),
      'the other client saw every event',
    );
    assert.equal(good.readyState, WebSocket.OPEN);
    good.close();
  });
});

test('a request Node cannot parse gets 400 and the server lives', async () => {
  await withServer(async (port) => {
    const reply = await new Promise<string>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.write('NOT A REQUEST\r\n\r\n'));
      let out = '';
      sock.on('data', (d: Buffer) => (out += d.toString()));
      sock.on('close', () => resolve(out));
      sock.on('error', () => resolve(out));
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await get(port, '/')).status, 200);
  });
});

test('bad requests are 4xx with a clear message; 500 only for bugs', async () => {
  await withServer(async (port) => {
    const badEncoding = await get(port, '/media/frame/source/%E0%A4%A.png');
    assert.equal(badEncoding.status, 400);
    assert.match(badEncoding.body, /percent-encoding/);
    assert.equal((await get(port, '/assets/%zz.js')).status, 400);
    const noProject = await get(port, '/media/no-project.png');
    assert.equal(noProject.status, 409);
    assert.match(noProject.body, /No project is open/);
    assert.equal((await get(port, '/media/out-of-range.png')).status, 404);
    const original = console.error;
    const logged: unknown[] = [];
    console.error = (...a: unknown[]) => void logged.push(a);
    try {
      assert.equal((await get(port, '/media/bug.png')).status, 500);
    } finally {
      console.error = original;
    }
    assert.equal(logged.length, 1, 'a real bug is logged');
    assert.equal((await get(port, '/media/frame/source/3.png')).status, 200);
  });
});
