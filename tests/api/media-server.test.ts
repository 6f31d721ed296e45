// The media server's source-frame cache across project switches: a decode still running for the
// old project must not fill the new project's cache nor drop the new project's in-flight entry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaServer } from '../../src-main/api/media-server.ts';
import type { MediaTools } from '../../src-main/media/index.ts';
import type { Project } from '../../src-main/project/index.ts';

/** Just what the source route reads from a project. */
function fakeProject(path: string, sha256: string): Project {
  const fake = {
    path,
    frameCount: 10,
    source: () => ({ sha256, working: { width: 4, height: 2, crop: null } }),
    getCache: () => null,
  };
  return fake as unknown as Project;
}

interface Held {
  project: Project;
  frame: number;
  release(): void;
}

/** A decoder whose every decode waits until released, and answers "<project path>#<frame>". */
function heldDecoder(): { decode: (p: Project, f: number) => Promise<Uint8Array>; calls: Held[] } {
  const calls: Held[] = [];
  const decode = (project: Project, frame: number): Promise<Uint8Array> =>
    new Promise((resolve) => {
      calls.push({ project, frame, release: () => resolve(new TextEncoder().encode(`${project.path}#${frame}`)) });
    });
  return { decode, calls };
}

const text = (b: Uint8Array | null): string => new TextDecoder().decode(b ?? new Uint8Array());
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup() {
  let current = fakeProject('/p/old.rrproj', 'a'.repeat(64));
  const dec = heldDecoder();
  const media = new MediaServer({
    project: () => current,
    tools: () => Promise.resolve({} as MediaTools),
    decode: dec.decode,
  });
  return { media, dec, open: (p: Project) => ((current = p), media.reset()) };
}

test('a decode finishing after another project opened never shows in the new project', async () => {
  const { media, dec, open } = setup();
  const oldReq = media.handle('frame/source/0.png', {});
  await tick();
  assert.equal(dec.calls.length, 1);

  open(fakeProject('/p/new.rrproj', 'b'.repeat(64)));
  dec.calls[0]!.release(); // the old project's decode ends only now
  assert.equal(text((await oldReq).body), '/p/old.rrproj#0');

  const newReq = media.handle('frame/source/0.png', {});
  await tick();
  assert.equal(dec.calls.length, 2, 'the new project decodes its own frame 0');
  dec.calls[1]!.release();
  assert.equal(text((await newReq).body), '/p/new.rrproj#0');
  // And the cache holds the new picture: no third decode, same bytes.
  assert.equal(text((await media.handle('frame/source/0.png', {})).body), '/p/new.rrproj#0');
  assert.equal(dec.calls.length, 2);
});

test("the old project's decode ending does not drop the new project's in-flight entry", async () => {
  const { media, dec, open } = setup();
  const oldReq = media.handle('frame/source/3.png', {});
  await tick();
  open(fakeProject('/p/new.rrproj', 'b'.repeat(64)));
  const first = media.handle('frame/source/3.png', {});
  await tick();
  assert.equal(dec.calls.length, 2);

  dec.calls[0]!.release();
  await oldReq;
  await tick();
  // A second request for frame 3 shares the new decode instead of starting a third.
  const second = media.handle('frame/source/3.png', {});
  await tick();
  assert.equal(dec.calls.length, 2, 'the in-flight decode was forgotten');
  dec.calls[1]!.release();
  assert.deepEqual([text((await first).body), text((await second).body)], ['/p/new.rrproj#3', '/p/new.rrproj#3']);
});

test('reopening the same project, or another, changes the media revision', () => {
  const { media, open } = setup();
  const a = fakeProject('/p/a.rrproj', 'a'.repeat(64));
  const b = fakeProject('/p/b.rrproj', 'a'.repeat(64)); // same video, another project
  open(a);
  const revA = media.rev(a);
  assert.equal(media.rev(a), revA, 'stable while the project stays open');
  assert.notEqual(media.rev(b), revA);
  open(a);
  assert.notEqual(media.rev(a), revA, 'a reopen gets a new revision');
  const resized = { ...a, source: () => ({ sha256: 'a'.repeat(64), working: { width: 8, height: 4, crop: null } }) } as unknown as Project;
  assert.notEqual(media.rev(resized), media.rev(a));
});

// The proxy's fast path: once a frame's segment exists it is served as is (no decode), with its
// own tag; a damaged segment is never served (the request falls back to decoding) and is reported.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { JpegSplitter } from '../../src-main/media/proxy.ts';
import { projectProxyStore } from '../../src-main/studio/proxy.ts';

/** `count` small JPEGs from ffmpeg (testsrc2, 16x8). */
function jpegs(count: number): Uint8Array[] {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=16x8:rate=10', '-frames:v', String(count), '-c:v', 'mjpeg', '-f', 'image2pipe', '-']);
  return new JpegSplitter().push(out);
}

