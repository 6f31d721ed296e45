// Shot-cut detection: the decision on synthetic thumbnails made in code (cuts, fast motion, a
// flash, a fade, a dissolve, the shortest shot), and one real ffmpeg pass over a joined lavfi clip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { CutAnalyser, detectShotCuts } from '../../src-main/media/cuts.ts';
import { isMediaError, locateTools, probeVideo } from '../../src-main/media/index.ts';
import { makeTempDir, removeDir } from '../helpers/clips.ts';

const W = 64;
const H = 36;

/** A textured scene: two crossed waves in `tint`, panned `speed` pixels a frame. */
function scene(tint: [number, number, number], freq: number, speed: number, shift = 0) {
  return (t: number, gain = 1): Uint8Array => {
    const rgb = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = 0.5 + 0.25 * Math.sin((x + shift + speed * t) * freq) + 0.25 * Math.cos(y * freq * 1.7 + x * 0.05);
        for (let c = 0; c < 3; c++) rgb[(y * W + x) * 3 + c] = Math.round(Math.min(255, tint[c]! * v * gain));
      }
    }
    return rgb;
  };
}

const warm = scene([250, 160, 60], 0.35, 0.3);
const cold = scene([60, 120, 240], 0.2, 0.3);
const fastWarm = scene([250, 160, 60], 0.35, 9);

function cutsOf(frames: Uint8Array[], opts = {}): number[] {
  const a = new CutAnalyser(frames.length, W, H, opts);
  for (const f of frames) a.push(f);
  return a.cuts();
}

const range = (n: number, f: (t: number) => Uint8Array): Uint8Array[] => Array.from({ length: n }, (_, t) => f(t));

test('a cut between two shots is found at the first frame of the second', () => {
  assert.deepEqual(cutsOf([...range(30, warm), ...range(30, (t) => cold(t))]), [30]);
  // Same palette, different framing: the pixel difference finds it.
  const warmOther = scene([250, 160, 60], 0.35, 0.3, 9);
  assert.deepEqual(cutsOf([...range(25, warm), ...range(25, warmOther)]), [25]);
});

test('continuous footage, even fast motion, has no cut; a cut inside fast motion is still found', () => {
  assert.deepEqual(cutsOf(range(60, warm)), []);
  assert.deepEqual(cutsOf(range(60, fastWarm)), []);
  assert.deepEqual(cutsOf([...range(30, fastWarm), ...range(30, cold)]), [30]);
});

test('a flash is not a cut', () => {
  const white = new Uint8Array(W * H * 3).fill(255);
  const frames = range(40, warm);
  frames[20] = white;
  frames[21] = white;
  assert.deepEqual(cutsOf(frames), []);
});

test('a fade through black and a dissolve are not cuts', () => {
  // 40 frames of warm fading out over 8, 40 of cold fading in over 8.
  const fade = [
    ...range(40, (t) => warm(t, t < 32 ? 1 : (39 - t) / 8)),
    ...range(40, (t) => cold(t, t >= 8 ? 1 : t / 8)),
  ];
  assert.deepEqual(cutsOf(fade), []);
  const dissolve = range(60, (t) => {
    const k = Math.min(1, Math.max(0, (t - 25) / 10));
    const a = warm(t);
    const b = cold(t);
    return a.map((v, i) => Math.round(v * (1 - k) + b[i]! * k));
  });
  assert.deepEqual(cutsOf(dissolve), []);
});

test('shots are never shorter than minShot: the stronger of two close cuts stays', () => {
  const grey = scene([200, 200, 200], 0.5, 0.3);
  // warm 0-29, grey 30-32 (three frames), cold 33-59.
  const frames = [...range(30, warm), ...range(3, grey), ...range(27, cold)];
  const cuts = cutsOf(frames, { minShot: 8 });
  assert.equal(cuts.length, 1, `one cut expected, got ${cuts.join(', ')}`);
  assert.ok(cuts[0] === 30 || cuts[0] === 33);
  assert.deepEqual(cutsOf(frames, { minShot: 2, flashFrames: 0 }), [30, 33]);
  // Nor at the very start or end.
  assert.deepEqual(cutsOf([...range(3, cold), ...range(30, warm)]), []);
});

test('bad options and thumbnails are refused clearly', () => {
  assert.throws(() => new CutAnalyser(10, W, H, { minShot: 0 }), /minShot must be a whole number/);
  assert.throws(() => new CutAnalyser(10, W, H, { ratio: 0.5 }), /ratio must be/);
  assert.throws(() => new CutAnalyser(0, W, H), RangeError);
  const a = new CutAnalyser(1, W, H);
  assert.throws(() => a.push(new Uint8Array(5)), /expected 6912/);
  a.push(new Uint8Array(W * H * 3));
  assert.throws(() => a.push(new Uint8Array(W * H * 3)), /more than the 1 frames/);
  assert.deepEqual(a.cuts(), []);
});

test('detectShotCuts finds the join of two lavfi clips in one ffmpeg pass, with progress, and can be cancelled', async () => {
  const dir = await makeTempDir('rerender-cuts-');
  try {
    const file = path.join(dir, 'joined.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=25:d=0.6',
      '-f', 'lavfi', '-i', 'mandelbrot=s=64x48:r=25',
      '-filter_complex', '[1]trim=end_frame=12,setpts=PTS-STARTPTS[b];[0][b]concat=n=2:v=1[v]',
      '-map', '[v]', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '6', file]);
    const tools = await locateTools({ env: process.env });
    const probe = await probeVideo(file, { tools });
    assert.equal(probe.frameCount, 27);
    const seen: number[] = [];
    const cuts = await detectShotCuts(file, probe, { tools, onProgress: (p) => seen.push(p.done) });
    assert.deepEqual(cuts, [15]);
    assert.equal(seen.at(-1), 27);
    const stop = new AbortController();
    stop.abort();
    await assert.rejects(detectShotCuts(file, probe, { tools, signal: stop.signal }), (e: unknown) => isMediaError(e, 'CANCELLED'));
  } finally {
    await removeDir(dir);
  }
});
