// One models folder for every command: what `models import` puts in it, `models list` shows and
// `txt2img` without --model uses (the tiny fixture model on the CPU, 64×64, one step). The old
// RERENDER_MODELS is still honoured, with a warning.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { EXIT } from '../../src-main/cli/exit-codes.ts';
import { jsonLines, runCli } from './run-cli.ts';

const ENGINE = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
let dir = '';
// Nothing from the user's own folders: HOME, the hub cache and the graph cache are all temporary.
const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH, HOME: dir, HF_HOME: path.join(dir, 'hf'), RERENDER_CACHE: path.join(dir, 'cache'), ...extra });
const result = (stdout: string) => jsonLines(stdout).find((l) => l.type === 'result') as Record<string, unknown>;
const warnings = (stdout: string) => jsonLines(stdout).filter((l) => l.type === 'warning').map((l) => l.message as string);

before(async () => {
  dir = await makeTempDir('rerender-one-folder-');
});
after(async () => removeDir(dir));

test('import, list, then txt2img without --model finds the imported model', async () => {
  const folder = path.join(dir, '.rerender-studio', 'models');
  let r = await runCli(['models', 'import', path.join(ENGINE, 'tiny-sd'), '--json'], { env: env(), cwd: dir });
  assert.equal(r.code, EXIT.ok, r.stdout + r.stderr);
  assert.equal(result(r.stdout).path, path.join(folder, 'checkpoints', 'tiny-sd'));

  r = await runCli(['models', 'list', '--json'], { env: env(), cwd: dir });
  assert.equal(r.code, EXIT.ok, r.stdout + r.stderr);
  const listed = result(r.stdout) as { dir: string; models: { kind: string; name: string; format: string; origin: string }[] };
  assert.equal(listed.dir, folder);
  assert.deepEqual(listed.models.map((m) => [m.kind, m.name, m.format, m.origin]), [['checkpoint', 'tiny-sd', 'diffusers', 'models-folder']]);

  r = await runCli(['txt2img', '--prompt', 'a fox', '-o', 'out.png', '--provider', 'cpu', '--width', '64', '--height', '64', '--steps', '1'], { env: env(), cwd: dir });
  assert.equal(r.code, EXIT.ok, r.stdout + r.stderr);
  assert.match(r.stderr, /^tiny-sd on cpu/m, 'the imported model is the one used');
  assert.ok(fs.statSync(path.join(dir, 'out.png')).size > 0);
});

test('RERENDER_MODELS_DIR moves the one folder for every command; the old RERENDER_MODELS still works, with a warning', async () => {
  const moved = path.join(dir, 'moved');
  let r = await runCli(['models', 'import', path.join(ENGINE, 'tiny-controlnet'), '--json'], { env: env({ RERENDER_MODELS_DIR: moved }), cwd: dir });
  assert.equal(r.code, EXIT.ok, r.stdout);
  assert.ok(fs.existsSync(path.join(moved, 'controlnet', 'tiny-controlnet')));
  assert.deepEqual(warnings(r.stdout), []);

  r = await runCli(['models', 'list', '--json'], { env: env({ RERENDER_MODELS: moved }), cwd: dir });
  assert.equal(r.code, EXIT.ok);
  assert.equal(result(r.stdout).dir, moved);
  assert.deepEqual(warnings(r.stdout).length, 1);
  assert.match(warnings(r.stdout)[0]!, /RERENDER_MODELS is deprecated: rename it to RERENDER_MODELS_DIR/);

  // Both set: the new name wins and the old one is called out.
  r = await runCli(['models', 'list', '--json'], { env: env({ RERENDER_MODELS: path.join(dir, 'old'), RERENDER_MODELS_DIR: moved }), cwd: dir });
  assert.equal(result(r.stdout).dir, moved);
  assert.match(warnings(r.stdout)[0]!, /ignored because RERENDER_MODELS_DIR is set/);

  // With nothing anywhere, txt2img says how to get a model (exit 4) and names the folder.
  r = await runCli(['txt2img', '--prompt', 'p', '-o', 'x.png'], { env: env({ RERENDER_MODELS_DIR: path.join(dir, 'empty') }), cwd: dir });
  assert.equal(r.code, EXIT.environment);
  assert.match(r.stderr, /no Stable Diffusion model found[\s\S]*rerender models import FILE \(it goes to .*empty.checkpoints\)[\s\S]*--models-from DIR/);
});

test('models list --models-from shows each model where it was found, its kind, control type, format and size', async () => {
  const webui = path.join(dir, 'stable-diffusion-webui');
  fs.mkdirSync(path.join(webui, 'models', 'ControlNet'), { recursive: true });
  fs.mkdirSync(path.join(webui, 'models', 'Stable-diffusion'), { recursive: true });
  fs.copyFileSync(path.join(ENGINE, 'tiny-controlnet.safetensors'), path.join(webui, 'models', 'ControlNet', 'control_v11p_sd15_canny.safetensors'));
  fs.copyFileSync(path.join(ENGINE, 'tiny-sd.safetensors'), path.join(webui, 'models', 'Stable-diffusion', 'dreamy.safetensors'));
  const empty = env({ RERENDER_MODELS_DIR: path.join(dir, 'empty') });
  let r = await runCli(['models', 'list', '--models-from', 'stable-diffusion-webui'], { env: empty, cwd: dir });
  assert.equal(r.code, EXIT.ok, r.stderr);
  assert.equal(r.stdout, [
    `${path.join(dir, 'empty')}  [Rerender models folder, the models folder]`,
    '  (empty: rerender models import <file>, or rerender models download)',
    `${webui}  [A1111/Forge WebUI, --models-from]`,
    '  checkpoint             safetensors    3.8 MB  dreamy.safetensors',
    '  controlnet (canny)     safetensors    1.2 MB  control_v11p_sd15_canny.safetensors',
    '',
  ].join('\n'));

  r = await runCli(['models', 'list', '--models-from', 'nowhere', '--json'], { env: empty, cwd: dir });
  assert.equal(r.code, EXIT.input);
  assert.match(jsonLines(r.stdout).find((l) => l.type === 'error')!.message as string, /--models-from .*nowhere: no such folder/);
});
