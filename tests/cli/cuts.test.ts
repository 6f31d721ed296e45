// Shot cuts end to end on a joined clip (testsrc2, then a mandelbrot: a cut at frame 15 of 27):
// `init` finds and stores the cut, `info` lists it, key-frame plans key it, and propagation never
// carries a key frame's look across it. Also: cuts of projects made before they were stored, and
// stored cuts that fail their checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { decodePng } from '../../src-main/media/index.ts';
import { isProjectError, Project } from '../../src-main/project/index.ts';
import { SCHEMA_VERSION } from '../../src-main/project/schema.ts';
import { frameHashes } from '../../src-main/studio/propagate.ts';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { jsonLines, runCli } from './run-cli.ts';

const CUT = 15;
const FRAMES = 27;
let dir = '';
let clip = '';
let n = 0;

before(async () => {
  dir = await makeTempDir('rerender-cuts-cli-');
  clip = path.join(dir, 'joined.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=25:d=0.6',
    '-f', 'lavfi', '-i', 'mandelbrot=s=64x48:r=25',
    '-filter_complex', '[1]trim=end_frame=12,setpts=PTS-STARTPTS[b];[0][b]concat=n=2:v=1[v]',
    '-map', '[v]', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '6', clip]);
});
after(async () => removeDir(dir));

const result = (stdout: string): Record<string, unknown> => jsonLines(stdout).find((l) => l.type === 'result')!;

async function init(): Promise<string> {
  const proj = path.join(dir, `p${++n}.rrproj`);
  const r = await runCli(['init', clip, '-o', proj, '--size', '64']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`1 shot cut at frame ${CUT}\\b`));
  return proj;
}

function sql(file: string, statement: string): void {
  const db = new Database(file);
  db.exec(statement);
  db.close();
}

