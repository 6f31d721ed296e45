// `rerender run` end to end on a generated clip with the tiny fixture models (CPU): one command
// makes the project, key frames, translations, renders and the MP4; running it again resumes; with
// no usable model it stops before doing any heavy work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { Project } from '../../src-main/project/index.ts';
import { EXIT } from '../../src-main/cli/exit-codes.ts';
import { jsonLines, runCli } from './run-cli.ts';

const ENGINE = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
let dir = '';
let clip = '';

before(async () => {
  dir = await makeTempDir('rerender-run-');
  clip = await makeClip(dir, { frames: 14, width: 96, height: 64, fps: { num: 24000, den: 1001 } });
});
after(async () => removeDir(dir));

function probe(file: string): { frames: number; rate: string } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,r_frame_rate', '-of', 'json', file]).toString();
  const s = (JSON.parse(out) as { streams: { nb_read_frames: string; r_frame_rate: string }[] }).streams[0]!;
  return { frames: Number(s.nb_read_frames), rate: s.r_frame_rate };
}

test('run: init, key frames, translation, propagation and export in one command, resumable', async () => {
  const config = path.join(dir, 'c.json');
  // An official config: 2 DDIM steps, key frames every 6 frames, pure-noise start.
  writeFileSync(config, JSON.stringify({ ddim_steps: 2, interval: 6, x0_strength: -1, control_type: 'canny', canny_low: 50, canny_high: 100, work_dir: 'ignored' }));
  const out = path.join(dir, 'out.mp4');
  const args = [
    'run', clip, '--prompt', 'a watercolor painting', '--config', config, '--size', '64', '-o', out,
    '--model', path.join(ENGINE, 'tiny-sd'), '--controlnet', path.join(ENGINE, 'tiny-controlnet'),
    // fp16 even on the CPU: the precision reaches the pipeline through the run.
    '--provider', 'cpu', '--precision', 'fp16', '--cache', path.join(dir, 'engine'), '--json',
  ];
  let r = await runCli(args);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  let lines = jsonLines(r.stdout);
  let res = lines.find((l) => l.type === 'result')!;
  assert.equal(res.project, path.join(dir, 'out.rrproj'), 'the project is made next to the output');
  assert.equal(res.created, true);
  assert.deepEqual(res.keyframes, [0, 6, 12]);
  assert.deepEqual((res.translate as { translated: number[] }).translated, [0, 6, 12]);
  assert.equal((res.translate as { floatType: string }).floatType, 'float16');
  assert.equal((res.propagate as { framesWritten: number }).framesWritten, 14);

  // One progress display: stages in order, one overall total, done never going back.
  const progress = lines.filter((l) => l.type === 'progress');
  const stages = progress.map((p) => p.stage as string).filter((s, i, a) => a.indexOf(s) === i);
  assert.deepEqual(stages, ['init', 'keyframes', 'translate', 'propagate', 'export']);
  assert.equal(new Set(progress.map((p) => p.total)).size, 1);
  for (let i = 1; i < progress.length; i++) assert.ok((progress[i]!.done as number) >= (progress[i - 1]!.done as number));
  assert.equal(progress.at(-1)!.done, progress.at(-1)!.total);

  // The MP4 has the source's frame count and exact rate; its frames are renders.
  assert.deepEqual(probe(out), { frames: 14, rate: '24000/1001' });
  assert.deepEqual(res.export, { frames: 14, fromRenders: 14, fromSource: 0 });
  const p = Project.open(path.join(dir, 'out.rrproj'));
  assert.deepEqual([p.source().working.width, p.source().working.height], [128, 64]);
  assert.deepEqual(p.listKeyframes(() => '').map((k) => k.state !== 'none'), [true, true, true]);
  assert.equal(p.settings().steps, 2);
  p.close();

  // The same command again: nothing is translated or rendered again.
  r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  lines = jsonLines(r.stdout);
  res = lines.find((l) => l.type === 'result')!;
  assert.equal(res.created, false);
  assert.deepEqual((res.translate as { translated: number[] }).translated, []);
  assert.equal((res.propagate as { framesWritten: number; alreadyDone: number }).framesWritten, 0);
  assert.deepEqual(probe(out), { frames: 14, rate: '24000/1001' });

  // The project beside out.mp4 belongs to that clip: another video is refused, nothing changes.
  const other = await makeClip(dir, { frames: 5, width: 96, height: 64, fps: { num: 25, den: 1 } });
  const i = args.indexOf(clip);
  r = await runCli([...args.slice(0, i), other, ...args.slice(i + 1)]);
  assert.equal(r.code, EXIT.input);
  assert.equal(jsonLines(r.stdout).find((l) => l.type === 'error')!.code, 'PROJECT_MISMATCH');
  assert.deepEqual(probe(out), { frames: 14, rate: '24000/1001' });
});

test('run with no usable model: exit 4 and the exact message, before any project is made', async () => {
  const out = path.join(dir, 'none.mp4');
  // No models folder or huggingface_hub cache of this machine's.
  const env = { ...process.env, HOME: path.join(dir, 'home'), HF_HOME: path.join(dir, 'hf'), RERENDER_MODELS_DIR: undefined, RERENDER_MODELS: undefined, RERENDER_MODEL_ROOTS: undefined, HF_HUB_CACHE: undefined };
  const r = await runCli(['run', clip, '--prompt', 'a fox', '-o', out, '--json'], { env });
  assert.equal(r.code, EXIT.environment);
  const err = jsonLines(r.stdout).find((l) => l.type === 'error')!;
  assert.equal(err.code, 'MODEL_MISSING');
  assert.match(err.message as string, /Stable Diffusion 1\.5 model: not set/);
  assert.match(err.message as string, /rerender run <video> --model PATH --controlnet PATH/);
  assert.match(err.message as string, /https:\/\/huggingface\.co\/lllyasviel\/control_v11p_sd15_canny/);
  assert.equal(existsSync(path.join(dir, 'none.rrproj')), false, 'nothing heavy was started');
  assert.equal(existsSync(out), false);

  const usage = await runCli(['run', clip, '-o', out]);
  assert.equal(usage.code, EXIT.usage, 'a prompt is required');
});
