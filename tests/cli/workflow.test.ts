// The Foundation workflow through the CLI: init → key frames → import an edited key frame → export,
// checked with ffprobe and by decoding the MP4.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { psnr } from '../media/image-compare.ts';
import { jsonLines, runCli } from './run-cli.ts';

let dir = '';
let clip = '';
const W = 128; // the clip is 160×120 → working short side 64 … use --size 128 so nothing is upscaled oddly
const fps = { num: 30000, den: 1001 };

function ffprobe(file: string): { frames: number; rate: string; audio: boolean; width: number; height: number } {
  const v = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,r_frame_rate,width,height', '-of', 'json', file]).toString()) as {
    streams: { nb_read_frames: string; r_frame_rate: string; width: number; height: number }[];
  };
  const a = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a', '-show_entries', 'stream=index', '-of', 'csv=p=0', file]).toString().trim();
  const s = v.streams[0]!;
  return { frames: Number(s.nb_read_frames), rate: s.r_frame_rate, audio: a !== '', width: s.width, height: s.height };
}

function decodeFrame(file: string, n: number, size?: string): Buffer {
  const vf = `select=eq(n\\,${n})${size ? `,scale=${size}` : ''}`;
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', vf, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
}

before(async () => {
  dir = await makeTempDir('rerender-cli-');
  clip = await makeClip(dir, { frames: 30, width: 320, height: 240, fps, audio: true });
});
after(async () => removeDir(dir));

