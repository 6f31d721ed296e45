import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { locateTools, type MediaTools } from '../../src-main/media/locate.ts';
import { probeVideo, type VideoProbe } from '../../src-main/media/probe.ts';
import { workingGeometry, type WorkingGeometry } from '../../src-main/media/geometry.ts';
import { decodeArgs, decodeFrame, decodeFrames } from '../../src-main/media/decode.ts';
import { thumbnailFrames, thumbnailStrip } from '../../src-main/media/thumbnails.ts';
import { decodePng } from '../../src-main/media/png.ts';
import { isMediaError } from '../../src-main/media/errors.ts';
import { makeClip, makeTempDir, removeDir, truncatedCopy } from '../helpers/clips.ts';
import { psnr, rotateQuarter, sameBytes } from './image-compare.ts';

let dir = '';
let tools: MediaTools;

before(async () => {
  dir = await makeTempDir('rerender-decode-');
  tools = await locateTools({ env: process.env });
});
after(async () => {
  await removeDir(dir);
});

async function decodeAll(file: string, p: VideoProbe, g: WorkingGeometry, start = 0, count = p.frameCount): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  await decodeFrames(file, p, g, { start, count }, {
    tools,
    onFrame: (i, rgb) => {
      assert.equal(i, start + frames.length, 'frames arrive in order with their index');
      assert.equal(rgb.length, g.width * g.height * 3);
      frames.push(rgb);
    },
  });
  return frames;
}

const seekCases = [
  { container: 'mp4', startSeconds: 0 },
  { container: 'mkv', startSeconds: 0 },
  { container: 'mp4', startSeconds: 10 },
] as const;
for (const { container, startSeconds } of seekCases) {
  test(`${container} starting at ${startSeconds}s: frame N decoded alone (with seeking) equals frame N decoded in a range`, async () => {
    // 48 frames at 24 fps with a keyframe every 12: frames past 1 s are reached by seeking.
    const clip = await makeClip(dir, { frames: 48, width: 192, height: 128, fps: { num: 24, den: 1 }, container, gop: 12, startSeconds });
    const p = await probeVideo(clip, { tools });
    assert.deepEqual(p.startTime, { num: startSeconds, den: 1 });
    const g = workingGeometry(p, { shortSide: 128 });
    const all = await decodeAll(clip, p, g);
    assert.equal(all.length, 48);
    for (let i = 1; i < all.length; i++) assert.ok(!sameBytes(all[i - 1]!, all[i]!), `frames ${i - 1} and ${i} differ (frame counter)`);

    for (const n of [0, 5, 23, 24, 30, 37, 47]) {
      const alone = await decodeFrame(clip, p, g, n, { tools });
      assert.ok(sameBytes(alone, all[n]!), `frame ${n} alone matches frame ${n} in the range`);
    }
    assert.ok(decodeArgs(clip, p, g, { start: 37, count: 1 }).includes('-ss'), 'late frames are reached by seeking');
    assert.ok(!decodeArgs(clip, p, g, { start: 37, count: 1 }, 'never').includes('-ss'));
    const unseeked = await decodeFrame(clip, p, g, 37, { tools, seek: 'never' });
    assert.ok(sameBytes(unseeked, all[37]!));

    const middle = await decodeAll(clip, p, g, 29, 6);
    middle.forEach((rgb, k) => assert.ok(sameBytes(rgb, all[29 + k]!), `range 29.. frame ${29 + k}`));
  });
}

test('VFR source: mapped to its average rate deterministically', async () => {
  const clip = await makeClip(dir, { frames: 40, width: 128, height: 128, fps: { num: 30, den: 1 }, vfr: true, gop: 12 });
  const p = await probeVideo(clip, { tools });
  assert.equal(p.vfr, true);
  const g = workingGeometry(p, { shortSide: 64 });
  const first = await decodeAll(clip, p, g);
  const second = await decodeAll(clip, p, g);
  assert.equal(first.length, p.frameCount);
  first.forEach((rgb, i) => assert.ok(sameBytes(rgb, second[i]!), `frame ${i} identical on a second decode`));
  for (const n of [3, 33, 39]) assert.ok(sameBytes(await decodeFrame(clip, p, g, n, { tools }), first[n]!), `VFR frame ${n} alone`);
});

