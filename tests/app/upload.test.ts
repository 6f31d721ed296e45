import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../src-main/serve/server.ts';
import { sanitizeUploadName } from '../../src-main/serve/upload.ts';
import { FakeHost } from './fakes.ts';

interface Reply {
  status: number;
  body: string;
}

const TOKEN = 'upload-test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** An authenticated PUT of `body` to `pathname`; `chunked` sends it without a Content-Length. */
function put(port: number, pathname: string, body: Uint8Array, opts: { headers?: Record<string, string>; chunked?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `127.0.0.1:${port}`, ...AUTH, ...(opts.chunked ? {} : { 'content-length': String(body.length) }), ...opts.headers };
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method: 'PUT', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    // A refused upload may close the connection while we still write: the answer is what counts.
    req.on('error', (err) => (req.destroyed && (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err)));
    if (opts.chunked) req.write(body);
    req.end(opts.chunked ? undefined : body);
  });
}

async function withServer(
  maxUploadBytes: number,
  fn: (port: number, uploads: string, root: string) => Promise<void>,
  more: { uploadQuotaBytes?: number; prepare?: (root: string) => void } = {},
) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rr-upload-'));
  const staticDir = path.join(root, 'renderer');
  mkdirSync(staticDir);
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html>');
  more.prepare?.(root);
  const server = await startServer({ port: 0, dataDir: root, staticDir, apiHost: new FakeHost(), maxUploadBytes, uploadQuotaBytes: more.uploadQuotaBytes, token: TOKEN });
  try {
    await fn(server.port, path.join(root, 'uploads'), root);
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 255);

test('PUT /upload stores the exact bytes under the sanitized name and never overwrites', async () => {
  await withServer(1 << 20, async (port, uploads) => {
    const data = bytes(200_000);
    const r = await put(port, '/upload/clip.mp4', data, { headers: { origin: `http://127.0.0.1:${port}` } });
    assert.equal(r.status, 201, r.body);
    const stored = JSON.parse(r.body) as { path: string; name: string; size: number };
    assert.equal(stored.path, path.join(uploads, 'clip.mp4'));
    assert.equal(stored.size, data.length);
    assert.deepEqual(new Uint8Array(readFileSync(stored.path)), data);

    const again = JSON.parse((await put(port, '/upload/clip.mp4', bytes(10))).body) as { path: string };
    assert.equal(again.path, path.join(uploads, 'clip (2).mp4'));
    assert.equal(readFileSync(stored.path).length, data.length, 'the first upload is intact');

    const sneaky = JSON.parse((await put(port, `/upload/${encodeURIComponent('../../etc/.pass\u0000wd.mp4')}`, bytes(5))).body) as { path: string };
    assert.equal(path.dirname(sneaky.path), uploads);
    assert.equal(path.basename(sneaky.path), 'passwd.mp4');
    // Chunked (no Content-Length) is counted as it streams.
    assert.equal((await put(port, '/upload/chunked.webm', bytes(1000), { chunked: true })).status, 201);
    assert.deepEqual(readdirSync(uploads).sort(), ['.index.json', 'chunked.webm', 'clip (2).mp4', 'clip.mp4', 'passwd.mp4'], 'no temporary files remain');
  });
});

test('PUT /upload refuses foreign hosts and origins, other methods, and bodies over the limit', async () => {
  await withServer(1000, async (port, uploads) => {
    assert.equal((await put(port, '/upload/a.mp4', bytes(10), { headers: { host: `evil.example:${port}` } })).status, 403);
    assert.equal((await put(port, '/upload/a.mp4', bytes(10), { headers: { origin: 'http://evil.example' } })).status, 403);
    const tooBig = await put(port, '/upload/big.mp4', bytes(1001));
    assert.equal(tooBig.status, 413);
    assert.equal((JSON.parse(tooBig.body) as { code: string }).code, 'TOO_LARGE');
    const streamedTooBig = await put(port, '/upload/big.mp4', bytes(5000), { chunked: true });
    assert.equal(streamedTooBig.status, 413);
    assert.equal((await put(port, '/upload/ok.mp4', bytes(1000))).status, 201);
    const get = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/upload/ok.mp4', headers: { host: `127.0.0.1:${port}`, ...AUTH } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(get, 405, 'uploads are not served back');
    assert.deepEqual(readdirSync(uploads).sort(), ['.index.json', 'ok.mp4'], 'refused uploads leave nothing behind');
  });
});

