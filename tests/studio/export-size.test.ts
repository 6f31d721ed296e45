// Export at the source's resolution (the default) versus the working size: a 160x120 clip worked
// at 64x64 (its aspect fix crops 20 columns each side) exports at 160x120, renders upsampled guided
// by the source (also across the cropped margins), unrendered frames the source itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Project } from '../../src-main/project/index.ts';
import { encodePng, workingGeometry, type Crop } from '../../src-main/media/index.ts';
import { artistCrop, sourceRegion } from '../../src-main/studio/export.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { jsonLines, runCli } from '../cli/run-cli.ts';

let dir = '';
let clip = '';
let proj = '';
const FRAMES = 4;

function ffprobeSize(file: string): [number, number] {
  const s = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]).toString().trim();
  return s.split(',').map(Number) as [number, number];
}
function raw(args: string[]): Uint8Array {
  return new Uint8Array(execFileSync('ffmpeg', ['-v', 'error', ...args, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 26 }));
}
const frameOf = (file: string, n: number, vf = 'null'): Uint8Array => raw(['-i', file, '-vf', `select=eq(n\\,${n}),${vf}`, '-frames:v', '1']);
const negate = (rgb: Uint8Array): Uint8Array => rgb.map((v) => 255 - v);

/** PSNR over columns [x0, x1) of a width-wide RGB image. */
function psnrCols(a: Uint8Array, b: Uint8Array, width: number, x0: number, x1: number): number {
  let se = 0, n = 0;
  const rows = a.length / 3 / width;
  for (let y = 0; y < rows; y++) {
    for (let x = x0; x < x1; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        se += (a[i]! - b[i]!) ** 2;
        n++;
      }
    }
  }
  return 10 * Math.log10((255 * 255 * n) / Math.max(se, 1e-9));
}

before(async () => {
  dir = await makeTempDir('rerender-export-size-');
  clip = await makeClip(dir, { frames: FRAMES, width: 160, height: 120, fps: { num: 24, den: 1 } });
  proj = path.join(dir, 'p.rrproj');
  const r = await runCli(['init', clip, '-o', proj, '--size', '64']);
  assert.equal(r.code, 0, r.stderr);
  // Frames 1 and 2 get "renders": the working-size source, negated (a style that is a linear
  // function of the colour, so the truth at full size is simply the negated source).
  const p = Project.open(proj);
  try {
    const w = p.source().working;
    assert.deepEqual([w.width, w.height, w.crop.left, w.crop.right], [64, 64, 20, 20]);
    for (const i of [1, 2]) {
      const low = negate(frameOf(clip, i, 'crop=120:120:20:0,scale=64:64:flags=bicubic'));
      p.putRender(i, encodePng(low, 64, 64, 3), { runId: 'r', paramsHash: 'h' });
    }
  } finally {
    p.close();
  }
});
after(async () => removeDir(dir));

test('the artist crop is recovered from the stored effective crop; only the aspect fix is undone', () => {
  const stored = (src: { width: number; height: number }, shortSide: number, crop: Crop) => {
    const g = workingGeometry(src, { shortSide, crop });
    return { width: g.width, height: g.height, crop: g.crop, shortSide };
  };
  const none = { left: 0, right: 0, top: 0, bottom: 0 };
  const small = { width: 160, height: 120 };
  const hd = { width: 1920, height: 1080 };
  const cases: [{ width: number; height: number }, number, Crop][] = [
    [small, 64, none], // all 40 cut columns are the aspect fix
    [small, 64, { left: 1, right: 0, top: 0, bottom: 1 }], // asymmetric: the artist's, kept
    [hd, 512, none], // 896x512: 15 columns cut each side
    [hd, 448, { left: 0, right: 0, top: 100, bottom: 100 }], // a letterbox the artist removed
    [hd, 512, { left: 37, right: 0, top: 0, bottom: 0 }],
  ];
  for (const [src, side, crop] of cases) {
    const s = stored(src, side, crop);
    assert.notDeepEqual(s.crop, crop, 'each case has an aspect fix to undo');
    assert.deepEqual(artistCrop(src, s), crop, `${src.width}x${src.height} at ${side}, artist crop ${JSON.stringify(crop)}`);
  }
  const r = sourceRegion(hd, stored(hd, 448, { left: 0, right: 0, top: 100, bottom: 100 }));
  assert.deepEqual([r.width, r.height], [1920, 880]);
  assert.equal(r.rendered.y, 0);
  assert.ok(r.rendered.x > 0 && r.rendered.x + r.rendered.width < 1920, JSON.stringify(r.rendered));
});

