// `rerender translate` on a generated clip with the tiny fixture models (CPU, 64×64 working size):
// key frames are stored as they are made, a rerun resumes, a changed prompt or a middle key frame's
// override redoes exactly the key frames that depend on it, a missing model says what to do, an
// official config is applied, and a painted mask keeps the source outside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { keyframeImages } from '../helpers/keyframes.ts';
import { Project } from '../../src-main/project/index.ts';
import { decodePng, encodePng, locateTools, toRgb } from '../../src-main/media/index.ts';
import { translationHashes } from '../../src-main/studio/params.ts';
import { translateProject } from '../../src-main/studio/translate.ts';
import { openSource } from '../../src-main/studio/source.ts';
import { SourceFrames } from '../../src-main/studio/source-frames.ts';
import { EXIT } from '../../src-main/cli/exit-codes.ts';
import { jsonLines, runCli } from './run-cli.ts';

const ENGINE = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
const MODELS = ['--model', path.join(ENGINE, 'tiny-sd'), '--controlnet', path.join(ENGINE, 'tiny-controlnet')];
let dir = '';
let clip = '';
let common: string[] = [];

before(async () => {
  dir = await makeTempDir('rerender-translate-');
  clip = await makeClip(dir, { frames: 9, width: 64, height: 64, fps: { num: 25, den: 1 } });
  common = ['--provider', 'cpu', '--cache', path.join(dir, 'engine'), '--json'];
});
after(async () => removeDir(dir));

async function newProject(name: string, keyframes = '0,4,8'): Promise<string> {
  const proj = path.join(dir, name);
  assert.equal((await runCli(['init', clip, '-o', proj, '--size', '64'])).code, 0);
  assert.equal((await runCli(['keyframes', proj, '--set', keyframes])).code, 0);
  const p = Project.open(proj);
  p.updateSettings({ steps: 2 });
  p.close();
  return proj;
}

interface Translated {
  code: number;
  result: Record<string, unknown>;
  lines: Record<string, unknown>[];
  stderr: string;
}

/** No models folder or huggingface_hub cache of this machine's: only what a test names is found. */
const isolated = (): Record<string, string | undefined> => ({ ...process.env, HOME: path.join(dir, 'home'), HF_HOME: path.join(dir, 'hf'), RERENDER_MODELS_DIR: undefined, RERENDER_MODELS: undefined, RERENDER_MODEL_ROOTS: undefined, HF_HUB_CACHE: undefined });

async function translate(proj: string, ...args: string[]): Promise<Translated> {
  const r = await runCli(['translate', proj, ...common, ...args], { env: isolated() });
  const lines = jsonLines(r.stdout);
  return { code: r.code, result: lines.find((l) => l.type === 'result') ?? {}, lines, stderr: r.stderr };
}

function states(proj: string): string[] {
  const p = Project.open(proj);
  try {
    return p.listKeyframes(translationHashes(p)).map((k) => `${k.frame}:${k.state}`);
  } finally {
    p.close();
  }
}

test('translate stores every key frame, resumes, and redoes only what a change touches', async () => {
  const proj = await newProject('resume.rrproj');
  let r = await translate(proj, ...MODELS, '--prompt', 'a watercolor fox');
  assert.equal(r.code, 0, JSON.stringify(r.lines));
  assert.deepEqual(r.result.translated, [0, 4, 8]);
  assert.equal(r.result.provider, 'cpu');
  assert.ok((r.result.contextBytes as number) > 0, 'the peak context memory is reported');
  assert.equal(r.result.contextDeviceBytes, 0, 'on the CPU no context is in GPU memory');
  const progress = r.lines.filter((l) => l.type === 'progress');
  assert.ok(progress.length > 0 && progress.every((l) => l.stage === 'translate'));
  assert.equal(progress.at(-1)!.done, progress.at(-1)!.total);
  assert.deepEqual(states(proj), ['0:translated', '4:translated', '8:translated']);
  const p = Project.open(proj);
  assert.equal(p.settings().model, path.join(ENGINE, 'tiny-sd'), 'the model path is saved in the project');
  assert.equal(p.settings().prompt, 'a watercolor fox');
  p.close();
  const first = keyframeImages(proj);

  // Nothing changed: nothing is translated again.
  r = await translate(proj);
  assert.equal(r.code, 0);
  assert.deepEqual(r.result.translated, []);
  assert.deepEqual(r.result.upToDate, [0, 4, 8]);
  assert.equal(r.result.provider, null, 'the model is not even loaded');

  // A new prompt redoes every key frame.
  r = await translate(proj, '--prompt', 'an oil painting of a fox');
  assert.deepEqual(r.result.translated, [0, 4, 8]);
  const second = keyframeImages(proj);
  assert.notDeepEqual(second.get(0), first.get(0));

  // A middle key frame's own prompt redoes it and the key frames after it, not the anchor.
  const q = Project.open(proj);
  q.setKeyframePrompt(4, 'a pencil sketch of a fox');
  assert.deepEqual(q.listKeyframes(translationHashes(q)).map((k) => k.state), ['translated', 'stale', 'stale']);
  q.close();
  r = await translate(proj);
  assert.deepEqual(r.result.translated, [4, 8]);
  assert.deepEqual(r.result.upToDate, [0]);
  const third = keyframeImages(proj);
  assert.deepEqual(third.get(0), second.get(0));
  assert.notDeepEqual(third.get(4), second.get(4), 'the override prompt is what key frame 4 was made with');
  assert.deepEqual(states(proj), ['0:translated', '4:translated', '8:translated']);

  // --frames brings only the asked key frames (and what they depend on) up to date.
  const s = Project.open(proj);
  s.updateSettings({ seed: 7 });
  s.close();
  r = await translate(proj, '--frames', '4');
  assert.deepEqual(r.result.translated, [0, 4]);
  assert.deepEqual(states(proj), ['0:translated', '4:translated', '8:stale']);
  assert.equal((await translate(proj, '--frames', '5')).code, EXIT.input, 'frame 5 is not a key frame');
});

