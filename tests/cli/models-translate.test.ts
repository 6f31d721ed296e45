// `rerender translate` / `run` on a project with no model set use what `rerender models list`
// finds (the models folder first, then --models-from…), the ControlNet named for the control type;
// what the project or the command line sets is kept. (The lookup alone: no engine runs here.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import type { CliContext } from '../../src-main/cli/command.ts';
import { foundModelsPatch } from '../../src-main/cli/commands/translate.ts';

const ENGINE = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
let dir = '';
const said: string[] = [];

function ctx(): CliContext {
  const out = { info: (m: string) => said.push(m), warn: (m: string) => said.push(`warning: ${m}`) } as unknown as CliContext['out'];
  return { out, signal: new AbortController().signal, cwd: dir, env: { HOME: dir, HF_HOME: path.join(dir, 'hf'), RERENDER_MODELS_DIR: path.join(dir, 'models') } };
}

before(async () => {
  dir = await makeTempDir('rerender-models-translate-');
  fs.cpSync(path.join(ENGINE, 'tiny-sd'), path.join(dir, 'models', 'checkpoints', 'tiny-sd'), { recursive: true });
  // ControlNets named as artists get them, in a ComfyUI folder.
  const cn = path.join(dir, 'ComfyUI', 'models', 'controlnet');
  for (const name of ['control_v11f1p_sd15_depth', 'control_v11p_sd15_canny', 'control_v11p_sd15_softedge']) fs.cpSync(path.join(ENGINE, 'tiny-controlnet'), path.join(cn, name), { recursive: true });
  fs.mkdirSync(path.join(dir, 'ComfyUI', 'models', 'loras'));
});
after(async () => removeDir(dir));

const none = { model: null, controlnetModel: null };

test('a project without models gets the checkpoint and the canny ControlNet found first', () => {
  said.length = 0;
  const patch = foundModelsPatch(ctx(), { 'models-from': ['ComfyUI'] }, none);
  assert.deepEqual(patch, {
    model: path.join(dir, 'models', 'checkpoints', 'tiny-sd'),
    controlnetModel: path.join(dir, 'ComfyUI', 'models', 'controlnet', 'control_v11p_sd15_canny'),
  });
  assert.deepEqual(said, [
    `using checkpoint ${patch.model} (found in ${path.join(dir, 'models')})`,
    `using controlnet ${patch.controlnetModel} (found in ${path.join(dir, 'ComfyUI')})`,
  ]);
});

test('an official config asking for HED gets a HED/softedge ControlNet', () => {
  const patch = foundModelsPatch(ctx(), { 'models-from': ['ComfyUI'] }, none, { control_type: 'HED' });
  assert.equal(patch.controlnetModel, path.join(dir, 'ComfyUI', 'models', 'controlnet', 'control_v11p_sd15_softedge'));
});

test('what the project or the command line sets is kept; nothing found is nothing set', () => {
  assert.deepEqual(foundModelsPatch(ctx(), { model: 'm.safetensors', 'models-from': ['ComfyUI'] }, { model: null, controlnetModel: '/cn' }), {});
  assert.deepEqual(foundModelsPatch(ctx(), {}, { model: '/m', controlnetModel: null }), {}, 'no ControlNet in the models folder alone');
});