test('init finds the cut at the join and stores it; info lists it', async () => {
  const proj = path.join(dir, 'json.rrproj');
  const r = await runCli(['init', clip, '-o', proj, '--size', '64', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(result(r.stdout).shotCuts, [CUT]);
  assert.ok(jsonLines(r.stdout).some((l) => l.type === 'progress' && l.stage === 'cuts'), 'progress while scanning');
  const p = Project.openReadOnly(proj);
  try {
    assert.deepEqual(p.shotCuts()?.frames, [CUT]);
    assert.match(p.shotCuts()!.method, /hist\+pixel/);
  } finally {
    p.close();
  }
  const info = await runCli(['info', proj]);
  assert.match(info.stdout, new RegExp(`cuts +1 shot cut at frame ${CUT}\\n`));
  assert.deepEqual(result((await runCli(['info', proj, '--json'])).stdout).shotCuts, [CUT]);
});

test('--auto and --every put a key at the cut and none just before it', async () => {
  const proj = await init();
  let r = await runCli(['keyframes', proj, '--auto', '--min', '2', '--max', '6', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const auto = result(r.stdout).keyframes as number[];
  assert.ok(auto.includes(0) && auto.includes(CUT), `${auto}`);
  assert.ok(!auto.includes(CUT - 1), `${auto}`);
  r = await runCli(['keyframes', proj, '--every', '10', '--json']);
  assert.deepEqual(result(r.stdout).keyframes, [0, 10, CUT, CUT + 10]);
  r = await runCli(['keyframes', proj, '--every', '7']);
  assert.match(r.stdout, /4 key frame\(s\) \(1 at shot cuts\): 0, 7, 15, 22/);
});

test('a project made before cuts were stored: told so, found on demand and stored', async () => {
  const proj = await init();
  // What a schema v3 file looks like once migrated: the table is there, empty.
  sql(proj, 'DROP TABLE shot_cuts; DROP TABLE edit_step_blobs; DROP TABLE edit_blobs; DROP TABLE edit_steps; PRAGMA user_version = 3;');
  let r = await runCli(['info', proj]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cuts +not looked for yet/);
  r = await runCli(['info', proj, '--cuts']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`cuts +1 shot cut at frame ${CUT}`));
  const p = Project.openReadOnly(proj);
  try {
    assert.deepEqual(p.shotCuts()?.frames, [CUT]);
    assert.equal(p.schemaVersion, SCHEMA_VERSION);
  } finally {
    p.close();
  }
  // A plan finds them too when they are missing.
  sql(proj, 'DELETE FROM shot_cuts');
  r = await runCli(['keyframes', proj, '--every', '10', '--json']);
  assert.deepEqual(result(r.stdout).keyframes, [0, 10, CUT, CUT + 10]);
});

test('stored cuts are checked: bad ones are DAMAGED (exit 3), bad arguments are refused', async () => {
  const proj = await init();
  for (const [frames, message] of [
    [`'[${FRAMES}]'`, /shot cut at frame 27 is past the last frame/],
    ["'[9, 4]'", /not in increasing order/],
    ["'[0]'", /stored shot cuts did not pass the checks/],
    ["'cuts'", /stored shot cuts cannot be read/],
  ] as const) {
    sql(proj, `UPDATE shot_cuts SET frames = ${frames}`);
    const r = await runCli(['info', proj, '--json']);
    assert.equal(r.code, 3, r.stderr);
    const err = jsonLines(r.stderr).concat(jsonLines(r.stdout)).find((l) => l.type === 'error');
    assert.equal(err?.code, 'DAMAGED');
    assert.match(String(err?.message), message);
  }
  sql(proj, `UPDATE shot_cuts SET frames = '[${CUT}]'`);
  const p = Project.open(proj);
  try {
    assert.throws(() => p.setShotCuts([0], 'manual'), (e) => isProjectError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => p.setShotCuts([FRAMES], 'manual'), (e) => isProjectError(e, 'OUT_OF_RANGE'));
    assert.throws(() => p.setShotCuts([5, 5], 'manual'), (e) => isProjectError(e, 'INVALID_ARGUMENT'));
    assert.deepEqual(p.setShotCuts([3, 20], 'manual').frames, [3, 20]);
    p.clearShotCuts();
    assert.equal(p.shotCuts(), null);
  } finally {
    p.close();
  }
});

test('frameHashes: a frame depends only on the key frames of its own shot', () => {
  const keys = [{ frame: 0, image: 'a', mask: null }, { frame: 20, image: 'b', mask: null }];
  const withCut = frameHashes(27, keys, 'base', [CUT]);
  const changed = frameHashes(27, [keys[0]!, { frame: 20, image: 'B', mask: null }], 'base', [CUT]);
  for (let i = 0; i < CUT; i++) assert.equal(withCut[i], changed[i], `frame ${i} is in key 0's shot`);
  for (let i = CUT; i < 27; i++) assert.notEqual(withCut[i], changed[i], `frame ${i} is in key 20's shot`);
  // Without cuts the hashes are the ones made before cuts existed.
  assert.deepEqual(frameHashes(27, keys, 'base', []), frameHashes(27, keys, 'base'));
  assert.notDeepEqual(frameHashes(27, keys, 'base', []), withCut);
});

/** The mean colour of a stored render. */
function meanRgb(p: Project, frame: number): [number, number, number] {
  const img = decodePng(p.getRender(frame)!.image);
  const sum = [0, 0, 0];
  for (let i = 0; i < img.width * img.height; i++) for (let c = 0; c < 3; c++) sum[c]! += img.data[i * img.channels + c]!;
  return sum.map((s) => s / (img.width * img.height)) as [number, number, number];
}

test('propagate never carries a key frame across the cut; a shot without a key is reported', async () => {
  const proj = await init();
  const { width, height } = (() => {
    const p = Project.openReadOnly(proj);
    try {
      return p.source().working;
    } finally {
      p.close();
    }
  })();
  const red = path.join(dir, 'red.png');
  const blue = path.join(dir, 'blue.png');
  for (const [file, colour] of [[red, 'red'], [blue, 'blue']] as const) {
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${colour}:s=${width}x${height}`, '-frames:v', '1', file]);
  }
  assert.equal((await runCli(['keyframes', proj, '--set', `0,${CUT}`])).code, 0);
  assert.equal((await runCli(['keyframe', proj, '--frame', '0', '--import', red])).code, 0);

  // Only the first shot has a key image: the second is left alone and said so.
  let r = await runCli(['propagate', proj, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  let res = result(r.stdout);
  assert.deepEqual(res.unkeyedShots, [{ first: CUT, last: FRAMES - 1 }]);
  assert.equal(res.framesWritten, CUT);
  assert.ok(jsonLines(r.stdout).some((l) => l.type === 'warning' && /shot 15-26 has no key frame/.test(String(l.message))), r.stdout);

  assert.equal((await runCli(['keyframe', proj, '--frame', String(CUT), '--import', blue])).code, 0);
  r = await runCli(['propagate', proj, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  res = result(r.stdout);
  assert.deepEqual(res.unkeyedShots, []);
  const p = Project.openReadOnly(proj);
  try {
    assert.equal(p.renderCount(), FRAMES);
    for (let i = 0; i < FRAMES; i++) {
      const [rr, , bb] = meanRgb(p, i);
      if (i < CUT) assert.ok(rr > 150 && bb < 60, `frame ${i} should be red, is ${rr.toFixed(0)},${bb.toFixed(0)}`);
      else assert.ok(bb > 150 && rr < 60, `frame ${i} should be blue (its shot's key), is ${rr.toFixed(0)},${bb.toFixed(0)}`);
    }
  } finally {
    p.close();
  }
});