test('a precision change, in the project or on the command line, leaves translated key frames up to date', async () => {
  const proj = await newProject('precision.rrproj', '0,4');
  let r = await translate(proj, ...MODELS, '--prompt', 'a fox');
  assert.equal(r.code, 0, JSON.stringify(r.lines));
  assert.deepEqual(r.result.translated, [0, 4]);
  const p = Project.open(proj);
  assert.equal(p.settings().precision, 'auto', 'a new project computes in automatic precision');
  p.updateSettings({ precision: 'fp32' });
  p.close();
  assert.deepEqual(states(proj), ['0:translated', '4:translated']);
  r = await translate(proj, '--precision', 'fp16');
  assert.equal(r.code, 0, JSON.stringify(r.lines));
  assert.deepEqual([r.result.translated, r.result.upToDate], [[], [0, 4]]);
  const q = Project.open(proj);
  assert.equal(q.settings().precision, 'fp32', 'the flag is for this run; the project keeps its own choice');
  // Without the flag the project's precision reaches the pipeline; the flag overrides it.
  q.updateSettings({ precision: 'fp16', seed: 1 });
  q.close();
  r = await translate(proj);
  assert.deepEqual([r.result.translated, r.result.floatType], [[0, 4], 'float16']);
  const s = Project.open(proj);
  s.updateSettings({ seed: 2 });
  s.close();
  r = await translate(proj, '--precision', 'fp32');
  assert.deepEqual([r.result.translated, r.result.floatType], [[0, 4], 'float32']);
});

test('an artist-edited key frame is kept and guides the key frames after it', async () => {
  const proj = await newProject('edited.rrproj', '0,4');
  const edited = path.join(dir, 'edited.png');
  const rgb = new Uint8Array(64 * 64 * 3).fill(200);
  writeFileSync(edited, encodePng(rgb, 64, 64, 3));
  assert.equal((await runCli(['keyframe', proj, '--frame', '0', '--import', edited])).code, 0);
  let r = await translate(proj, ...MODELS, '--prompt', 'a fox');
  assert.equal(r.code, 0, JSON.stringify(r.lines));
  assert.deepEqual(r.result.translated, [4]);
  assert.deepEqual(r.result.kept, [0]);
  assert.deepEqual(toRgb(decodePng(keyframeImages(proj).get(0)!)), rgb, 'the edited image is untouched');
  // A new edit of the anchor makes key frame 4 stale: it was fused with the old one.
  rgb.fill(60);
  writeFileSync(edited, encodePng(rgb, 64, 64, 3));
  assert.equal((await runCli(['keyframe', proj, '--frame', '0', '--import', edited])).code, 0);
  assert.deepEqual(states(proj), ['0:edited', '4:stale']);
  r = await translate(proj);
  assert.deepEqual(r.result.translated, [4]);
});