test('default export is at the source size: renders upsampled (margins included), other frames the source', async () => {
  const out = path.join(dir, 'source.mp4');
  const r = await runCli(['export', proj, out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = jsonLines(r.stdout).find((l) => l.type === 'result')!;
  assert.deepEqual([res.size, res.width, res.height], ['source', 160, 120]);
  assert.deepEqual(ffprobeSize(out), [160, 120]);

  const truth1 = negate(frameOf(clip, 1));
  const got1 = frameOf(out, 1);
  // H.264 at crf 18 on testsrc2's hard colour edges: the plain source round-trips at ~30 dB here.
  const sourceBaseline = psnrCols(frameOf(out, 0), frameOf(clip, 0), 160, 0, 160);
  assert.ok(sourceBaseline > 26, `frame 0 is the source: ${sourceBaseline.toFixed(1)} dB`);
  // Inside the rendered columns 20..139 the upsampled render is the negated source (x1.9 upscale).
  const inside = psnrCols(got1, truth1, 160, 20, 140);
  assert.ok(inside > 20, `rendered part: ${inside.toFixed(1)} dB`);
  // A negated frame scores ~5-10 dB against the source: frame 1 is the render, not the source.
  assert.ok(psnrCols(got1, frameOf(clip, 1), 160, 20, 140) < 12);
  // The 20-column margins were never rendered: the model extrapolated from the source fills them
  // far better than repeating the last rendered column would (what a plain upscale can do).
  const margin = Math.min(psnrCols(got1, truth1, 160, 0, 20), psnrCols(got1, truth1, 160, 140, 160));
  const repeated = new Uint8Array(truth1.length);
  for (let y = 0; y < 120; y++) for (let x = 0; x < 160; x++) repeated.set(got1.subarray((y * 160 + Math.min(139, Math.max(20, x))) * 3, (y * 160 + Math.min(139, Math.max(20, x))) * 3 + 3), (y * 160 + x) * 3);
  const repeatedMargin = Math.min(psnrCols(repeated, truth1, 160, 0, 20), psnrCols(repeated, truth1, 160, 140, 160));
  assert.ok(margin > repeatedMargin + 3, `margins: ${margin.toFixed(1)} dB vs repeated edge ${repeatedMargin.toFixed(1)} dB`);
});

test('--size working keeps the working size; a bad --size is a usage error', async () => {
  const out = path.join(dir, 'working.mp4');
  const r = await runCli(['export', proj, out, '--size', 'working']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ffprobeSize(out), [64, 64]);
  const bad = await runCli(['export', proj, path.join(dir, 'bad.mp4'), '--size', 'huge']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--size must be 'source' or 'working'/);
});

test('an odd source region loses its last column and row (yuv420p needs even sizes)', async () => {
  const odd = path.join(dir, 'odd.rrproj');
  assert.equal((await runCli(['init', clip, '-o', odd, '--size', '64', '--crop', '1,0,0,1'])).code, 0);
  const out = path.join(dir, 'odd.mp4');
  const r = await runCli(['export', odd, out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ffprobeSize(out), [158, 118]);
  const res = jsonLines(r.stdout).find((l) => l.type === 'result')!;
  assert.deepEqual([res.width, res.height], [158, 118]);
});