function proxySetup() {
  const dir = mkdtempSync(nodePath.join(os.tmpdir(), 'rr-media-proxy-'));
  const project = fakeProject(nodePath.join(dir, 'p.rrproj'), 'c'.repeat(64));
  const dec = heldDecoder();
  const damaged: number[] = [];
  const media = new MediaServer({
    project: () => project,
    tools: () => Promise.resolve({} as MediaTools),
    decode: dec.decode,
    proxySegment: 4,
    onProxyDamaged: () => damaged.push(1),
  });
  const store = projectProxyStore(project, { segment: 4 });
  return { dir, project, dec, media, store, damaged, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('frames in the proxy are served from it: no decode, a JPEG with its own tag, 304 and ranges honoured', async () => {
  const { media, store, dec, cleanup } = proxySetup();
  try {
    const images = jpegs(4);
    assert.equal(images.length, 4);
    await store.write(1, images); // frames 4..7
    const r = await media.handle('frame/source/6.png', {});
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'image/jpeg');
    assert.deepEqual(r.body, images[2]);
    assert.equal(dec.calls.length, 0, 'nothing was decoded');
    const tag = r.headers.etag!;
    assert.match(tag, /^"sp-[0-9a-f]{16}-6"$/);
    assert.equal((await media.handle('frame/source/6.png', { ifNoneMatch: tag })).status, 304);
    const part = await media.handle('frame/source/6.png', { range: 'bytes=0-1' });
    assert.equal(part.status, 206);
    assert.deepEqual([...part.body!], [0xff, 0xd8]);
    assert.ok(await media.hasProxy() === false, 'segments 0 and 2 are still missing');

    // Frame 2's segment is not there yet: decoded directly, as before.
    const direct = media.handle('frame/source/2.png', {});
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(dec.calls.length, 1);
    dec.calls[0]!.release();
    assert.equal((await direct).headers['content-type'], 'image/png');
  } finally {
    cleanup();
  }
});

test('a damaged proxy segment is not served: the frame is decoded and the damage reported', async () => {
  const { media, store, dec, damaged, cleanup } = proxySetup();
  try {
    const images = jpegs(4);
    await store.write(0, images);
    const file = store.fileOf(0);
    const bytes = readFileSync(file);
    bytes[bytes.length - 10]! ^= 0xff; // inside frame 3's image
    writeFileSync(file, bytes);
    const req = media.handle('frame/source/3.png', {});
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(dec.calls.length, 1, 'decoded instead');
    dec.calls[0]!.release();
    assert.equal(text((await req).body), `${store.root.replace(/\.cache\/proxy$/, '')}#3`);
    assert.deepEqual(damaged, [1]);
  } finally {
    cleanup();
  }
});

test('with the proxy complete, the thumbnail strip is made from it, without decoding the video', async () => {
  const dir = mkdtempSync(nodePath.join(os.tmpdir(), 'rr-media-strip-'));
  try {
    const { locateTools } = await import('../../src-main/media/locate.ts');
    const images = jpegs(8);
    let stored: { data: Uint8Array; meta: unknown } | null = null;
    const project = {
      path: nodePath.join(dir, 's.rrproj'),
      frameCount: 8,
      // No video at this path: a strip made by decoding it would fail.
      source: () => ({ sha256: 'd'.repeat(64), path: nodePath.join(dir, 'missing.mp4'), working: { width: 16, height: 8, crop: { left: 0, right: 0, top: 0, bottom: 0 } }, probe: { width: 16, height: 8, frameCount: 8, fps: { num: 10, den: 1 }, container: 'mov,mp4' } }),
      getCache: () => null,
      putCache: (_k: string, _key: string, data: Uint8Array, meta: unknown) => void (stored = { data, meta }),
    } as unknown as Project;
    const tools = await locateTools({ env: process.env });
    const media = new MediaServer({ project: () => project, tools: () => Promise.resolve(tools), proxySegment: 4 });
    const store = projectProxyStore(project, { segment: 4 });
    await store.write(0, images.slice(0, 4));
    await store.write(1, images.slice(4));
    assert.equal(await media.hasProxy(), true);
    const progress: number[] = [];
    await media.buildStrip(new AbortController().signal, (done) => progress.push(done));
    assert.ok(stored, 'a strip was stored');
    const { meta, data } = stored as { data: Uint8Array; meta: { frames: number[]; tileWidth: number; width: number; height: number } };
    assert.deepEqual(meta.frames, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(meta.tileWidth, 108, 'tiles keep the working aspect (16:8) at the strip height (54)');
    assert.deepEqual([meta.width, meta.height], [864, 54]);
    assert.deepEqual([...data.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
    assert.equal(progress.at(-1), 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
