import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { locateTools, type MediaTools } from '../../src-main/media/locate.ts';
import { probeVideo } from '../../src-main/media/probe.ts';
import { fileContentHash } from '../../src-main/media/hash.ts';
import { isMediaError, type MediaErrorCode } from '../../src-main/media/errors.ts';
import { makeAudioFile, makeClip, makeImage, makeTempDir, removeDir, truncatedCopy } from '../helpers/clips.ts';

let dir = '';
let tools: MediaTools;

before(async () => {
  dir = await makeTempDir('rerender-probe-');
  tools = await locateTools({ env: process.env });
});
after(async () => {
  await removeDir(dir);
});

test('probe of a 23.976 fps clip: exact rate, frame count, duration, audio', async () => {
  const clip = await makeClip(dir, { frames: 48, width: 160, height: 120, fps: { num: 24000, den: 1001 }, audio: true });
  const p = await probeVideo(clip, { tools });
  assert.deepEqual(p.fps, { num: 24000, den: 1001 });
  assert.equal(p.vfr, false);
  assert.equal(p.frameCount, 48);
  assert.deepEqual(p.duration, { num: 1001, den: 500 }); // 48 × 1001/24000 s, exactly
  assert.equal(p.width, 160);
  assert.equal(p.height, 120);
  assert.equal(p.rotation, 0);
  assert.equal(p.codec, 'h264');
  assert.equal(p.audio.length, 1);
  assert.equal(p.audio[0]?.codec, 'aac');
  assert.equal(p.audio[0]?.sampleRate, 48000);
  assert.equal(p.audio[0]?.channels, 1);
});

test('probe without audio; Matroska frame count comes from counting packets', async () => {
  const clip = await makeClip(dir, { frames: 37, width: 160, height: 120, fps: { num: 25, den: 1 }, container: 'mkv' });
  const p = await probeVideo(clip, { tools });
  assert.deepEqual(p.audio, []);
  assert.equal(p.frameCount, 37);
  assert.equal(p.frameCountSource, 'packets');
  assert.deepEqual(p.fps, { num: 25, den: 1 });
});

test('rotation 90 in the track matrix → display size swapped, coded size kept', async () => {
  const clip = await makeClip(dir, { frames: 12, width: 160, height: 120, fps: { num: 30, den: 1 }, rotate: 90 });
  const p = await probeVideo(clip, { tools });
  assert.equal(p.rotation, 90);
  assert.equal(p.width, 120);
  assert.equal(p.height, 160);
  assert.equal(p.codedWidth, 160);
  assert.equal(p.codedHeight, 120);
  const upside = await probeVideo(await makeClip(dir, { frames: 12, width: 160, height: 120, fps: { num: 30, den: 1 }, rotate: 180 }), { tools });
  assert.equal(upside.rotation, 180);
  assert.equal(upside.width, 160);
});

test('variable frame rate is detected and mapped to its average rate', async () => {
  const clip = await makeClip(dir, { frames: 40, width: 160, height: 120, fps: { num: 30, den: 1 }, vfr: true });
  const p = await probeVideo(clip, { tools });
  assert.equal(p.vfr, true);
  assert.deepEqual(p.fps, { num: 20, den: 1 });
  assert.equal(p.frameCountSource, 'timeline');
  assert.equal(p.frameCount, 40);
});

test('fileContentHash is the streamed sha256 of the bytes', async () => {
  const clip = await makeClip(dir, { frames: 12, width: 160, height: 120, fps: { num: 30, den: 1 } });
  const expected = createHash('sha256').update(await readFile(clip)).digest('hex');
  assert.equal(await fileContentHash(clip), expected);
  await assert.rejects(fileContentHash(path.join(dir, 'missing.mp4')), (err) => isMediaError(err, 'FILE_NOT_FOUND'));
});

async function expectCode(file: string, code: MediaErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(probeVideo(file, { tools }), (err) => {
    assert.ok(isMediaError(err), `expected MediaError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.includes(`'${path.basename(file)}'`), `message names the file: ${err.message}`);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('bad inputs give typed errors with messages that name the file', async () => {
  await expectCode(path.join(dir, 'nowhere.mov'), 'FILE_NOT_FOUND');
  const text = path.join(dir, 'notes.mov');
  await writeFile(text, 'This is a shot list, not a video.\n'.repeat(50));
  await expectCode(text, 'NOT_A_VIDEO', /not a video file/);
  await writeFile(path.join(dir, 'empty.mp4'), '');
  await expectCode(path.join(dir, 'empty.mp4'), 'NOT_A_VIDEO');
  await mkdir(path.join(dir, 'folder.mp4'), { recursive: true });
  await expectCode(path.join(dir, 'folder.mp4'), 'NOT_A_VIDEO');
  await expectCode(await makeImage(dir, { width: 64, height: 48 }), 'NOT_A_VIDEO', /still image/);
  await expectCode(await makeAudioFile(dir, { seconds: 1 }), 'AUDIO_ONLY', /only sound/);
  await expectCode(await makeClip(dir, { frames: 0, width: 160, height: 120, fps: { num: 30, den: 1 } }), 'NO_FRAMES');
});

test('truncated files: an MP4 without its index is CORRUPT; a half AVI is used up to what decodes, with a warning', async () => {
  const mp4 = await makeClip(dir, { frames: 48, width: 160, height: 120, fps: { num: 30, den: 1 }, audio: true });
  await expectCode(await truncatedCopy(mp4), 'CORRUPT', /not saved or copied completely/);
  const avi = await makeClip(dir, { frames: 48, width: 160, height: 120, fps: { num: 30, den: 1 }, container: 'avi' });
  const whole = await probeVideo(avi, { tools });
  assert.equal(whole.frameCount, 48);
  assert.deepEqual(whole.warnings, []);
  const half = await probeVideo(await truncatedCopy(avi), { tools });
  assert.ok(half.frameCount > 10 && half.frameCount < 48, `about half is left (${half.frameCount})`);
  assert.equal(half.headerFrameCount, 48);
  assert.match(half.warnings.join('\n'), new RegExp(`header promises 48 frames but only ${half.frameCount} can be decoded`));
});

test('an aborted probe is CANCELLED', async () => {
  const clip = await makeClip(dir, { frames: 12, width: 160, height: 120, fps: { num: 30, den: 1 } });
  await assert.rejects(probeVideo(clip, { tools, signal: AbortSignal.abort() }), (err) => isMediaError(err, 'CANCELLED'));
});
