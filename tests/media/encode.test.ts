import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { locateTools, type MediaTools } from '../../src-main/media/locate.ts';
import { probeVideo } from '../../src-main/media/probe.ts';
import { workingGeometry } from '../../src-main/media/geometry.ts';
import { decodeFrame, decodeFrames } from '../../src-main/media/decode.ts';
import { encodeMp4, type EncodeProgress } from '../../src-main/media/encode.ts';
import { isMediaError } from '../../src-main/media/errors.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { psnr } from './image-compare.ts';

const exec = promisify(execFile);
let root = '';
let tools: MediaTools;
let outCount = 0;

before(async () => {
  root = await makeTempDir('rerender-encode-');
  tools = await locateTools({ env: process.env });
});
after(async () => {
  await removeDir(root);
});

async function outDir(): Promise<string> {
  const dir = path.join(root, `out-${++outCount}`);
  await mkdir(dir);
  return dir;
}

function solidFrames(width: number, height: number) {
  return (i: number) => new Uint8Array(width * height * 3).fill((i * 7) % 256);
}

/** ffmpeg processes whose command line mentions `dir` (Linux /proc). */
async function processesUsing(dir: string): Promise<number[]> {
  if (!existsSync('/proc/self/cmdline')) return [];
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir) && cmdline.includes('ffmpeg')) pids.push(Number(entry));
  }
  return pids;
}

/** Mounts a tmpfs (needs root with CAP_SYS_ADMIN); returns false where that is not allowed. */
async function tryMountTmpfs(dir: string, options: string): Promise<boolean> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    await exec('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    return true;
  } catch {
    return false;
  }
}

test('encode round-trip: 30 frames at 30000/1001 with the source audio copied', async () => {
  const source = await makeClip(root, { frames: 30, width: 192, height: 128, fps: { num: 30000, den: 1001 }, audio: true });
  const sp = await probeVideo(source, { tools });
  const g = workingGeometry(sp, { shortSide: 128 });
  const fed: Uint8Array[] = [];
  await decodeFrames(source, sp, g, { start: 0, count: 30 }, { tools, onFrame: (_i, rgb) => { fed.push(rgb); } });

  const dir = await outDir();
  const out = path.join(dir, 'render.mp4');
  const progress: EncodeProgress[] = [];
  const asked: number[] = [];
  await encodeMp4(
    { out, width: g.width, height: g.height, fps: sp.fps, frameCount: 30, frame: async (i) => { asked.push(i); return fed[i]!; }, audioFrom: { path: source } },
    { tools, onProgress: (p) => progress.push(p) },
  );
  assert.deepEqual(asked, Array.from({ length: 30 }, (_, i) => i), 'frames requested once each, in order');
  assert.deepEqual(await readdir(dir), ['render.mp4'], 'no temp file left');
  assert.deepEqual(progress.at(-1), { done: 30, total: 30, etaSeconds: 0 });
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.done >= progress[i - 1]!.done);

  const op = await probeVideo(out, { tools });
  assert.equal(op.frameCount, 30);
  assert.deepEqual(op.fps, { num: 30000, den: 1001 });
  assert.equal(op.codec, 'h264');
  assert.equal(op.pixelFormat, 'yuv420p');
  assert.equal(op.audio.length, 1);
  assert.equal(op.audio[0]?.codec, 'aac');
  for (const n of [0, 10, 29]) {
    const back = await decodeFrame(out, op, g, n, { tools });
    const db = psnr(back, fed[n]!);
    assert.ok(db > 35, `frame ${n} survives encoding (${db.toFixed(1)} dB)`);
  }
});