test('no usable model: exit 4 with what is missing and how to get it', async () => {
  const proj = await newProject('nomodel.rrproj');
  let r = await translate(proj, '--prompt', 'a fox');
  assert.equal(r.code, EXIT.environment);
  const err = r.lines.find((l) => l.type === 'error')!;
  assert.equal(err.code, 'MODEL_MISSING');
  const msg = err.message as string;
  assert.match(msg, /Stable Diffusion 1\.5 model: not set/);
  assert.match(msg, /Canny ControlNet: not set/);
  assert.match(msg, /rerender translate <project> --model PATH --controlnet PATH/);
  assert.match(msg, /huggingface\.co\/stable-diffusion-v1-5/);
  assert.match(msg, /huggingface\.co\/lllyasviel\/control_v11p_sd15_canny/);

  const junk = path.join(dir, 'model.ckpt');
  writeFileSync(junk, 'not really a checkpoint');
  r = await translate(proj, '--model', junk, '--controlnet', path.join(ENGINE, 'tiny-sd'));
  assert.equal(r.code, EXIT.environment);
  const m2 = r.lines.find((l) => l.type === 'error')!.message as string;
  assert.match(m2, /model\.ckpt is not a weights file/);
  assert.match(m2, /tiny-sd holds a checkpoint, not a ControlNet/);
  assert.doesNotMatch(m2, /Stable Diffusion 1\.5 model: not set/);
});

test('an official config is mapped into the project and used', async () => {
  const proj = await newProject('official.rrproj');
  const base = await translate(proj, ...MODELS, '--prompt', 'a fox');
  const official = path.join(dir, 'official.json');
  writeFileSync(official, JSON.stringify({
    prompt: 'a fox', a_prompt: 'best quality', n_prompt: 'ugly', ddim_steps: 3, scale: 6, seed: 5, x0_strength: 0.9,
    control_type: 'canny', canny_low: 30, canny_high: 120, control_strength: 0.5, loose_cfattn: true,
    warp_period: [0, 0.2], mask_period: [0.4, 0.9], mask_strength: 0.6, inner_strength: 0.8, ada_period: [0.7, 1],
    style_update_freq: 2, interval: 4, color_preserve: false, key_subdir: 'keys',
  }));
  const r = await translate(proj, '--config', official);
  assert.equal(r.code, 0, JSON.stringify(r.lines));
  assert.deepEqual(r.result.translated, [0, 4, 8]);
  const warnings = r.lines.filter((l) => l.type === 'warning').map((l) => l.message as string);
  assert.ok(warnings.some((w) => /key_subdir/.test(w)), warnings.join('\n'));
  const p = Project.open(proj);
  const s = p.settings();
  p.close();
  assert.equal(s.prompt, 'a fox, best quality');
  assert.equal(s.negativePrompt, 'ugly');
  assert.deepEqual([s.steps, s.guidance, s.seed, s.strength], [3, 6, 5, 0.9]);
  assert.deepEqual(s.controlnet, { kind: 'canny', lowThreshold: 30, highThreshold: 120, scale: 0.5 });
  assert.equal(s.crossFrame.looseCrossFrame, true);
  assert.equal(s.crossFrame.styleUpdateFreq, 1, 'every 2 frames with key frames every 4 is every key frame');
  assert.deepEqual([s.crossFrame.warpPeriod, s.crossFrame.maskPeriod, s.crossFrame.adaPeriod], [[0, 0.2], [0.4, 0.9], [0.7, 1]]);
  assert.deepEqual([s.crossFrame.maskStrength, s.crossFrame.innerStrength, s.crossFrame.colorPreserve], [0.6, 0.8, false]);
  // Loose attention hooks fewer decoder layers; with 3 steps from x0_strength 0.9, the stores differ in size.
  assert.notEqual(r.result.contextBytes, base.result.contextBytes);
  assert.deepEqual(states(proj), ['0:translated', '4:translated', '8:translated']);
});

test('several ControlNets: --controlnet PATH:TYPE:SCALE repeated is saved in the project and used', async () => {
  const proj = await newProject('multi.rrproj', '0,8');
  const single = await translate(proj, ...MODELS, '--prompt', 'a fox');
  assert.equal(single.code, 0, JSON.stringify(single.lines));
  const before = keyframeImages(proj);
  const a = path.join(ENGINE, 'tiny-controlnet');
  const b = path.join(ENGINE, 'multi-controlnet', 'controlnet-b');
  const r = await translate(proj, '--controlnet', `${a}:canny`, '--controlnet', `${b}:canny:0.5`);
  assert.equal(r.code, 0, JSON.stringify(r.lines));
  assert.deepEqual(r.result.translated, [0, 8], 'another ControlNet list makes the key frames stale');
  const p = Project.open(proj);
  const s = p.settings();
  p.close();
  assert.equal(s.controlnetModel, a);
  assert.equal(s.controlnet.kind, 'canny');
  assert.deepEqual(s.extraControlnets, [{ path: b, kind: 'canny', scale: 0.5 }]);
  const after = keyframeImages(proj);
  for (const f of [0, 8]) assert.ok(!after.get(f)!.equals(before.get(f)!), `key frame ${f} differs with the second ControlNet`);
  assert.deepEqual(states(proj), ['0:translated', '8:translated']);

  const bad = await translate(proj, '--controlnet', `${a}:lineart`);
  assert.equal(bad.code, EXIT.usage);
  assert.match(bad.stderr + JSON.stringify(bad.lines), /no lineart map can be made of a key frame/);
});

