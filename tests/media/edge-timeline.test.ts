// Sources whose header, packets and decodable pictures disagree: a capture with dropped frames, an
// MP4 promising a frame that never decodes, a half-copied file. The timeline is what decoding
// really yields; every access path (single frames, ranges, the sequential stream, thumbnails)
// shows the same pictures, checked against ffmpeg's own decode of the same file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { locateTools, type MediaTools } from '../../src-main/media/locate.ts';
import { probeVideo, type VideoProbe } from '../../src-main/media/probe.ts';
import { decodeFrame, decodeFrames, type DecodeGeometry } from '../../src-main/media/decode.ts';
import { thumbnailStrip } from '../../src-main/media/thumbnails.ts';
import { decodePng } from '../../src-main/media/png.ts';
import { isMediaError } from '../../src-main/media/errors.ts';
import { streamFrames } from '../../src-main/studio/frame-stream.ts';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { sameBytes } from './image-compare.ts';

const run = promisify(execFile);
let dir = '';
let tools: MediaTools;

before(async () => {
  dir = await makeTempDir('rerender-edge-');
  tools = await locateTools({ env: process.env });
});
after(async () => {
  await removeDir(dir);
});

const W = 64;
const H = 48;
/** Full size, no scaling: the only conversion is to RGB, exactly as in the reference decodes below. */
const geometry: DecodeGeometry = { width: W, height: H, filter: 'null' };

async function ffmpeg(args: string[]): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-nostdin', ...args], { encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

function splitFrames(raw: Buffer): Uint8Array[] {
  const size = W * H * 3;
  assert.equal(raw.length % size, 0);
  return Array.from({ length: raw.length / size }, (_, i) => new Uint8Array(raw.subarray(i * size, (i + 1) * size)));
}

/**
 * ffmpeg's own constant-frame-rate decode of the file, as RGB frames. No -vf: with a filter, ffmpeg 5
 * forgets the last picture's duration and drops the final slot it covers.
 */