test('audio that MP4 cannot hold as is (PCM) is re-encoded to AAC; no audio stream → none', async () => {
  const pcm = await makeClip(root, { frames: 12, width: 64, height: 64, fps: { num: 24, den: 1 }, audio: true, audioCodec: 'pcm_s16le', container: 'mkv' });
  assert.equal((await probeVideo(pcm, { tools })).audio[0]?.codec, 'pcm_s16le');
  const silent = await makeClip(root, { frames: 12, width: 64, height: 64, fps: { num: 24, den: 1 } });
  const dir = await outDir();
  const job = { width: 64, height: 64, fps: { num: 24, den: 1 }, frameCount: 12, frame: solidFrames(64, 64), preset: 'ultrafast' };
  await encodeMp4({ ...job, out: path.join(dir, 'aac.mp4'), audioFrom: { path: pcm } }, { tools });
  const withAudio = await probeVideo(path.join(dir, 'aac.mp4'), { tools });
  assert.equal(withAudio.audio[0]?.codec, 'aac');
  assert.equal(withAudio.frameCount, 12);
  await encodeMp4({ ...job, out: path.join(dir, 'silent.mp4'), audioFrom: { path: silent } }, { tools });
  assert.deepEqual((await probeVideo(path.join(dir, 'silent.mp4'), { tools })).audio, []);
  await assert.rejects(
    encodeMp4({ ...job, out: path.join(dir, 'lost.mp4'), audioFrom: { path: path.join(root, 'moved-away.mp4') } }, { tools }),
    (err) => isMediaError(err, 'FILE_NOT_FOUND'),
  );
  assert.deepEqual((await readdir(dir)).sort(), ['aac.mp4', 'silent.mp4']);
});

test('odd sizes are cropped by one pixel to stay even for yuv420p', async () => {
  const dir = await outDir();
  const out = path.join(dir, 'odd.mp4');
  await encodeMp4({ out, width: 65, height: 49, fps: { num: 25, den: 1 }, frameCount: 5, frame: solidFrames(65, 49), preset: 'ultrafast' }, { tools });
  const p = await probeVideo(out, { tools });
  assert.deepEqual([p.width, p.height, p.frameCount], [64, 48, 5]);
});

test('cancelling kills ffmpeg and leaves no output file', async () => {
  const dir = await outDir();
  const controller = new AbortController();
  const frame = solidFrames(128, 128);
  await assert.rejects(
    encodeMp4({
      out: path.join(dir, 'cancelled.mp4'), width: 128, height: 128, fps: { num: 24, den: 1 }, frameCount: 500,
      frame: async (i) => {
        if (i === 5) controller.abort();
        await new Promise((r) => setTimeout(r, 2));
        return frame(i);
      },
    }, { tools, signal: controller.signal }),
    (err) => isMediaError(err, 'CANCELLED'),
  );
  assert.deepEqual(await readdir(dir), []);
  assert.deepEqual(await processesUsing(dir), [], 'no ffmpeg left writing there');
});

test('a frame provider that fails aborts the export cleanly; wrong-sized frames are rejected', async () => {
  const dir = await outDir();
  const boom = new Error('propagation failed');
  await assert.rejects(
    encodeMp4({
      out: path.join(dir, 'a.mp4'), width: 64, height: 64, fps: { num: 24, den: 1 }, frameCount: 10,
      frame: (i) => { if (i === 3) throw boom; return solidFrames(64, 64)(i); },
    }, { tools }),
    (err) => err === boom,
  );
  await assert.rejects(
    encodeMp4({ out: path.join(dir, 'b.mp4'), width: 64, height: 64, fps: { num: 24, den: 1 }, frameCount: 3, frame: () => new Uint8Array(10) }, { tools }),
    (err) => isMediaError(err, 'INVALID_ARGUMENT'),
  );
  assert.deepEqual(await readdir(dir), []);
});

test('OUTPUT_UNWRITABLE: missing folder, a folder as the output, a read-only folder', async (t) => {
  const job = { width: 64, height: 64, fps: { num: 24, den: 1 }, frameCount: 2, frame: solidFrames(64, 64) };
  const unwritable = (err: unknown) => isMediaError(err, 'OUTPUT_UNWRITABLE');
  await assert.rejects(encodeMp4({ ...job, out: path.join(root, 'no-such-folder', 'x.mp4') }, { tools }), unwritable);
  const dir = await outDir();
  await mkdir(path.join(dir, 'taken.mp4'));
  await assert.rejects(encodeMp4({ ...job, out: path.join(dir, 'taken.mp4') }, { tools }), unwritable);

  const readOnly = await outDir();
  if (process.getuid?.() === 0) {
    // Root ignores permission bits; only a read-only mount really refuses writes.
    if (!(await tryMountTmpfs(readOnly, 'ro,size=1m'))) {
      t.skip('running as root without permission to mount a read-only tmpfs');
      return;
    }
  } else {
    await chmod(readOnly, 0o555);
  }
  try {
    await assert.rejects(encodeMp4({ ...job, out: path.join(readOnly, 'x.mp4') }, { tools }), (err) => {
      assert.ok(unwritable(err), String(err));
      assert.match((err as Error).message, /Choose a folder you can write to/);
      return true;
    });
  } finally {
    if (process.getuid?.() === 0) await exec('umount', [readOnly]);
    else await chmod(readOnly, 0o755);
  }
});