test('an official config with control_type HED uses HED maps from the models folder; without its weights MODEL_MISSING names the file', async () => {
  const proj = await newProject('hed.rrproj', '0,8');
  const base = await translate(proj, ...MODELS, '--prompt', 'a fox');
  assert.equal(base.code, 0, JSON.stringify(base.lines));
  const canny = keyframeImages(proj);
  const official = path.join(dir, 'official-hed.json');
  writeFileSync(official, JSON.stringify({ prompt: 'a fox', control_type: 'HED' }));
  const models = path.join(dir, 'hed-models');
  mkdirSync(path.join(models, 'annotators'), { recursive: true });
  const env = { ...process.env, RERENDER_MODELS_DIR: models };
  const missing = await runCli(['translate', proj, ...common, '--config', official], { env });
  assert.equal(missing.code, EXIT.environment);
  const err = jsonLines(missing.stdout).find((l) => l.type === 'error')!;
  assert.equal(err.code, 'MODEL_MISSING');
  assert.ok((err.message as string).includes(path.join(models, 'annotators', 'ControlNetHED')), err.message as string);

  copyFileSync(path.join(ENGINE, 'annotators', 'hed-tiny.safetensors'), path.join(models, 'annotators', 'ControlNetHED.safetensors'));
  const r = await runCli(['translate', proj, ...common, '--config', official], { env });
  const lines = jsonLines(r.stdout);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(lines.find((l) => l.type === 'result')!.translated, [0, 8]);
  const warnings = lines.filter((l) => l.type === 'warning').map((l) => l.message as string);
  assert.ok(!warnings.some((w) => /control_type|Canny edges are used/.test(w)), warnings.join('\n'));
  const p = Project.open(proj);
  assert.equal(p.settings().controlnet.kind, 'hed');
  p.close();
  const hed = keyframeImages(proj);
  for (const f of [0, 8]) assert.ok(!hed.get(f)!.equals(canny.get(f)!), `key frame ${f} is made with the HED map`);
});

test('a painted mask keeps the source outside it', async () => {
  const proj = await newProject('mask.rrproj', '0,4');
  const mask = new Uint8Array(64 * 64);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 24; x++) mask[y * 64 + x] = 255;
  const p = Project.open(proj);
  p.setKeyframeMask(4, encodePng(mask, 64, 64, 1));
  p.close();
  const r = await translate(proj, ...MODELS, '--prompt', 'a fox');
  assert.equal(r.code, 0, JSON.stringify(r.lines));
  const q = Project.open(proj);
  const src = await openSource(q);
  const source = await new SourceFrames(src, await locateTools({ env: process.env })).get(4);
  q.close();
  const out = toRgb(decodePng(keyframeImages(proj).get(4)!));
  let inside = 0;
  let outside = 0;
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * 64 + x) * 3 + c;
        const d = Math.abs(out[i]! - source[i]!);
        if (x < 12) inside = Math.max(inside, d);
        if (x >= 40) outside = Math.max(outside, d);
      }
    }
  }
  assert.ok(outside <= 1, `outside the mask the source is kept (max difference ${outside})`);
  assert.ok(inside > 20, `inside the mask the frame is translated (max difference ${inside})`);
});

test('a cancelled translation keeps the key frames made so far and a rerun finishes the rest', async () => {
  const proj = await newProject('cancel.rrproj');
  const p = Project.open(proj);
  p.updateSettings({ model: path.join(ENGINE, 'tiny-sd'), controlnetModel: path.join(ENGINE, 'tiny-controlnet'), prompt: 'a fox' });
  const deps = { tools: await locateTools({ env: process.env }), provider: 'cpu' as const, cacheDir: path.join(dir, 'engine') };
  try {
    const controller = new AbortController();
    await assert.rejects(
      translateProject(p, {}, { ...deps, signal: controller.signal, onKeyframe: () => controller.abort() }),
      (e: Error) => e.name === 'AbortError',
    );
    assert.deepEqual(p.listKeyframes(translationHashes(p)).map((k) => k.state), ['translated', 'none', 'none']);
    const r = await translateProject(p, {}, deps);
    assert.deepEqual([r.translated, r.upToDate], [[4, 8], [0]]);
  } finally {
    p.close();
  }
});
