// The working-size proxy: JPEG splitting, exact frame indices at the working geometry, segments
// that are crash-safe (a damaged or truncated one is detected, deleted and rebuilt, never served),
// resumable after a cancel, and keyed to what the pictures depend on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { locateTools, type MediaTools } from '../../src-main/media/locate.ts';
import { probeVideo, type VideoProbe } from '../../src-main/media/probe.ts';
import { workingGeometry, type WorkingGeometry } from '../../src-main/media/geometry.ts';
import { decodeFrames } from '../../src-main/media/decode.ts';
import { JpegSplitter, decodeJpegs } from '../../src-main/media/proxy.ts';
import { ProxyStore, buildProxy, proxyKeyOf } from '../../src-main/studio/proxy.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';

let dir = '';
let tools: MediaTools;
let clip = '';
let probe: VideoProbe;
let geometry: WorkingGeometry;
/** Every frame decoded directly (the reference the proxy must match). */
const direct: Uint8Array[] = [];
const FRAMES = 30;
const SEGMENT = 8;
const KEY = 'abcdef0123456789';

function mad(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

before(async () => {
  dir = await makeTempDir('rerender-proxy-');
  tools = await locateTools({ env: process.env });
  // A crop on the working size too: the proxy must use the same geometry as direct decoding.
  clip = await makeClip(dir, { frames: FRAMES, width: 112, height: 64, fps: { num: 24, den: 1 }, gop: 6 });
  probe = await probeVideo(clip, { tools });
  geometry = workingGeometry(probe, { shortSide: 64, crop: { left: 8, right: 0, top: 0, bottom: 0 } });
  await decodeFrames(clip, probe, geometry, { start: 0, count: FRAMES }, { tools, onFrame: (_i, rgb) => void direct.push(rgb) });
});
after(async () => {
  await removeDir(dir);
});

/** A minimal JPEG-shaped byte string: SOI, a COM segment holding `comment`, SOS, entropy bytes, EOI. */
function fakeJpeg(comment: number[], entropy: number[]): Uint8Array {
  const com = [0xff, 0xfe, 0, comment.length + 2, ...comment];
  const sos = [0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0];
  return new Uint8Array([0xff, 0xd8, ...com, ...sos, ...entropy, 0xff, 0xd9]);
}

test('JPEG splitting: whole images from any chunking, EOI bytes inside segments and stuffed data kept', () => {
  const a = fakeJpeg([0xff, 0xd9, 0x41], [0x12, 0xff, 0x00, 0x34, 0xff, 0xd3, 0x56]); // EOI in a comment, stuffing, a restart marker
  const b = fakeJpeg([0x42], [0xff, 0xff, 0x00, 0x77]);
  const c = fakeJpeg([], [0x01]);
  const stream = new Uint8Array([...a, ...b, ...c]);
  for (const size of [1, 2, 3, 7, stream.length]) {
    const s = new JpegSplitter();
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += size) out.push(...s.push(stream.subarray(i, i + size)));
    assert.deepEqual(out.map((x) => [...x]), [[...a], [...b], [...c]], `chunks of ${size}`);
    assert.equal(s.pending, 0);
  }
  const partial = new JpegSplitter();
  assert.deepEqual(partial.push(a.subarray(0, a.length - 1)), [], 'an image without its EOI is not whole');
  assert.ok(partial.pending > 0);
  assert.throws(() => new JpegSplitter().push(new Uint8Array([0x89, 0x50, 0x4e, 0x47])), /not a JPEG/);
});

test('the proxy: frame N is source frame N at the working geometry, from parallel passes in segments', async () => {
  const store = new ProxyStore(path.join(dir, 'p1'), KEY, FRAMES, { segment: SEGMENT });
  const progress: number[] = [];
  const r = await buildProxy(store, { file: clip, probe, geometry }, { tools, workers: 2, onProgress: (d) => progress.push(d) });
  assert.equal(r.encoded, FRAMES);
  assert.equal(progress.at(-1), FRAMES);
  assert.ok(await store.complete());
  assert.deepEqual((await readdir(store.dir)).sort(), ['s000000000.rrpx', 's000000008.rrpx', 's000000016.rrpx', 's000000024.rrpx']);
  const jpegs = await Promise.all(Array.from({ length: FRAMES }, (_, f) => store.read(f)));
  assert.ok(jpegs.every((j) => j !== null && j[0] === 0xff && j[1] === 0xd8), 'every frame is a JPEG');
  const rgb = await decodeJpegs(jpegs as Uint8Array[], geometry, { tools });
  for (let f = 0; f < FRAMES; f++) {
    const d = mad(rgb[f]!, direct[f]!);
    assert.ok(d < 2, `frame ${f} matches the direct decode (mean abs diff ${d.toFixed(2)})`);
    for (const n of [f - 1, f + 1]) {
      if (n >= 0 && n < FRAMES) assert.ok(d < mad(rgb[f]!, direct[n]!), `frame ${f} matches better than frame ${n}`);
    }
  }
  assert.equal(await store.read(FRAMES), null, 'past the end: nothing');
  // Nothing is rebuilt when everything is there.
  assert.equal((await buildProxy(store, { file: clip, probe, geometry }, { tools })).encoded, 0);
});

