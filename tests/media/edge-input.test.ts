// Things that are not video files reach probing: playlists renamed .mp4, devices, pipes. Each is
// refused with a code and a message saying what it is, without ffmpeg reading anything else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { locateTools, type MediaTools } from '../../src-main/media/locate.ts';
import { probeVideo } from '../../src-main/media/probe.ts';
import { decodeArgs, decodeFrame } from '../../src-main/media/decode.ts';
import { isMediaError, type MediaErrorCode } from '../../src-main/media/errors.ts';
import { refusedDemuxer } from '../../src-main/media/sniff.ts';
import { exitCodeFor } from '../../src-main/cli/errors.ts';
import { EXIT } from '../../src-main/cli/exit-codes.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';

const run = promisify(execFile);
let dir = '';
let tools: MediaTools;

before(async () => {
  dir = await makeTempDir('rerender-edge-input-');
  tools = await locateTools({ env: process.env });
});
after(async () => {
  await removeDir(dir);
});

async function expectRefused(file: string, code: MediaErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(probeVideo(file, { tools }), (err) => {
    assert.ok(isMediaError(err), `expected MediaError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

test('an HLS playlist renamed .mp4 is UNSUPPORTED_MEDIA (exit 3), on probe and on decode', async () => {
  // A playable playlist: its one segment is a real video beside it, so only the whitelist refuses it.
  const clip = await makeClip(dir, { frames: 12, width: 64, height: 48, fps: { num: 24, den: 1 } });
  await run('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-c', 'copy', path.join(dir, 'seg0.ts')]);
  const playlist = path.join(dir, 'playlist.mp4');
  await writeFile(playlist, '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:0.5,\nseg0.ts\n#EXT-X-ENDLIST\n');
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=format_name', '-of', 'csv=p=0', playlist]);
  assert.equal(stdout.trim(), 'hls', 'ffprobe alone would open it as a playlist');

  await expectRefused(playlist, 'UNSUPPORTED_MEDIA', /'playlist\.mp4' is a playlist \(hls\).*not a video file/);
  const err = await probeVideo(playlist, { tools }).catch((e: unknown) => e);
  assert.equal(exitCodeFor(err), EXIT.input);

  // A project's stored probe never bypasses the whitelist: decoding refuses the same way.
  const p = await probeVideo(clip, { tools });
  const g = { width: 64, height: 48, filter: 'null' };
  const args = decodeArgs(playlist, p, g, { start: 0, count: 1 });
  assert.ok(args.indexOf('-protocol_whitelist') < args.indexOf('-i') && args.includes('-format_whitelist'));
  await assert.rejects(decodeFrame(playlist, p, g, 0, { tools }), (e) => isMediaError(e, 'UNSUPPORTED_MEDIA'));
  // And the real file still decodes through the same whitelist.
  assert.equal((await decodeFrame(clip, p, g, 11, { tools })).length, 64 * 48 * 3);
});

test('other refused containers: still images, sound, anything else', async () => {
  assert.deepEqual(refusedDemuxer('[png_pipe @ 0x55e1] Format not on whitelist \'mov\''), { kind: 'image', demuxer: 'png_pipe' });
  assert.deepEqual(refusedDemuxer('[mp3 @ 0x1] Format not on whitelist \'mov\''), { kind: 'audio', demuxer: 'mp3' });
  assert.deepEqual(refusedDemuxer('[dash @ 0x1] Format not on whitelist \'mov\''), { kind: 'playlist', demuxer: 'dash' });
  assert.equal(refusedDemuxer('moov atom not found'), null);
  // A GIF renamed .mov is refused as an image, named by ffmpeg's demuxer.
  const gif = path.join(dir, 'anim.mov');
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=32x24:rate=5', '-frames:v', '3', '-f', 'gif', gif]);
  await expectRefused(gif, 'NOT_A_VIDEO', /still image/);
  const wav = path.join(dir, 'tone.mp4');
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=0.2', '-f', 'wav', wav]);
  await expectRefused(wav, 'AUDIO_ONLY', /only sound/);
  const y4m = path.join(dir, 'raw.mkv');
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=32x24:rate=5', '-frames:v', '2', '-f', 'yuv4mpegpipe', y4m]);
  await expectRefused(y4m, 'UNSUPPORTED_MEDIA', /'raw\.mkv' is in a format Rerender does not open as a video source \(yuv4mpegpipe\)/);
});

const posix = process.platform !== 'win32';

test('devices and pipes say what they are, without reading them', { skip: !posix }, async () => {
  await expectRefused('/dev/zero', 'NOT_A_VIDEO', /'zero' \(\/dev\/zero\) is a device, not a video file/);
  await expectRefused('/dev/urandom', 'NOT_A_VIDEO', /is a device, not a video file/);
  const fifo = path.join(dir, 'capture.mp4');
  await run('mkfifo', [fifo]);
  // Opening a FIFO for reading would block until a writer comes: this must answer at once.
  await expectRefused(fifo, 'NOT_A_VIDEO', /'capture\.mp4' \(.*\) is a pipe, not a video file/);
  await expectRefused(dir, 'NOT_A_VIDEO', /is a folder, not a video file/);
  // A regular copy of a real video still probes.
  const clip = await makeClip(dir, { frames: 6, width: 64, height: 48, fps: { num: 24, den: 1 } });
  await copyFile(clip, path.join(dir, 'copy.mp4'));
  assert.equal((await probeVideo(path.join(dir, 'copy.mp4'), { tools })).frameCount, 6);
});
