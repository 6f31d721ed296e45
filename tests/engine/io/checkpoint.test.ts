import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import {
  CheckpointError, loadControlNet, loadStableDiffusion, loadVae, type TensorMap,
} from '../../../src-main/engine/weights/checkpoint.ts';
import { FIXTURES } from './fixtures.ts';

function assertSameTensors(a: TensorMap, b: TensorMap, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: key sets`);
  for (const [k, ta] of a) {
    const tb = b.get(k)!;
    assert.deepEqual(ta.shape, tb.shape, `${what}: ${k} shape`);
    assert.deepEqual(ta.read(), tb.read(), `${what}: ${k} values`);
  }
}

const diffusers = loadStableDiffusion(nodePath.join(FIXTURES, 'tiny-sd'));
const single = loadStableDiffusion(nodePath.join(FIXTURES, 'tiny-sd.safetensors'));

test('diffusers folder and single-file checkpoint give identical canonical UNet, VAE, text encoder', () => {
  assert.equal(diffusers.format, 'diffusers');
  assert.equal(single.format, 'single-file');
  assert.ok(diffusers.unet.size > 300);
  assertSameTensors(diffusers.unet, single.unet, 'unet');
  assertSameTensors(diffusers.vae, single.vae, 'vae');
  assertSameTensors(diffusers.textEncoder, single.textEncoder, 'text encoder');
  assert.deepEqual(single.vae.get('decoder.mid_block.attentions.0.to_q.weight')!.shape, [32, 32]);
  assert.ok(single.textEncoder.has('text_model.encoder.layers.1.mlp.fc1.weight'));
  assert.ok(single.ignored.includes('alphas_cumprod'));
  assert.ok(single.ignored.some((k) => k.endsWith('position_ids')));
});

test('diffusers and single-file ControlNet load to identical canonical tensors', () => {
  const a = loadControlNet(nodePath.join(FIXTURES, 'tiny-controlnet'));
  const b = loadControlNet(nodePath.join(FIXTURES, 'tiny-controlnet.safetensors'));
  assertSameTensors(a, b, 'controlnet');
  for (let i = 0; i < 12; i++) assert.ok(a.has(`controlnet_down_blocks.${i}.weight`));
  assert.ok(a.has('controlnet_cond_embedding.conv_out.weight'));
});

test('VAE override replaces the checkpoint VAE', () => {
  const override = nodePath.join(FIXTURES, 'tiny-vae-override.safetensors');
  const w = loadStableDiffusion(nodePath.join(FIXTURES, 'tiny-sd.safetensors'), { vaeOverride: override });
  assertSameTensors(w.vae, loadVae(override), 'override');
  assert.deepEqual([...w.vae.keys()].sort(), [...single.vae.keys()].sort());
  assert.notDeepEqual(w.vae.get('decoder.conv_out.weight')!.read(), single.vae.get('decoder.conv_out.weight')!.read());
  assertSameTensors(w.unet, single.unet, 'unet kept');
  // a diffusers vae/ folder works as an override too
  assertSameTensors(loadVae(nodePath.join(FIXTURES, 'tiny-sd', 'vae')), single.vae, 'vae folder');
});

test('pickles are refused without being read', () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'ckpt-'));
  for (const ext of ['.ckpt', '.pt', '.pth', '.bin']) {
    const p = nodePath.join(dir, `model${ext}`);
    fs.writeFileSync(p, 'not read');
    assert.throws(() => loadStableDiffusion(p), (e: unknown) => e instanceof CheckpointError && /convert it to \.safetensors/i.test(e.message));
    assert.throws(() => loadControlNet(p), CheckpointError);
  }
});

test('wrong files give clear errors', () => {
  assert.throws(() => loadStableDiffusion(nodePath.join(FIXTURES, 'tiny-controlnet.safetensors')), /not a Stable Diffusion checkpoint/);
  assert.throws(() => loadControlNet(nodePath.join(FIXTURES, 'tiny-sd.safetensors')), /not a ControlNet/);
  assert.throws(() => loadStableDiffusion(nodePath.join(FIXTURES, 'missing.safetensors')), /not found/);
});