test('a damaged or truncated segment is never served: detected, deleted, reported, and rebuilt alone', async () => {
  const damaged: string[] = [];
  const root = path.join(dir, 'p2');
  const first = new ProxyStore(root, KEY, FRAMES, { segment: SEGMENT });
  await buildProxy(first, { file: clip, probe, geometry }, { tools });
  const good = await first.read(9);
  assert.ok(good);

  // A flipped byte inside frame 9's image (segment 1), and segment 2 cut short.
  const seg1 = first.fileOf(1);
  const bytes = await readFile(seg1);
  const at = bytes.indexOf(Buffer.from(good.subarray(200, 232)));
  assert.ok(at > 0);
  bytes[at + 5]! ^= 0x40;
  await writeFile(seg1, bytes);
  const seg2 = first.fileOf(2);
  await writeFile(seg2, (await readFile(seg2)).subarray(0, 1000));

  const store = new ProxyStore(root, KEY, FRAMES, { segment: SEGMENT, onDamaged: (f) => damaged.push(path.basename(f)) });
  assert.equal(await store.read(9), null, 'a frame failing its checksum is not served');
  assert.equal(await store.read(17), null, 'a truncated segment is not served');
  assert.ok(await store.read(3), 'sound segments still serve');
  assert.deepEqual(damaged.sort(), ['s000000008.rrpx', 's000000016.rrpx']);
  assert.deepEqual(await store.missing(), [1, 2]);
  assert.equal((await buildProxy(store, { file: clip, probe, geometry }, { tools })).encoded, 2 * SEGMENT, 'only the damaged segments are made again');
  assert.deepEqual(await store.read(9), good);
});

test('cancelling keeps the finished segments; the next build resumes with the rest and sweeps leftovers', async () => {
  const root = path.join(dir, 'p3');
  const store = new ProxyStore(root, KEY, FRAMES, { segment: SEGMENT });
  const controller = new AbortController();
  await assert.rejects(
    buildProxy(store, { file: clip, probe, geometry }, {
      tools,
      workers: 1,
      signal: controller.signal,
      onProgress: (done) => done >= SEGMENT + 2 && controller.abort(),
    }),
    (e: Error) => e.name === 'AbortError' || (e as { code?: string }).code === 'CANCELLED',
  );
  const missing = await store.missing();
  assert.deepEqual(missing, [1, 2, 3], 'the first segment was kept');
  // A crash's leftovers: a temporary file and another key's proxy.
  await writeFile(path.join(store.dir, 's000000008.rrpx.tmp-1-x'), 'partial');
  const other = new ProxyStore(root, 'fedcba9876543210', FRAMES, { segment: SEGMENT });
  await other.write(0, (await Promise.all(Array.from({ length: SEGMENT }, (_, f) => store.read(f)))) as Uint8Array[]);

  const resumed = new ProxyStore(root, KEY, FRAMES, { segment: SEGMENT });
  const progress: number[] = [];
  const r = await buildProxy(resumed, { file: clip, probe, geometry }, { tools, onProgress: (d) => progress.push(d) });
  assert.equal(r.encoded, FRAMES - SEGMENT);
  assert.equal(progress[0], SEGMENT, 'progress starts from what was kept');
  assert.ok(await resumed.complete());
  assert.deepEqual(await readdir(root), [KEY], "another key's proxy is removed");
  assert.ok(!(await readdir(resumed.dir)).some((n) => n.includes('.tmp-')), 'temporary files are swept');
});

test('the key follows everything the pictures depend on', () => {
  const base = { sha256: 'a'.repeat(64), working: { width: 96, height: 64, crop: { left: 8, right: 0, top: 0, bottom: 0 } }, timeline: { fps: { num: 24, den: 1 } }, frameCount: 30 };
  const k = proxyKeyOf(base);
  assert.match(k, /^[0-9a-f]{16}$/);
  assert.equal(proxyKeyOf({ ...base }), k);
  assert.notEqual(proxyKeyOf({ ...base, sha256: 'b'.repeat(64) }), k, 'another video');
  assert.notEqual(proxyKeyOf({ ...base, working: { ...base.working, crop: { left: 0, right: 8, top: 0, bottom: 0 } } }), k, 'another crop');
  assert.notEqual(proxyKeyOf({ ...base, working: { ...base.working, width: 128 } }), k, 'another size');
  assert.notEqual(proxyKeyOf({ ...base, timeline: { fps: { num: 25, den: 1 } } }), k, 'another timeline');
  assert.throws(() => new ProxyStore(dir, 'nothex', 3), RangeError);
  assert.throws(() => new ProxyStore(dir, KEY, 0), RangeError);
});