async function ffmpegCfr(file: string): Promise<Uint8Array[]> {
  return splitFrames(await ffmpeg(['-i', file, '-map', '0:v', '-fps_mode', 'cfr', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']));
}

async function decodeAll(file: string, p: VideoProbe): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  await decodeFrames(file, p, geometry, { start: 0, count: p.frameCount }, { tools, onFrame: (_i, rgb) => { frames.push(rgb); } });
  return frames;
}

/** Every access path agrees with `expected` (the whole timeline). */
async function assertAllPathsShow(file: string, p: VideoProbe, expected: Uint8Array[], singles: number[]): Promise<void> {
  const all = await decodeAll(file, p);
  assert.equal(all.length, expected.length);
  all.forEach((rgb, i) => assert.ok(sameBytes(rgb, expected[i]!), `frame ${i} of the range decode`));
  for (const n of singles) assert.ok(sameBytes(await decodeFrame(file, p, geometry, n, { tools }), expected[n]!), `frame ${n} alone`);

  const tail = Math.max(0, p.frameCount - 5);
  let k = tail;
  for await (const f of streamFrames(file, p, geometry, { start: tail, count: p.frameCount - tail }, { tools })) {
    assert.equal(f.index, k);
    assert.ok(sameBytes(f.rgb, expected[k]!), `streamed frame ${k}`);
    k++;
  }
  assert.equal(k, p.frameCount, 'the stream reaches the last frame');

  const strip = await thumbnailStrip(file, { ...p, width: W, height: H }, { count: 3, height: H }, { tools });
  const png = decodePng(strip.png, { width: strip.width, height: H });
  for (const [tile, frame] of strip.frames.entries()) {
    const got = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) got.set(png.data.subarray((y * strip.width + tile * W) * 3, (y * strip.width + tile * W + W) * 3), y * W * 3);
    assert.ok(sameBytes(got, expected[frame]!), `thumbnail tile ${tile} shows frame ${frame}`);
  }
}

test('AVI capture with dropped frames: one frame per slot, each slot repeats the latest picture', async () => {
  // 16 pictures on a 15 fps grid: every third slot up to 42, then slot 44; 45 slots in all.
  const avi = path.join(dir, 'dropped.avi');
  await ffmpeg([
    '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=15`, '-vf', "select='not(mod(n,3))+eq(n,44)'", '-frames:v', '16',
    '-fps_mode', 'passthrough', '-c:v', 'mpeg4', '-q:v', '3', '-g', '6', '-y', avi,
  ]);
  const p = await probeVideo(avi, { tools });
  assert.equal(p.frameCount, 45);
  assert.equal(p.pictureCount, 16);
  assert.deepEqual(p.fps, { num: 15, den: 1 });
  assert.deepEqual(p.duration, { num: 3, den: 1 });
  assert.deepEqual(p.warnings, [
    "'dropped.avi': 16 pictures over 45 frame slots: dropped frames are shown as repeats (each slot shows the latest picture at or before it).",
  ]);

  // The 16 pictures as stored, and the slot each one starts at.
  const pictures = splitFrames(await ffmpeg(['-i', avi, '-fps_mode', 'passthrough', '-vf', 'format=rgb24', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']));
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts', '-of', 'csv=p=0', avi]);
  const slots = stdout.trim().split('\n').map(Number);
  assert.equal(pictures.length, 16);
  const expected = Array.from({ length: 45 }, (_, s) => pictures[slots.findLastIndex((t) => t <= s)]!);
  assert.ok(!sameBytes(expected[2]!, expected[3]!), 'slot 3 is a new picture');
  await assertAllPathsShow(avi, p, expected, [2, 3, 44]);
});

test('an MP4 whose header promises a frame that never decodes: the timeline ends at the last real picture', async () => {
  // Cutting one frame in with stream copy keeps the first packet but hides it behind an edit list:
  // the header still counts all 49 samples, fewer pictures are shown. Keyframes every 12 so late frames seek.
  const whole = path.join(dir, 'whole.mp4');
  const cut = path.join(dir, 'cut.mp4');
  await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=24`, '-frames:v', '49', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '12', '-pix_fmt', 'yuv420p', '-y', whole]);
  await ffmpeg(['-ss', String(1 / 24 + 0.001), '-i', whole, '-c', 'copy', '-y', cut]);
  const reference = await ffmpegCfr(cut);
  const p = await probeVideo(cut, { tools });
  assert.equal(p.headerFrameCount, 49);
  assert.ok(reference.length < 49, `the header promises more frames than decode (${reference.length})`);
  assert.equal(p.frameCount, reference.length);
  assert.equal(p.frameCountSource, 'timeline');
  assert.match(p.warnings.join('\n'), new RegExp(`header promises 49 frames but only ${reference.length} can be decoded`));
  await assertAllPathsShow(cut, p, reference, [0, 24, reference.length - 2, reference.length - 1]);
});

test('a half-copied MP4 (index first) is used up to its last decodable frame, with a warning', async () => {
  const clip = path.join(dir, 'faststart.mp4');
  await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=30`, '-frames:v', '48', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '12', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-y', clip]);
  const bytes = await readFile(clip);
  const half = path.join(dir, 'half.mp4');
  await writeFile(half, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const reference = await ffmpegCfr(half);
  assert.ok(reference.length > 10 && reference.length < 40, `ffmpeg decodes part of it (${reference.length})`);
  const p = await probeVideo(half, { tools });
  assert.equal(p.frameCount, reference.length);
  assert.equal(p.duration.num * 30, p.duration.den * reference.length, 'duration = frames / fps');
  assert.deepEqual(p.warnings, [
    `'half.mp4': its header promises 48 frames but only ${reference.length} can be decoded; it may be truncated or damaged. ` +
      `The project uses the ${reference.length} frames that are there.`,
  ]);
  await assertAllPathsShow(half, p, reference, [reference.length - 1]);
  await assert.rejects(decodeFrame(half, p, geometry, reference.length, { tools }), (err) => isMediaError(err, 'INVALID_ARGUMENT'));
});
