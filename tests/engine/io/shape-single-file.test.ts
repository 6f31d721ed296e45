// Single-file checkpoints whose shapes are not SD 1.5's: what the tensors determine is read
// from them, every tensor is checked against the config before anything compiles, and
// --config supplies what they cannot tell (heads, norm groups).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/run-cli.ts';
import { loadStableDiffusion } from '../../../src-main/engine/weights/checkpoint.ts';
import type { TensorMap } from '../../../src-main/engine/weights/checkpoint.ts';
import { inferTextConfig, inferUnetConfig, inferVaeConfig } from '../../../src-main/engine/pipeline/sd15-configs.ts';
import { resolveModelFiles } from '../../../src-main/engine/pipeline/model-files.ts';
import { clipTextConfig, controlNetConfig, unetConfig, vaeConfig } from '../../../src-main/engine/graph/model-config.ts';
import { expectedShapes } from '../../../src-main/engine/pipeline/model-shapes.ts';
import type { Component } from '../../../src-main/engine/pipeline/model-shapes.ts';
import { readSafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import { FIXTURES } from './fixtures.ts';
import { decodePng } from '../../../src-main/media/png.ts';
import { ODD_MODEL, writeSingleFile } from './shape-fixture.ts';
import type { SingleFileSpec } from './shape-fixture.ts';

let dir: string;
let env: Record<string, string>;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'shape-'));
  env = { HOME: dir, RERENDER_MODELS_DIR: join(dir, 'models'), HF_HOME: join(dir, 'hf'), RERENDER_CACHE: join(dir, 'cache') };
});
after(() => rmSync(dir, { recursive: true, force: true }));

const shapeOf = (m: TensorMap) => (name: string) => m.get(name)?.shape;
const pick = (cfg: Record<string, unknown>, keys: string[]): Record<string, unknown> => Object.fromEntries(keys.map((k) => [k, cfg[k]]));

function model(name: string, spec: SingleFileSpec): string {
  const p = join(dir, name);
  writeSingleFile(p, spec);
  return p;
}

const txt2img = (file: string, out: string, extra: string[] = []): ReturnType<typeof runCli> => runCli(
  ['txt2img', '--model', file, '--provider', 'cpu', '--precision', 'fp32', '--width', '64', '--height', '64', '--steps', '1', '--prompt', 'a fox', '-o', out, ...extra],
  { cwd: dir, env },
);

test('the shapes a config implies are exactly the tensors diffusers wrote for it (tiny fixtures)', () => {
  const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, p), 'utf8')) as Record<string, unknown>;
  const cases: [string, Component][] = [
    ['tiny-sd/unet/diffusion_pytorch_model.safetensors', { kind: 'unet', cfg: unetConfig(json('tiny-sd/unet/config.json')) }],
    ['tiny-sd/vae/diffusion_pytorch_model.safetensors', { kind: 'vae', cfg: vaeConfig(json('tiny-sd/vae/config.json')) }],
    ['tiny-sd/text_encoder/model.safetensors', { kind: 'text', cfg: clipTextConfig(json('tiny-sd/text_encoder/config.json')) }],
    ['tiny-controlnet/diffusion_pytorch_model.safetensors', { kind: 'controlnet', cfg: controlNetConfig(json('tiny-controlnet/config.json')) }],
  ];
  for (const [file, c] of cases) {
    const have = [...readSafetensorsHeader(join(FIXTURES, file)).tensors].filter(([k]) => !k.endsWith('position_ids')).map(([k, v]): [string, number[]] => [k, [...v.shape]]);
    const names = new Set(have.map(([k]) => k));
    // biases the graphs take when present (SD's attention q/k/v have none)
    const want = [...expectedShapes(c)].filter(([k, v]) => !v.optional || names.has(k)).map(([k, v]): [string, number[]] => [k, v.shape]);
    assert.deepEqual(new Map(want.sort()), new Map(have.sort()), file);
  }
});

test('channels, depths, projection and text encoder size are read from a non-SD 1.5 single file', () => {
  const w = loadStableDiffusion(model('odd.safetensors', ODD_MODEL));
  const u = inferUnetConfig(shapeOf(w.unet));
  const keys = ['block_out_channels', 'layers_per_block', 'down_block_types', 'up_block_types', 'cross_attention_dim', 'use_linear_projection'];
  assert.deepEqual(pick(u, keys), pick(ODD_MODEL.unet, keys));
  assert.equal(u['attention_head_dim'], 8, 'heads: SD 1.x rule');
  assert.equal(u['time_embedding_dim'], undefined, '4 × 32 is the default width');
  assert.deepEqual(pick(inferVaeConfig(shapeOf(w.vae)), ['block_out_channels', 'layers_per_block', 'latent_channels']), ODD_MODEL.vae);
  const t = inferTextConfig(shapeOf(w.textEncoder));
  assert.deepEqual(pick(t, Object.keys(ODD_MODEL.text)), ODD_MODEL.text);
});

