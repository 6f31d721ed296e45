// Models found where artists keep them: A1111/Forge and ComfyUI folders (the install or its
// models/), huggingface_hub caches and Rerender models folders, each model listed in place with
// its kind, control type, format and size; nothing is copied or moved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import {
  controlTypeOf, detectLayout, findModels, modelRoots, pickModel, resolveModelsDir, type ModelsEnv,
} from '../../../src-main/engine/weights/model-roots.ts';
import { FIXTURES } from './fixtures.ts';

let tmp = '';
const p = (...parts: string[]) => nodePath.join(tmp, ...parts);

function put(file: string, from?: string): void {
  fs.mkdirSync(nodePath.dirname(file), { recursive: true });
  if (from) fs.copyFileSync(nodePath.join(FIXTURES, from), file);
  else fs.writeFileSync(file, 'pickled bytes'); // a .pth/.ckpt: its kind comes from its folder or name
}

/** A safetensors file whose keys are no model we know (an LLM shard in a hub cache). */
function unrelatedSafetensors(file: string): void {
  const header = Buffer.from(JSON.stringify({ 'lm_head.weight': { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  fs.mkdirSync(nodePath.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([len, header, Buffer.alloc(4)]));
}

/** A huggingface_hub cache repo: blobs named by hash, snapshot links to them, refs/main. */
function hubRepo(hub: string, repo: string, files: Record<string, string | null>): void {
  const base = nodePath.join(hub, `models--${repo.split('/').join('--')}`);
  const snap = nodePath.join(base, 'snapshots', 'rev1');
  fs.mkdirSync(snap, { recursive: true });
  fs.mkdirSync(nodePath.join(base, 'blobs'), { recursive: true });
  fs.mkdirSync(nodePath.join(base, 'refs'), { recursive: true });
  fs.writeFileSync(nodePath.join(base, 'refs', 'main'), 'rev1');
  let i = 0;
  for (const [name, from] of Object.entries(files)) {
    const blob = nodePath.join(base, 'blobs', `${String(++i).padStart(64, '0')}`);
    if (from === null) fs.writeFileSync(blob, 'pickled bytes');
    else fs.copyFileSync(nodePath.join(FIXTURES, from), blob);
    fs.symlinkSync(nodePath.relative(snap, blob), nodePath.join(snap, name));
  }
}

before(() => {
  tmp = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'model-roots-'));
  // A1111/Forge WebUI
  put(p('webui', 'models', 'Stable-diffusion', 'sd15.safetensors'), 'tiny-sd.safetensors');
  put(p('webui', 'models', 'Stable-diffusion', 'misfiled-lora.safetensors'), 'lora-peft.safetensors');
  put(p('webui', 'models', 'ControlNet', 'control_v11p_sd15_canny.safetensors'), 'tiny-controlnet.safetensors');
  put(p('webui', 'models', 'ControlNet', 'control_v11f1p_sd15_depth.pth'));
  put(p('webui', 'models', 'Lora', 'characters', 'fox.safetensors'), 'lora-kohya.safetensors');
  put(p('webui', 'models', 'VAE', 'vae-ft-mse.safetensors'), 'tiny-vae-override.safetensors');
  put(p('webui', 'models', 'Stable-diffusion', 'half.safetensors.part'), 'tiny-sd.safetensors'); // unfinished: not a model
  // ComfyUI
  fs.cpSync(nodePath.join(FIXTURES, 'tiny-controlnet'), p('ComfyUI', 'models', 'controlnet', 'control_v11p_sd15_softedge'), { recursive: true });
  put(p('ComfyUI', 'models', 'checkpoints', 'comfy.safetensors'), 'tiny-sd.safetensors');
  put(p('ComfyUI', 'models', 'loras', 'style.safetensors'), 'lora-kohya-ldm-f16.safetensors');
  fs.mkdirSync(p('ComfyUI', 'models', 'vae'));
  // huggingface_hub cache
  hubRepo(p('hf', 'hub'), 'lllyasviel/control_v11p_sd15_canny', { 'config.json': 'tiny-controlnet/config.json', 'diffusion_pytorch_model.safetensors': 'tiny-controlnet/diffusion_pytorch_model.safetensors' });
  hubRepo(p('hf', 'hub'), 'lllyasviel/ControlNet-v1-1', { 'control_v11p_sd15_lineart.pth': null, 'control_v11p_sd15s2_lineart_anime.pth': null });
  hubRepo(p('hf', 'hub'), 'someone/an-llm', { 'model.safetensors': null });
  unrelatedSafetensors(p('hf', 'hub', 'models--someone--an-llm', 'blobs', '1'.padStart(64, '0')));
  fs.mkdirSync(p('empty'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const env = (extra: ModelsEnv = {}): ModelsEnv => ({ HOME: p('home'), HF_HOME: p('hf'), ...extra });

test('layouts: A1111/Forge and ComfyUI by their root or models/, hub caches by HF_HOME or hub/', () => {
  assert.equal(detectLayout(p('webui'))?.layout, 'a1111');
  assert.equal(detectLayout(p('webui', 'models'))?.layout, 'a1111');
  assert.equal(detectLayout(p('ComfyUI'))?.layout, 'comfyui');
  assert.equal(detectLayout(p('ComfyUI', 'models'))?.layout, 'comfyui');
  assert.deepEqual(detectLayout(p('hf')), { dir: p('hf', 'hub'), layout: 'hf-cache', kindDirs: [] });
  assert.equal(detectLayout(p('hf', 'hub'))?.layout, 'hf-cache');
  assert.equal(detectLayout(p('empty')), null);
});

test('every root is listed in place with kind, control type, format and size', () => {
  const before = fs.readdirSync(tmp, { recursive: true }).length;
  const roots = modelRoots(env({ RERENDER_MODEL_ROOTS: [p('ComfyUI'), ''].join(nodePath.delimiter) }), p('models'), [p('webui')]);
  assert.deepEqual(roots.map((r) => [r.dir, r.layout, r.origin]), [
    [p('models'), 'rerender', 'models-folder'],
    [p('webui'), 'a1111', 'flag'],
    [p('ComfyUI'), 'comfyui', 'env'],
    [p('hf', 'hub'), 'hf-cache', 'hf-default'],
  ]);
  const models = findModels(roots);
  assert.deepEqual(models.map((m) => [m.layout, m.kind, m.control, m.format, m.name]), [
    ['a1111', 'checkpoint', null, 'safetensors', 'sd15.safetensors'],
    ['a1111', 'controlnet', 'depth', 'pth', 'control_v11f1p_sd15_depth.pth'],
    ['a1111', 'controlnet', 'canny', 'safetensors', 'control_v11p_sd15_canny.safetensors'],
    ['a1111', 'lora', null, 'safetensors', 'characters/fox.safetensors'],
    ['a1111', 'lora', null, 'safetensors', 'misfiled-lora.safetensors'], // its keys say LoRA, whatever its folder
    ['a1111', 'vae', null, 'safetensors', 'vae-ft-mse.safetensors'],
    ['comfyui', 'checkpoint', null, 'safetensors', 'comfy.safetensors'],
    ['comfyui', 'controlnet', 'softedge', 'diffusers', 'control_v11p_sd15_softedge'],
    ['comfyui', 'lora', null, 'safetensors', 'style.safetensors'],
    ['hf-cache', 'controlnet', 'canny', 'diffusers', 'lllyasviel/control_v11p_sd15_canny'],
    ['hf-cache', 'controlnet', 'lineart', 'pth', 'lllyasviel/ControlNet-v1-1/control_v11p_sd15_lineart.pth'],
    ['hf-cache', 'controlnet', 'lineart_anime', 'pth', 'lllyasviel/ControlNet-v1-1/control_v11p_sd15s2_lineart_anime.pth'],
  ]);
  const sd = models[0]!;
  assert.equal(sd.path, p('webui', 'models', 'Stable-diffusion', 'sd15.safetensors'));
  assert.equal(sd.sizeBytes, fs.statSync(nodePath.join(FIXTURES, 'tiny-sd.safetensors')).size);
  assert.equal(models[9]!.sizeBytes, fs.statSync(nodePath.join(FIXTURES, 'tiny-controlnet', 'diffusion_pytorch_model.safetensors')).size + fs.statSync(nodePath.join(FIXTURES, 'tiny-controlnet', 'config.json')).size);
  // Referenced, never copied: no models folder appeared and nothing was added anywhere.
  assert.equal(fs.existsSync(p('models')), false);
  assert.equal(fs.readdirSync(tmp, { recursive: true }).length, before);
});

test('the default pick follows root order and prefers safetensors to pickles; one folder given twice is read once', () => {
  const models = findModels(modelRoots(env(), p('models'), [p('ComfyUI', 'models'), p('webui'), p('ComfyUI')]));
  assert.equal(pickModel(models, 'checkpoint')?.name, 'comfy.safetensors');
  assert.equal(pickModel(models, 'controlnet', (m) => m.control === 'canny')?.layout, 'a1111');
  assert.equal(pickModel(models, 'controlnet', (m) => m.control === 'lineart')?.format, 'pth');
  assert.equal(models.filter((m) => m.name === 'comfy.safetensors').length, 1);
});

test('a --models-from folder that is missing or unrecognised is an error; a stale RERENDER_MODEL_ROOTS entry a warning', () => {
  assert.throws(() => modelRoots(env(), p('models'), [p('nope')]), (e: { code?: string; message: string }) => e.code === 'FILE_NOT_FOUND' && /--models-from .*nope: no such folder/.test(e.message));
  assert.throws(() => modelRoots(env(), p('models'), [p('empty')]), (e: { code?: string; message: string }) => e.code === 'INVALID_ARGUMENT' && /A1111\/Forge or ComfyUI/.test(e.message));
  const warned: string[] = [];
  const roots = modelRoots(env({ RERENDER_MODEL_ROOTS: [p('nope'), p('empty')].join(nodePath.delimiter) }), p('models'), [], (m) => warned.push(m));
  assert.equal(roots.length, 2); // the models folder and the hub cache
  assert.equal(warned.length, 2);
  assert.match(warned[0]!, /nope: no such folder; skipped/);
});

test('the one models folder: flag, RERENDER_MODELS_DIR, the old RERENDER_MODELS with a warning, the default', () => {
  const warned: string[] = [];
  const w = (m: string) => warned.push(m);
  assert.equal(resolveModelsDir({ HOME: '/h' }, { warn: w }), nodePath.resolve('/h/.rerender-studio/models'));
  assert.equal(resolveModelsDir({ HOME: '/h', RERENDER_MODELS_DIR: '/new' }, { warn: w }), nodePath.resolve('/new'));
  assert.deepEqual(warned, []);
  assert.equal(resolveModelsDir({ HOME: '/h', RERENDER_MODELS: '/old' }, { warn: w }), nodePath.resolve('/old'));
  assert.equal(warned.length, 1);
  assert.equal(resolveModelsDir({ RERENDER_MODELS: '/old', RERENDER_MODELS_DIR: '/new' }, { flag: 'rel', cwd: '/c', warn: w }), nodePath.resolve('/c/rel'));
});

test('control types from names', () => {
  const cases: [string, string | null][] = [
    ['control_v11p_sd15_canny', 'canny'], ['control_sd15_hed.pth', 'hed'], ['control_v11p_sd15_softedge', 'softedge'],
    ['control_v11f1p_sd15_depth', 'depth'], ['diffusers_xl_depth_full', 'depth'], ['control_v11p_sd15_lineart', 'lineart'],
    ['control_v11p_sd15s2_lineart_anime', 'lineart_anime'], ['control_v11p_sd15_normalbae', 'normal'], ['t2iadapter_openpose', 'openpose'],
    ['control_v11p_sd15_seg', 'seg'], ['my-controlnet', null], ['segmented_scannydog', null],
  ];
  for (const [name, want] of cases) assert.equal(controlTypeOf(name), want, name);
});
