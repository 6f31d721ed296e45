// Shot-cut detection on real footage: the cuts found, ms per frame, and precision/recall against
// cuts checked by eye (frames extracted and looked at). Also a joined clip made with lavfi.
//   node bench/cuts/run.ts [--media ../shared/media] [--dump]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { locateTools, probeVideo } from '../../src-main/media/index.ts';
import { detectShotCuts, type CutFeatures } from '../../src-main/media/cuts.ts';

const { values: args } = parseArgs({ options: { media: { type: 'string', default: '../shared/media' }, dump: { type: 'boolean' } } });

/** Cuts checked by eye on a contact sheet of every frame (see the report); null: continuous footage. */
const TRUTH: Record<string, number[]> = {
  // Project frame indices (the timeline repeats the first frame: frames 0 and 1 are the same black
  // leader, a two-frame "shot" the minimum shot length leaves to the first shot).
  'Megamind.avi': [99, 155, 201],
  'vtest.avi': [],
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cuts-bench-'));
function joined(): { file: string; truth: number[] } {
  // Four shots at 24 fps: testsrc2 with a two-frame white flash (20, 21), a zooming mandelbrot
  // that fades out to black, smptebars with noise fading in from black (a fade, not a cut), and a
  // fast horizontal pan. Cuts: 48 (hard) and 118 (hard); the fade through black at 88 is none.
  const file = path.join(tmp, 'joined.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24:d=2',
    '-f', 'lavfi', '-i', 'mandelbrot=s=320x180:r=24',
    '-f', 'lavfi', '-i', 'smptebars=s=320x180:r=24',
    '-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24',
    '-filter_complex',
    '[0]drawbox=c=white:t=fill:enable=between(n\\,20\\,21)[a];' +
    '[1]trim=end_frame=40,setpts=PTS-STARTPTS,fade=out:32:8[b];' +
    '[2]trim=end_frame=30,setpts=PTS-STARTPTS,noise=alls=20:allf=t,fade=in:0:8[c];' +
    '[3]trim=end_frame=40,setpts=PTS-STARTPTS,scroll=h=0.06[d];' +
    '[a][b][c][d]concat=n=4:v=1[v]',
    '-map', '[v]', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '12', file]);
  return { file, truth: [48, 118] };
}

const tools = await locateTools({ env: process.env });
const clips: { name: string; file: string; truth: number[] }[] = [{ name: 'joined (lavfi)', ...joined() }];
for (const [name, truth] of Object.entries(TRUTH)) {
  const file = path.join(args.media, name);
  if (existsSync(file)) clips.push({ name, file, truth });
  else console.error(`skipped ${file}: not found (pass --media)`);
}

// Faster motion from real footage: vtest with only every 4th frame kept (people move 4x as far
// between frames), and Megamind with every 3rd (its cuts land at the first kept frame of each shot).
function decimated(name: string, every: number, truth: number[]): void {
  const src = path.join(args.media, name);
  if (!existsSync(src)) return;
  const file = path.join(tmp, `${name}-every${every}.mp4`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', src, '-vf', `select=not(mod(n\\,${every})),setpts=N/TB/25`, '-r', '25', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', file]);
  clips.push({ name: `${name}, 1 frame in ${every}`, file, truth });
}
decimated('vtest.avi', 4, []);
// Source frames n (the project's n + 1, see above) 98, 154, 200 start shots: kept frames 33, 52, 67.
decimated('Megamind.avi', 3, [33, 52, 67]);

// Two real clips joined: vtest's plaza (its first 100 frames), then Megamind inside its first shot
// (source frames 10-89), both at 640x480, as raw frames re-encoded at 25 fps so the indices are
// exact: one cut, at 100.
{
  const a = path.join(args.media, 'vtest.avi');
  const b = path.join(args.media, 'Megamind.avi');
  if (existsSync(a) && existsSync(b)) {
    const raw = (src: string, filter: string): Buffer =>
      execFileSync('ffmpeg', ['-v', 'error', '-i', src, '-vf', `${filter},scale=640:480`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'], { maxBuffer: 1 << 30 });
    const frames = Buffer.concat([raw(a, 'select=lt(n\\,100)'), raw(b, 'select=between(n\\,10\\,89)')]);
    const file = path.join(tmp, 'real-join.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', '640x480', '-framerate', '25', '-i', '-',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', file], { input: frames });
    clips.push({ name: 'vtest + Megamind joined', file, truth: [100] });
  }
}

let tp = 0;
let fp = 0;
let fn = 0;
for (const c of clips) {
  const probe = await probeVideo(c.file, { tools });
  let features: CutFeatures | null = null;
  const t0 = performance.now();
  const cuts = await detectShotCuts(c.file, probe, { tools, onFeatures: (f) => { features = f; } });
  const ms = performance.now() - t0;
  const hit = cuts.filter((x) => c.truth.includes(x)).length;
  tp += hit;
  fp += cuts.length - hit;
  fn += c.truth.length - hit;
  console.log(`${c.name}: ${probe.frameCount} frames ${probe.width}x${probe.height}, cuts [${cuts.join(', ')}] (truth [${c.truth.join(', ')}]), ${(ms / probe.frameCount).toFixed(2)} ms/frame`);
  if (args.dump && features) {
    const f = features as CutFeatures;
    for (let i = 1; i < probe.frameCount; i++) {
      console.log(`  ${i}\th ${f.hist[i]!.toFixed(3)}\tp ${f.pixel[i]!.toFixed(3)}\ts ${f.score[i]!.toFixed(3)}\tcross ${f.crossScore[i]!.toFixed(3)}${c.truth.includes(i) ? '\tCUT' : ''}`);
    }
  }
}
const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
console.log(`all clips: ${tp} right, ${fp} false, ${fn} missed: precision ${precision.toFixed(2)}, recall ${recall.toFixed(2)}`);
rmSync(tmp, { recursive: true, force: true });
