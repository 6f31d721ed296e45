// `rerender txt2img` / `img2img` end to end on the tiny fixture models (CPU).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { img2imgCommand, txt2imgCommand } from '../../../src-main/cli/commands/generate.ts';
import { main } from '../../../src-main/cli/main.ts';
import type { Command } from '../../../src-main/cli/command.ts';
import { createOutput } from '../../../src-main/cli/output.ts';
import { errorCode, exitCodeFor } from '../../../src-main/cli/errors.ts';
import { EXIT } from '../../../src-main/cli/exit-codes.ts';
import { decodePng, encodePng } from '../../../src-main/media/png.ts';
import { FIXTURES } from '../io/fixtures.ts';

let dir: string;
let env: Record<string, string>;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'generate-cli-'));
  // Empty models folder and HF cache: nothing is found unless --model is given.
  env = { HOME: dir, RERENDER_MODELS_DIR: join(dir, 'models'), HF_HOME: join(dir, 'hf'), RERENDER_CACHE: join(dir, 'cache') };
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  exit: number;
  code: string | null;
  message: string;
  lines: Record<string, unknown>[];
}

async function run(cmd: Command, argv: string[]): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdout.on('data', (c: Buffer) => (text += c.toString()));
  const out = createOutput({ stdout, stderr }, true);
  let exit: number = EXIT.ok;
  let code: string | null = null;
  let message = '';
  try {
    await cmd.run({ out, signal: new AbortController().signal, env, cwd: dir }, argv);
  } catch (e) {
    exit = exitCodeFor(e);
    code = errorCode(e);
    message = e instanceof Error ? e.message : String(e);
  }
  return { exit, code, message, lines: text.split('\n').filter((l) => l).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const MODEL = ['--model', join(FIXTURES, 'tiny-sd'), '--provider', 'cpu', '--width', '64', '--height', '64', '--steps', '3'];

function png(file: string): { width: number; height: number; data: Uint8Array } {
  return decodePng(readFileSync(join(dir, file)));
}

test('txt2img writes a PNG of the asked size; a seed repeats exactly, two seeds differ', async () => {
  const a = await run(txt2imgCommand, [...MODEL, '--prompt', 'a fox in the snow', '--negative', 'blurry', '--seed', '1', '-o', 'a.png']);
  assert.equal(a.exit, EXIT.ok, a.message);
  const progress = a.lines.filter((l) => l['type'] === 'progress');
  assert.deepEqual(progress.map((p) => p['done']), [1, 2, 3]);
  assert.equal(progress[0]!['total'], 3);
  assert.equal(a.lines.find((l) => l['type'] === 'result')!['provider'], 'cpu');
  await run(txt2imgCommand, [...MODEL, '--prompt', 'a fox in the snow', '--negative', 'blurry', '--seed', '1', '-o', 'b.png']);
  await run(txt2imgCommand, [...MODEL, '--prompt', 'a fox in the snow', '--negative', 'blurry', '--seed', '2', '-o', 'c.png']);
  const [ia, ib, ic] = [png('a.png'), png('b.png'), png('c.png')];
  assert.deepEqual([ia.width, ia.height], [64, 64]);
  assert.deepEqual(ia.data, ib.data);
  assert.notDeepEqual(ia.data, ic.data);
});

test('img2img with ControlNet, Canny control, LoRA and VAE override', async () => {
  const rgb = new Uint8Array(96 * 80 * 3);
  for (let y = 20; y < 60; y++) for (let x = 30; x < 70; x++) rgb.fill(220, (y * 96 + x) * 3, (y * 96 + x) * 3 + 3);
  writeFileSync(join(dir, 'in.png'), encodePng(rgb, 96, 80, 3));
  const r = await run(img2imgCommand, [
    '--model', join(FIXTURES, 'tiny-sd'), '--provider', 'cpu', '--steps', '4', '--strength', '0.5',
    '--image', 'in.png', '--prompt', 'a watercolor', '--controlnet', join(FIXTURES, 'tiny-controlnet'),
    '--control', 'in.png', '--canny', '50,150', '--control-scale', '0.8',
    '--lora', `${join(FIXTURES, 'lora-kohya.safetensors')}:0.7`, '--vae', join(FIXTURES, 'tiny-vae-override.safetensors'),
    '-o', 'out.png',
  ]);
  assert.equal(r.exit, EXIT.ok, r.message);
  const out = png('out.png');
  // 96×80 rounds down to 64×64; strength 0.5 of 4 steps runs 2.
  assert.deepEqual([out.width, out.height], [64, 64]);
  assert.equal(r.lines.find((l) => l['type'] === 'result')!['steps'], 2);
});

test('no model: MODEL_MISSING saying where to get one', async () => {
  const r = await run(txt2imgCommand, ['--prompt', 'x', '-o', 'x.png', '--provider', 'cpu']);
  assert.equal(r.code, 'MODEL_MISSING');
  assert.equal(r.exit, EXIT.environment);
  assert.match(r.message, /--model/);
  assert.match(r.message, /models.checkpoints/);
  assert.match(r.message, /huggingface\.co/);
});

test('command-line mistakes are usage errors', async () => {
  for (const argv of [
    ['--prompt', 'x'],
    ['-o', 'x.png'],
    [...MODEL, '--prompt', 'x', '-o', 'x.png', '--width', '100'],
    [...MODEL, '--prompt', 'x', '-o', 'x.png', '--canny', '200,100', '--control', 'c.png', '--controlnet', 'cn'],
    [...MODEL, '--prompt', 'x', '-o', 'x.png', '--provider', 'tpu'],
    [...MODEL, '--prompt', 'x', '-o', 'x.png', '--controlnet', 'cn'],
  ]) {
    const r = await run(txt2imgCommand, argv);
    assert.equal(r.code, 'USAGE', argv.join(' '));
  }
  const missing = await run(img2imgCommand, [...MODEL, '--prompt', 'x', '-o', 'x.png', '--image', 'nope.png']);
  assert.equal(missing.code, 'FILE_NOT_FOUND');
  assert.equal((await run(img2imgCommand, [...MODEL, '--prompt', 'x', '-o', 'x.png'])).code, 'USAGE');
});

/** Through main(), as the `rerender` binary runs it: the exit code and the JSON lines. */
async function viaMain(argv: string[]): Promise<{ exit: number; lines: Record<string, unknown>[] }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdout.on('data', (c: Buffer) => (text += c.toString()));
  stderr.on('data', (c: Buffer) => (text += c.toString()));
  const exit = await main(['--json', ...argv], { streams: { stdout, stderr }, env, cwd: dir, signal: new AbortController().signal });
  return { exit, lines: text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const CN_A = join(FIXTURES, 'tiny-controlnet');
const CN_B = join(FIXTURES, 'multi-controlnet', 'controlnet-b');
const TWO_STEPS = ['txt2img', '--model', join(FIXTURES, 'tiny-sd'), '--provider', 'cpu', '--width', '64', '--height', '64', '--steps', '2', '--prompt', 'a fox', '--seed', '3'];

test('several ControlNets: each its own TYPE, SCALE and picture; a zero scale adds nothing', async () => {
  const a = new Uint8Array(64 * 64 * 3);
  const b = new Uint8Array(64 * 64 * 3);
  for (let i = 0; i < 64 * 64; i++) {
    const x = i % 64;
    const y = Math.floor(i / 64);
    a.fill(x > 20 && x < 44 && y > 20 && y < 44 ? 230 : 10, i * 3, i * 3 + 3);
    b.fill(x % 8 < 2 ? 255 : 0, i * 3, i * 3 + 3);
  }
  writeFileSync(join(dir, 'ca.png'), encodePng(a, 64, 64, 3));
  writeFileSync(join(dir, 'cb.png'), encodePng(b, 64, 64, 3));
  const two = await viaMain([...TWO_STEPS, '--controlnet', `${CN_A}:canny:0.7`, '--controlnet', `${CN_B}:raw:1.3`, '--control', 'ca.png', '--control', 'cb.png', '--canny', '50,150', '-o', 'two.png']);
  assert.equal(two.exit, EXIT.ok, JSON.stringify(two.lines));
  const result = two.lines.find((l) => l['type'] === 'result')!;
  assert.deepEqual(result['controlnets'], [{ path: CN_A, type: 'canny', scale: 0.7 }, { path: CN_B, type: 'raw', scale: 1.3 }]);
  // The first alone, and the pair with the second at scale 0 (its residuals times 0): the same picture.
  const one = await viaMain([...TWO_STEPS, '--controlnet', `${CN_A}:canny:0.7`, '--control', 'ca.png', '--canny', '50,150', '-o', 'one.png']);
  assert.equal(one.exit, EXIT.ok);
  const zero = await viaMain([...TWO_STEPS, '--controlnet', `${CN_A}:canny:0.7`, '--controlnet', `${CN_B}:raw:0`, '--control', 'ca.png', '--control', 'cb.png', '--canny', '50,150', '-o', 'zero.png']);
  assert.equal(zero.exit, EXIT.ok);
  assert.deepEqual(png('zero.png').data, png('one.png').data);
  assert.notDeepEqual(png('two.png').data, png('one.png').data);
  // One --control for both: each ControlNet preprocesses the same picture its own way.
  const shared = await viaMain([...TWO_STEPS, '--controlnet', CN_A, '--controlnet', `${CN_B}:raw`, '--control', 'ca.png', '--control-scale', '0.5', '-o', 'shared.png']);
  assert.equal(shared.exit, EXIT.ok, JSON.stringify(shared.lines));
  assert.deepEqual(shared.lines.find((l) => l['type'] === 'result')!['controlnets'], [{ path: CN_A, type: 'canny', scale: 0.5 }, { path: CN_B, type: 'raw', scale: 0.5 }]);
});

test('--controlnet mistakes are usage errors (exit 2); a missing annotator is MODEL_MISSING', async () => {
  for (const [flags, message] of [
    [['--controlnet', `${CN_A}-x:pose`, '--control', 'ca.png'], /TYPE must be one of canny, hed, softedge, depth, lineart, scribble, raw, got 'pose'/],
    [['--controlnet', `${CN_A}-x:pose:0.5`, '--control', 'ca.png'], /got 'pose'/],
    [['--controlnet', `${CN_A}-x:canny:abc`, '--control', 'ca.png'], /SCALE must be a number in \[0, 10\], got 'abc'/],
    [['--controlnet', `${CN_A}-x:canny:11`, '--control', 'ca.png'], /SCALE must be a number/],
    [['--controlnet', `${CN_A}-x:canny:-1`, '--control', 'ca.png'], /SCALE must be a number/],
    [['--controlnet', `${CN_A}-x:0.5`, '--control', 'ca.png'], /PATH:TYPE:SCALE/],
    [['--controlnet', CN_A, '--controlnet', CN_B, '--control', 'ca.png', '--control', 'ca.png', '--control', 'ca.png'], /--control is given 3 times for 2 --controlnet/],
    [['--controlnet', `${CN_B}:raw`, '--control', 'ca.png', '--canny', '50,150'], /none is one/],
    [['--controlnet', join(dir, 'control_v11p_sd15_openpose.safetensors'), '--control', 'ca.png'], /openpose ControlNet/],
  ] as const) {
    const r = await viaMain([...TWO_STEPS, ...flags, '-o', 'bad.png']);
    assert.equal(r.exit, EXIT.usage, flags.join(' '));
    const err = r.lines.find((l) => l['type'] === 'error')!;
    assert.equal(err['code'], 'USAGE');
    assert.match(String(err['message']), message);
  }
  writeFileSync(join(dir, 'grey.png'), encodePng(new Uint8Array(64 * 64 * 3).fill(128), 64, 64, 3));
  const hed = await viaMain([...TWO_STEPS, '--controlnet', `${CN_A}:hed`, '--control', 'grey.png', '-o', 'hed.png']);
  assert.equal(hed.exit, EXIT.environment);
  assert.match(String(hed.lines.find((l) => l['type'] === 'error')!['message']), /ControlNetHED/);
});