test('init, key frames, import an edited key frame, export', async () => {
  const proj = path.join(dir, 'p.rrproj');
  let r = await runCli(['init', clip, '-o', proj, '--size', String(W), '--json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const created = jsonLines(r.stdout).find((l) => l.type === 'result')!;
  assert.equal(created.frames, 30);
  assert.deepEqual(created.fps, fps);
  assert.equal(created.height, 128);
  assert.equal(created.width, 192); // 320×240 → short side 128 → 170.7 → 192 (multiple of 64), aspect fixed by a crop

  r = await runCli(['keyframes', proj, '--every', '10']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /3 key frame\(s\): 0, 10, 20/);

  // The artist's edit is made at the source's full size: import must crop and scale it like the video.
  const edited = path.join(dir, 'edited.png');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-vf', 'select=eq(n\\,10),negate', '-frames:v', '1', edited]);
  r = await runCli(['keyframe', proj, '--frame', '10', '--import', edited]);
  assert.equal(r.code, 0, r.stderr);

  r = await runCli(['info', proj, '--json']);
  const info = jsonLines(r.stdout).find((l) => l.type === 'result') as { keyframes: { frame: number; state: string }[] };
  assert.deepEqual(info.keyframes.map((k) => [k.frame, k.state]), [[0, 'none'], [10, 'edited'], [20, 'none']]);

  const out = path.join(dir, 'out.mp4');
  // At the working size, so its frames compare with the working geometry's own decode (the default,
  // the source's size, is covered by tests/studio/export-size.test.ts).
  r = await runCli(['export', proj, out, '--size', 'working']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /29 of 30 frames had no render/);
  const probe = ffprobe(out);
  assert.equal(probe.frames, 30);
  assert.equal(probe.rate, '30000/1001');
  assert.equal(probe.audio, true);
  assert.deepEqual([probe.width, probe.height], [192, 128]);

  // Frame 10 is the (negated) edit; frame 11 is the source. Compare against independent decodes.
  const geometry = '192:128';
  const sourceAt = (n: number) => execFileSync('ffmpeg', ['-v', 'error', '-i', clip, '-vf', `select=eq(n\\,${n}),crop=320:213:0:13,scale=${geometry}:flags=bicubic`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  const editedAt10 = execFileSync('ffmpeg', ['-v', 'error', '-i', edited, '-vf', `crop=320:213:0:13,scale=${geometry}:flags=bicubic`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  const got10 = decodeFrame(out, 10);
  const got11 = decodeFrame(out, 11);
  // H.264 in yuv420p at 192×128 on testsrc2's sharp colour edges costs a few dB; a negated frame
  // against the original scores far lower (~5–10 dB), so these bounds still tell the two apart.
  assert.ok(psnr(got10, editedAt10) > 22, `frame 10 should be the edit: ${psnr(got10, editedAt10).toFixed(1)} dB`);
  assert.ok(psnr(got10, sourceAt(10)) < 12, `frame 10 should not be the source: ${psnr(got10, sourceAt(10)).toFixed(1)} dB`);
  assert.ok(psnr(got11, sourceAt(11)) > 22, `frame 11 should be the source: ${psnr(got11, sourceAt(11)).toFixed(1)} dB`);
});

test('bad inputs give clear errors, the right exit codes, and change nothing', async () => {
  const proj = path.join(dir, 'bad.rrproj');
  let r = await runCli(['init', path.join(dir, 'nope.mp4'), '-o', proj]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /nope\.mp4/);
  assert.equal(existsSync(proj), false);

  r = await runCli(['frobnicate']);
  assert.equal(r.code, 2);
  r = await runCli(['init', clip]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /-o <project\.rrproj> is required/);

  r = await runCli(['init', clip, '-o', proj, '--size', '64']);
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['init', clip, '-o', proj]);
  assert.equal(r.code, 3, 'an existing project is not overwritten without --force');

  r = await runCli(['keyframes', proj, '--every', '5', '--set', '1,2']);
  assert.equal(r.code, 2);
  r = await runCli(['keyframes', proj, '--set', '99']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /past the end/);

  const wrong = path.join(dir, 'wrong.png');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=red:size=50x50', '-frames:v', '1', wrong]);
  r = await runCli(['keyframe', proj, '--frame', '3', '--import', wrong]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /50×50/);
  r = await runCli(['info', proj, '--json']);
  const info = jsonLines(r.stdout).find((l) => l.type === 'result') as { keyframes: unknown[] };
  assert.deepEqual(info.keyframes, [], 'a rejected import creates no key frame');

  r = await runCli(['export', proj, path.join(dir, 'no-such-dir', 'out.mp4')]);
  assert.equal(r.code, 4);

  r = await runCli(['info', path.join(dir, 'edited-not-a-project.rrproj')]);
  assert.equal(r.code, 3);

  r = await runCli(['init', clip, '-o', path.join(dir, 'x.rrproj')], { env: { PATH: '/nonexistent' } });
  assert.equal(r.code, 4);
  assert.match(r.stderr, /RERENDER_FFMPEG/);
});

test('a cancelled export exits 130 and leaves no file', async () => {
  // Long enough that the export is still running when its first progress report arrives.
  const long = await makeClip(dir, { frames: 240, width: 320, height: 240, fps, audio: true });
  const proj = path.join(dir, 'cancel.rrproj');
  assert.equal((await runCli(['init', long, '-o', proj, '--size', '128'])).code, 0);
  const c = new AbortController();
  const out = path.join(dir, 'cancelled.mp4');
  const r = await runCli(['export', proj, out, '--json'], {
    signal: c.signal,
    onStdout: (text) => {
      if (!c.signal.aborted && text.includes('"type":"progress"')) c.abort();
    },
  });
  assert.equal(r.code, 130, r.stdout);
  assert.equal(existsSync(out), false);
  assert.ok(jsonLines(r.stdout).some((l) => l.type === 'error' && l.code === 'CANCELLED'));
});

test('closing a frame stream while ffmpeg is ahead of the consumer never hangs', { timeout: 30_000 }, async () => {
  const { streamFrames } = await import('../../src-main/studio/frame-stream.ts');
  const { locateTools, probeVideo, previewGeometry } = await import('../../src-main/media/index.ts');
  const tools = await locateTools({ env: process.env });
  const probe = await probeVideo(clip, { tools });
  // Tiny frames: one stdout chunk holds many, so the producer is mid-chunk when we close.
  const g = previewGeometry(probe, 8);
  for (let round = 0; round < 5; round++) {
    const it = streamFrames(clip, probe, g, { start: 0, count: probe.frameCount }, { tools });
    const first = await it.next();
    assert.equal(first.done, false);
    await new Promise((r) => setTimeout(r, 200)); // let ffmpeg fill the pipe with many frames
    await it.close();
  }
});