test('upload names: last segment, no hidden or control characters, bounded length, extension kept', () => {
  assert.equal(sanitizeUploadName('clip.mp4'), 'clip.mp4');
  assert.equal(sanitizeUploadName('C:\\Users\\me\\My Clip (1).MOV'), 'My Clip (1).MOV');
  assert.equal(sanitizeUploadName('../..'), 'upload');
  assert.equal(sanitizeUploadName('.bashrc'), 'bashrc');
  assert.equal(sanitizeUploadName('a\u0000b\nc<d>|e?.mp4'), 'abc_d__e_.mp4');
  assert.equal(sanitizeUploadName('café.mp4'), 'café.mp4');
  assert.equal(sanitizeUploadName(''), 'upload');
  const long = sanitizeUploadName(`${'x'.repeat(500)}.webm`);
  assert.equal(long.length, 120);
  assert.ok(long.endsWith('.webm'));
});

test('PUT /upload: a total quota for the uploads folder, checked up front and while streaming', async () => {
  await withServer(
    10_000,
    async (port, uploads) => {
      assert.equal((await put(port, '/upload/first.mp4', bytes(600))).status, 201);
      const declared = await put(port, '/upload/second.mp4', bytes(500));
      assert.equal(declared.status, 507, declared.body);
      const body = JSON.parse(declared.body) as { code: string; message: string };
      assert.equal(body.code, 'QUOTA_EXCEEDED');
      assert.match(body.message, /--upload-quota-mb/);
      assert.equal((await put(port, '/upload/second.mp4', bytes(500), { chunked: true })).status, 507, 'counted while streaming too');
      assert.equal((await put(port, '/upload/third.mp4', bytes(400))).status, 201, 'what fits is still accepted');
      assert.deepEqual(readdirSync(uploads).filter((n) => !n.startsWith('.')).sort(), ['first.mp4', 'third.mp4']);
    },
    { uploadQuotaBytes: 1000 },
  );
});

test('uploads clean-up: leftovers and expired unused uploads go; used, fresh and unknown files stay', async () => {
  const day = 24 * 3600 * 1000;
  await withServer(
    1 << 20,
    async (port, uploads, root) => {
      // At start: everything swept but what a project uses, what is fresh, and what we never uploaded.
      assert.deepEqual(readdirSync(uploads).sort(), ['.index.json', 'fresh.mp4', 'legacy.mp4', 'used.mp4']);
      assert.equal(readFileSync(path.join(root, 'secret.txt'), 'utf8'), 'keep', 'a damaged index never reaches outside the folder');
      const index = JSON.parse(readFileSync(path.join(uploads, '.index.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(index).sort(), ['fresh.mp4', 'used.mp4']);

      // An upload in flight keeps its temporary file while another upload's clean-up runs.
      let answer: Promise<Reply> | null = null;
      const slow = http.request({ host: '127.0.0.1', port, path: '/upload/slow.mp4', method: 'PUT', headers: { host: `127.0.0.1:${port}`, ...AUTH } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        answer = new Promise((r) => res.on('end', () => r({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() })));
      });
      slow.write(bytes(100));
      const part = async () => {
        for (let i = 0; i < 200; i++) {
          const found = readdirSync(uploads).find((n) => n.endsWith('.part'));
          if (found) return found;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error('no temporary file appeared');
      };
      const tmp = await part();
      assert.equal((await put(port, '/upload/other.mp4', bytes(10))).status, 201);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(readdirSync(uploads).includes(tmp), 'an upload in flight is not a leftover');
      slow.end(bytes(50));
      while (!answer) await new Promise((r) => setTimeout(r, 10));
      const done = await (answer as Promise<Reply>);
      assert.equal(done.status, 201, done.body);
      assert.equal((JSON.parse(done.body) as { size: number }).size, 150);
    },
    {
      prepare: (root) => {
        const uploads = path.join(root, 'uploads');
        mkdirSync(uploads);
        for (const n of ['.upload-0123abcd.part', 'old.mp4', 'used.mp4', 'orphan.mp4', 'fresh.mp4', 'legacy.mp4']) writeFileSync(path.join(uploads, n), 'v');
        writeFileSync(path.join(root, 'secret.txt'), 'keep');
        writeFileSync(path.join(root, 'p.rrproj'), 'project');
        const old = Date.now() - 2 * day;
        writeFileSync(
          path.join(uploads, '.index.json'),
          JSON.stringify({ 'old.mp4': { uploadedAt: old }, 'used.mp4': { uploadedAt: old }, 'orphan.mp4': { uploadedAt: old }, 'fresh.mp4': { uploadedAt: Date.now() }, '../secret.txt': { uploadedAt: old } }),
        );
        writeFileSync(
          path.join(root, 'upload-sources.json'),
          JSON.stringify({ [path.join(root, 'p.rrproj')]: path.join(uploads, 'used.mp4'), [path.join(root, 'gone.rrproj')]: path.join(uploads, 'orphan.mp4') }),
        );
      },
    },
  );
});