test('DISK_FULL: exporting onto a full (tiny tmpfs) disk fails cleanly', async (t) => {
  const dir = await outDir();
  if (!(await tryMountTmpfs(dir, 'size=256k'))) {
    t.skip('needs root with permission to mount a tmpfs; ENOSPC mapping is covered by process.test.ts via /dev/full');
    return;
  }
  try {
    // Noise does not compress: 40 frames of it are far larger than 256 KiB.
    const noise = (_i: number) => randomFillSync(new Uint8Array(160 * 120 * 3));
    await assert.rejects(
      encodeMp4({ out: path.join(dir, 'full.mp4'), width: 160, height: 120, fps: { num: 24, den: 1 }, frameCount: 40, frame: noise, preset: 'ultrafast' }, { tools }),
      (err) => {
        assert.ok(isMediaError(err, 'DISK_FULL'), String(err));
        assert.match((err as Error).message, /disk is full/);
        return true;
      },
    );
    assert.deepEqual(await readdir(dir), [], 'the partial file is removed');
  } finally {
    await exec('umount', [dir]);
  }
});

test('temp files carry the writer PID; a dead writer\'s leftover is removed by the next export, a live one\'s kept', async () => {
  const dir = await outDir();
  const out = path.join(dir, 'clip.mp4');
  // A PID that surely ended: a child that has exited (and been reaped).
  const dead = await new Promise<number>((resolve) => {
    const c = spawn(process.execPath, ['-e', '']);
    c.once('exit', () => resolve(c.pid!));
  });
  const stale = `.clip.rr-${dead}-0badf00d.partial.mp4`;
  const live = `.clip.rr-${process.ppid}-0000beef.partial.mp4`; // the test runner: alive
  const other = `.other.rr-${dead}-0badf00d.partial.mp4`; // another output's: not ours to touch
  for (const name of [stale, live, other]) await writeFile(path.join(dir, name), 'partial');

  let temp = '';
  await encodeMp4({ out, width: 16, height: 16, fps: { num: 24, den: 1 }, frameCount: 2, frame: solidFrames(16, 16) }, {
    tools,
    onProgress: () => {
      temp ||= readdirSync(dir).find((n) => n.includes(`.rr-${process.pid}-`)) ?? '';
    },
  });
  assert.match(temp, new RegExp(`^\\.clip\\.rr-${process.pid}-[0-9a-f]{8}\\.partial\\.mp4$`), 'the temp file names its writer');
  assert.deepEqual((await readdir(dir)).sort(), [live, other, 'clip.mp4'].sort());
});

test('an existing non-video is not replaced unless allowed; a video is', async () => {
  const dir = await outDir();
  const out = path.join(dir, 'x.mp4');
  await writeFile(out, 'not a video');
  const job = { out, width: 16, height: 16, fps: { num: 24, den: 1 }, frameCount: 1, frame: solidFrames(16, 16) };
  await assert.rejects(encodeMp4(job, { tools }), (err: Error & { code?: string }) => err.code === 'OUTPUT_EXISTS');
  assert.equal(await readFile(out, 'utf8'), 'not a video');
  assert.deepEqual(await readdir(dir), ['x.mp4'], 'nothing was left behind');
  await encodeMp4({ ...job, replace: 'any' }, { tools });
  await encodeMp4(job, { tools }); // now a video: replaced without asking
  await assert.rejects(encodeMp4({ ...job, replace: 'never' }, { tools }), (err: Error & { code?: string }) => err.code === 'OUTPUT_EXISTS');
  await assert.rejects(encodeMp4({ ...job, replace: 'any', protect: [out] }, { tools }), (err: Error & { code?: string }) => err.code === 'OUTPUT_EXISTS');
});
