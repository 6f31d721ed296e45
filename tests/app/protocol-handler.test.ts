import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createProtocolHandler } from '../../src-main/app/protocol-handler.ts';
import { FakeHost } from './fakes.ts';

test('rerender:// serves the app and forwards media with Range and ETag', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rr-proto-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const renderer = path.join(root, 'renderer');
  mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(path.join(renderer, 'assets', 'a.js'), 'export {}');
  writeFileSync(path.join(root, 'secret.txt'), 'secret');
  const host = new FakeHost();
  const handle = createProtocolHandler({ rendererDir: renderer, media: (r, q) => host.media(r, q) });

  const index = await handle(new Request('rerender://app/index.html'));
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /text\/html/);
  assert.equal(await index.text(), '<!doctype html><title>x</title>');
  const js = await handle(new Request('rerender://app/assets/a.js'));
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);

  for (const evil of ['rerender://app/..%2Fsecret.txt', 'rerender://app/%2e%2e/secret.txt']) {
    const r = await handle(new Request(evil));
    assert.notEqual(r.status, 200, evil);
    assert.notEqual(await r.text(), 'secret');
  }
  assert.equal((await handle(new Request('rerender://app/missing.js'))).status, 404);
  assert.equal((await handle(new Request('rerender://app/index.html', { method: 'POST', body: 'x' }))).status, 405);

  const part = await handle(new Request('rerender://media/frame/source/3.png', { headers: { range: 'bytes=2-5' } }));
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 2-5/10');
  assert.equal(part.headers.get('access-control-allow-origin'), 'rerender://app');
  assert.deepEqual([...new Uint8Array(await part.arrayBuffer())], [78, 71, 1, 2]);
  const cached = await handle(new Request('rerender://media/frame/source/3.png', { headers: { 'if-none-match': '"v1"' } }));
  assert.equal(cached.status, 304);
  const missing = await handle(new Request('rerender://media/frame/source/99.png'));
  assert.equal(missing.status, 404);
  assert.deepEqual(host.mediaCalls.map((c) => c.route), ['frame/source/3.png', 'frame/source/3.png', 'frame/source/99.png']);
});

test('rerender://media answers 400 to malformed percent-encoding and NUL, and the handler never rejects', async () => {
  const host = new FakeHost();
  const handle = createProtocolHandler({ rendererDir: '/nonexistent', media: (r, q) => host.media(r, q) });
  for (const bad of ['rerender://media/frame/%E0%A4%A.png', 'rerender://media/frame/100%.png', 'rerender://media/%FF', 'rerender://media/frame%00/1.png']) {
    const r = await handle(new Request(bad));
    assert.equal(r.status, 400, bad);
    assert.equal(await r.text(), 'bad media path');
  }
  assert.deepEqual(host.mediaCalls, [], 'nothing malformed reached the services');
  // an encoded but valid route still decodes
  assert.equal((await handle(new Request('rerender://media/frame%2Fsource%2F3.png'))).status, 200);
  // a media reader that throws gives 500, not a rejected promise (an opaque network error in the page)
  const throwing = createProtocolHandler({ rendererDir: '/nonexistent', media: async () => { throw new Error('reader broke'); } });
  const r = await throwing(new Request('rerender://media/x'));
  assert.equal(r.status, 500);
  assert.equal(await r.text(), 'reader broke');
  // a request whose headers cannot be read still gets an answer
  const odd = { url: 'rerender://media/x', method: 'GET', get headers(): Headers { throw new Error('no headers'); } } as unknown as Request;
  assert.equal((await throwing(odd)).status, 500);
});
