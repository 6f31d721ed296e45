// `rerender propagate` on a generated clip: renders land in the project, export uses them, a rerun
// skips valid frames, and changing one key frame redoes only the frames that depend on it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { Project } from '../../src-main/project/index.ts';
import { frameHashes } from '../../src-main/studio/propagate.ts';
import { jsonLines, runCli } from './run-cli.ts';

let dir = '';
let clip = '';

before(async () => {
  dir = await makeTempDir('rerender-prop-');
  clip = await makeClip(dir, { frames: 12, width: 128, height: 96, fps: { num: 25, den: 1 }, pattern: 'mandelbrot' });
});
after(async () => removeDir(dir));

function stylise(n: number, out: string): void {
  // A deterministic "style": posterised, colour-shifted source frame at its full size.
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-vf', `select=eq(n\\,${n}),hue=h=120:s=2,lutrgb=r='bitand(val\\,224)':g='bitand(val\\,224)':b='bitand(val\\,224)'`, '-frames:v', '1', out]);
}

test('frameHashes: each frame depends on the key frames around it only', () => {
  const keys = [{ frame: 2, image: 'a', mask: null }, { frame: 6, image: 'b', mask: null }];
  const h = frameHashes(9, keys, 'base');
  const changed = frameHashes(9, [keys[0]!, { frame: 6, image: 'B', mask: null }], 'base');
  assert.equal(h[0], h[1]); // before the first key: depends on key 2 alone
  assert.equal(h[0], changed[0]);
  assert.equal(h[2], changed[2]); // key 2 itself
  for (const i of [3, 4, 5, 6, 7, 8]) assert.notEqual(h[i], changed[i], `frame ${i} depends on key 6`);
  assert.equal(h[7], h[8]);
});

test('propagate renders every frame, resumes, and redoes only what a key-frame edit touches', async () => {
  const proj = path.join(dir, 'p.rrproj');
  assert.equal((await runCli(['init', clip, '-o', proj, '--size', '64'])).code, 0);
  assert.equal((await runCli(['keyframes', proj, '--set', '0,8'])).code, 0);
  const k0 = path.join(dir, 'k0.png');
  const k8 = path.join(dir, 'k8.png');
  stylise(0, k0);
  stylise(8, k8);
  assert.equal((await runCli(['keyframe', proj, '--frame', '0', '--import', k0])).code, 0);

  // Only key frame 0 has an image: every frame comes from it, forwards.
  let r = await runCli(['propagate', proj, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  let res = jsonLines(r.stdout).find((l) => l.type === 'result')!;
  assert.equal(res.framesWritten, 12);
  assert.ok(jsonLines(r.stdout).some((l) => l.type === 'progress'));

  // A second run has nothing to do.
  r = await runCli(['propagate', proj, '--json']);
  res = jsonLines(r.stdout).find((l) => l.type === 'result')!;
  assert.equal(res.framesWritten, 0);
  assert.equal(res.alreadyDone, 12);

  // Adding key frame 8 invalidates frames 1..11 (all now depend on key 8), not frame 0.
  const p = Project.open(proj);
  const before0 = p.getRender(0)!.paramsHash;
  p.close();
  assert.equal((await runCli(['keyframe', proj, '--frame', '8', '--import', k8])).code, 0);
  r = await runCli(['propagate', proj, '--json']);
  assert.equal(r.code, 0, r.stderr);
  res = jsonLines(r.stdout).find((l) => l.type === 'result')!;
  assert.equal(res.framesWritten, 11);
  const q = Project.open(proj);
  assert.equal(q.getRender(0)!.paramsHash, before0);
  assert.equal(q.renderCount(), 12);
  q.close();

  // The export uses the renders.
  const out = path.join(dir, 'out.mp4');
  r = await runCli(['export', proj, out]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /had no render/);
  assert.match(r.stdout, /12 rendered/);
});

test('propagate refuses a project with no key-frame images and a bad range', async () => {
  const proj = path.join(dir, 'empty.rrproj');
  assert.equal((await runCli(['init', clip, '-o', proj, '--size', '64'])).code, 0);
  let r = await runCli(['propagate', proj]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /No key frame has an image/);
  r = await runCli(['propagate', proj, '--frames', '5-99']);
  assert.equal(r.code, 3);
  r = await runCli(['propagate', proj, '--frames', 'x']);
  assert.equal(r.code, 2);
});

test('propagate --flow-only prepares the flow of the shots with key frames; the next propagation computes none', async () => {
  const proj = path.join(dir, 'flow-only.rrproj');
  assert.equal((await runCli(['init', clip, '-o', proj, '--size', '64'])).code, 0);
  let r = await runCli(['propagate', proj, '--flow-only', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /no shot has a key frame yet/);
  assert.deepEqual(jsonLines(r.stdout).find((l) => l.type === 'result'), { type: 'result', pairs: 0, cached: 0, computed: 0 });

  assert.equal((await runCli(['keyframes', proj, '--set', '0,8'])).code, 0);
  r = await runCli(['propagate', proj, '--flow-only', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = jsonLines(r.stdout);
  assert.deepEqual(lines.find((l) => l.type === 'result'), { type: 'result', pairs: 11, cached: 0, computed: 11 });
  const flowProgress = lines.filter((l) => l.type === 'progress' && l.stage === 'flow');
  assert.deepEqual(flowProgress.at(-1), { type: 'progress', stage: 'flow', done: 11, total: 11, etaSeconds: 0 });
  r = await runCli(['propagate', proj, '--flow-only', '--json']);
  assert.deepEqual(jsonLines(r.stdout).find((l) => l.type === 'result'), { type: 'result', pairs: 11, cached: 11, computed: 0 });

  const k0 = path.join(dir, 'flow-k0.png');
  stylise(0, k0);
  assert.equal((await runCli(['keyframe', proj, '--frame', '0', '--import', k0])).code, 0);
  r = await runCli(['propagate', proj, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const res = jsonLines(r.stdout).find((l) => l.type === 'result')!;
  assert.equal(res.framesWritten, 12);
  assert.equal((res.ms as { flow: number }).flow, 0, 'every flow came from the cache');

  r = await runCli(['propagate', proj, '--flow-only', '--frames', '0-3']);
  assert.equal(r.code, 2);
  assert.match(r.stdout + r.stderr, /takes no --frames/);
});