test('1024-wide text contexts (SD 2.x) mean 64-wide heads; deeper transformers are refused by name', () => {
  const shapes = new Map<string, number[]>([
    ['down_blocks.0.resnets.0.conv1.weight', [320, 320, 3, 3]],
    ['down_blocks.1.resnets.0.conv1.weight', [640, 320, 3, 3]],
    ['down_blocks.0.attentions.0.proj_in.weight', [320, 320]],
    ['down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight', [320, 320]],
    ['down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight', [320, 1024]],
  ]);
  const cfg = inferUnetConfig((n) => shapes.get(n));
  assert.deepEqual(cfg['attention_head_dim'], [5, 10]);
  assert.equal(cfg['use_linear_projection'], true);
  assert.deepEqual(unetConfig(cfg).heads, [5, 10]);
  shapes.set('down_blocks.0.attentions.0.transformer_blocks.1.attn1.to_q.weight', [320, 320]);
  assert.throws(() => unetConfig(inferUnetConfig((n) => shapes.get(n))), /transformer_layers_per_block \[2,1\] is not supported/);
});

test('a non-SD 1.5 single file runs txt2img on the CPU; --config with other heads changes the result', async () => {
  const file = model('odd-run.safetensors', ODD_MODEL);
  const a = await txt2img(file, 'a.png');
  assert.equal(a.code, 0, a.stderr);
  const imgA = decodePng(readFileSync(join(dir, 'a.png')));
  assert.equal(imgA.width, 64);
  // SD 2.x style: 32-wide heads instead of 8 heads per block (4-/8-wide); a lone UNet config.json.
  writeFileSync(join(dir, 'heads.json'), JSON.stringify({ _class_name: 'UNet2DConditionModel', attention_head_dim: [1, 2], use_linear_projection: true }));
  assert.deepEqual(unetConfig(resolveModelFiles({ model: file, configFrom: join(dir, 'heads.json') }).unet.config).heads, [1, 2]);
  const b = await txt2img(file, 'b.png', ['--config', 'heads.json']);
  assert.equal(b.code, 0, b.stderr);
  const imgB = decodePng(readFileSync(join(dir, 'b.png')));
  // (a seed repeats exactly: generate-cli.test.ts) so the difference is the heads'
  assert.notDeepEqual(imgB.data, imgA.data, 'other heads, other attention, other image');
});

test('one tensor of the wrong shape: exit 3 before anything compiles, naming the tensor and both shapes', async () => {
  const key = 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_k.weight';
  const file = model('bad.safetensors', { ...ODD_MODEL, reshape: { key, shape: [32, 16] } });
  const r = await txt2img(file, 'bad.png', ['--cache', 'cache-bad']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`UNet tensor ${key.replace(/\./g, '\\.')} \\(down_blocks\\.0\\.attentions\\.0\\.transformer_blocks\\.0\\.attn1\\.to_k\\.weight\\) has shape \\[32, 16\\], expected \\[32, 32\\]`));
  assert.doesNotMatch(r.stderr, /onnx|Reshape/i);
  const cache = join(dir, 'cache-bad');
  assert.ok(!existsSync(cache) || readdirSync(cache).length === 0, 'nothing compiled');
});

test('norm groups the file cannot tell: refused with a pointer to --config, which fixes it', () => {
  const spec: SingleFileSpec = { ...ODD_MODEL, unet: { ...ODD_MODEL.unet, block_out_channels: [24, 48], cross_attention_dim: 32, norm_num_groups: 8 } };
  const file = model('groups.safetensors', spec);
  assert.throws(() => resolveModelFiles({ model: file }), (e: unknown) => {
    const m = (e as Error).message;
    return (e as { code?: string }).code === 'BAD_MODEL' && /GroupNorm .*in_layers\.0\.weight \(down_blocks\.0\.resnets\.0\.norm1\.weight\) has 24 channels, which 32 groups \(norm_num_groups\) do not divide/.test(m) && /--config/.test(m);
  });
  writeFileSync(join(dir, 'groups.json'), JSON.stringify({ norm_num_groups: 8 }));
  assert.equal(unetConfig(resolveModelFiles({ model: file, configFrom: join(dir, 'groups.json') }).unet.config).normGroups, 8);
  // a given config that contradicts the file is named as such
  writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ norm_num_groups: 8, block_out_channels: [24, 64] }));
  assert.throws(() => resolveModelFiles({ model: file, configFrom: join(dir, 'wrong.json') }), /has shape \[48, 24, 3, 3\], expected \[64, 24, 3, 3\]\. The given config does not describe this file/);
});

test('a ControlNet made for another UNet is refused before compiling, naming what differs', () => {
  const file = model('odd-cn.safetensors', ODD_MODEL);
  assert.throws(
    () => resolveModelFiles({ model: file, controlnet: { path: join(FIXTURES, 'tiny-controlnet.safetensors'), configFrom: join(FIXTURES, 'tiny-controlnet') } }),
    (e: unknown) => (e as { code?: string }).code === 'BAD_MODEL' &&
      /ControlNet tiny-controlnet\.safetensors does not fit the model odd-cn\.safetensors: block_out_channels \[16, 16, 32, 32\] vs the UNet's \[32, 64\]; layers_per_block 2 vs 1/.test((e as Error).message),
  );
});