test('rotation is honoured: crop/scale apply to the upright picture', async () => {
  const opts = { frames: 12, width: 192, height: 128, fps: { num: 30, den: 1 } } as const;
  const plain = await makeClip(dir, opts);
  const rotated = await makeClip(dir, { ...opts, rotate: 90 });
  const pp = await probeVideo(plain, { tools });
  const rp = await probeVideo(rotated, { tools });
  const pg = workingGeometry(pp, { shortSide: 128 });
  const rg = workingGeometry(rp, { shortSide: 128 });
  assert.deepEqual([rg.width, rg.height], [128, 192]);
  const upright = await decodeFrame(plain, pp, pg, 6, { tools });
  const turned = await decodeFrame(rotated, rp, rg, 6, { tools });
  const clockwise = psnr(rotateQuarter(upright, 192, 128, true), turned);
  const anticlockwise = psnr(rotateQuarter(upright, 192, 128, false), turned);
  assert.ok(clockwise > 35, `rotated decode matches the upright frame turned clockwise (${clockwise.toFixed(1)} dB)`);
  assert.ok(anticlockwise < 20, `and not turned the other way (${anticlockwise.toFixed(1)} dB)`);
});

test('thumbnail strip: one PNG, tiles are the listed frames', async () => {
  const clip = await makeClip(dir, { frames: 48, width: 160, height: 120, fps: { num: 24000, den: 1001 } });
  const p = await probeVideo(clip, { tools });
  const progress: number[] = [];
  const strip = await thumbnailStrip(clip, p, { count: 4, height: 30 }, { tools, onProgress: ({ done }) => progress.push(done) });
  assert.deepEqual(strip.frames, [6, 18, 30, 42]);
  assert.deepEqual(progress, [1, 2, 3, 4]);
  assert.equal(strip.tileWidth, 40);
  const png = decodePng(strip.png, { width: 160, height: 30 });
  assert.equal(png.channels, 3);
  const geometry = { width: 40, height: 30, filter: 'scale=40:30:flags=bicubic,setsar=1' };
  for (const [tile, frame] of strip.frames.entries()) {
    const expected = await decodeFrame(clip, p, geometry, frame, { tools });
    const actual = new Uint8Array(40 * 30 * 3);
    for (let y = 0; y < 30; y++) actual.set(png.data.subarray((y * 160 + tile * 40) * 3, (y * 160 + tile * 40 + 40) * 3), y * 120);
    assert.ok(sameBytes(actual, expected), `tile ${tile} shows frame ${frame}`);
  }
  assert.deepEqual(thumbnailFrames(3, 10), [0, 1, 2], 'never more tiles than frames');
});

test('frames outside the clip are rejected; a truncated file has only its decodable frames, all of which decode', async () => {
  const clip = await makeClip(dir, { frames: 48, width: 160, height: 120, fps: { num: 30, den: 1 }, faststart: true });
  const p = await probeVideo(clip, { tools });
  const g = workingGeometry(p, { shortSide: 64 });
  await assert.rejects(decodeFrame(clip, p, g, 48, { tools }), (err) => isMediaError(err, 'INVALID_ARGUMENT'));
  await assert.rejects(decodeFrames(clip, p, g, { start: 0, count: 0 }, { tools, onFrame: () => {} }), (err) => isMediaError(err, 'INVALID_ARGUMENT'));

  // With the index first, half the file's header still promises 48 frames; probing counts what decodes.
  const truncated = await truncatedCopy(clip);
  const tp = await probeVideo(truncated, { tools });
  assert.equal(tp.headerFrameCount, 48);
  assert.ok(tp.frameCount > 10 && tp.frameCount < 48, `about half is left (${tp.frameCount})`);
  assert.equal((await decodeAll(truncated, tp, g)).length, tp.frameCount);
  await assert.rejects(decodeFrame(truncated, tp, g, tp.frameCount, { tools }), (err) => isMediaError(err, 'INVALID_ARGUMENT'));
  // A stored probe that still claims all 48 frames (older projects) fails clearly, never silently.
  await assert.rejects(decodeFrames(truncated, { ...tp, frameCount: 48 }, g, { start: 0, count: 48 }, { tools, onFrame: () => {} }), (err) => {
    assert.ok(isMediaError(err, 'CORRUPT'), String(err));
    assert.match(err.message, /truncated or damaged/);
    return true;
  });
});

test('decoding honours its AbortSignal', async () => {
  const clip = await makeClip(dir, { frames: 48, width: 160, height: 120, fps: { num: 30, den: 1 } });
  const p = await probeVideo(clip, { tools });
  const g = workingGeometry(p, { shortSide: 64 });
  const controller = new AbortController();
  let seen = 0;
  await assert.rejects(
    decodeFrames(clip, p, g, { start: 0, count: 48 }, {
      tools,
      signal: controller.signal,
      onFrame: async () => {
        seen++;
        if (seen === 3) controller.abort();
        await new Promise((r) => setTimeout(r, 5));
      },
    }),
    (err) => isMediaError(err, 'CANCELLED'),
  );
  assert.ok(seen < 48);
});
