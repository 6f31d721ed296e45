// Single-file checkpoints carry no config.json: what the weight shapes reveal is
// read from them (checked against the tiny fixtures' own configs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadControlNet, loadStableDiffusion } from '../../../src-main/engine/weights/checkpoint.ts';
import type { TensorMap } from '../../../src-main/engine/weights/checkpoint.ts';
import { inferControlNetConfig, inferTextConfig, inferUnetConfig, inferVaeConfig, SD15_UNET_CONFIG } from '../../../src-main/engine/pipeline/sd15-configs.ts';
import { FIXTURES } from '../io/fixtures.ts';
import { resolveModelFiles } from '../../../src-main/engine/pipeline/model-files.ts';
import { PipelineError } from '../../../src-main/engine/pipeline/errors.ts';

const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, p), 'utf8')) as Record<string, unknown>;
const shapeOf = (m: TensorMap) => (name: string) => m.get(name)?.shape;

function pick(cfg: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, cfg[k]]));
}

test('UNet, VAE, text encoder and ControlNet structure inferred from a single file', () => {
  const w = loadStableDiffusion(join(FIXTURES, 'tiny-sd.safetensors'));
  const unetKeys = ['in_channels', 'block_out_channels', 'layers_per_block', 'down_block_types', 'up_block_types', 'cross_attention_dim', 'use_linear_projection'];
  assert.deepEqual(pick(inferUnetConfig(shapeOf(w.unet)), unetKeys), pick(json('tiny-sd/unet/config.json'), unetKeys));
  const vaeKeys = ['block_out_channels', 'layers_per_block', 'latent_channels'];
  assert.deepEqual(pick(inferVaeConfig(shapeOf(w.vae)), vaeKeys), pick(json('tiny-sd/vae/config.json'), vaeKeys));
  const teKeys = ['hidden_size', 'num_hidden_layers', 'intermediate_size', 'vocab_size', 'max_position_embeddings'];
  assert.deepEqual(pick(inferTextConfig(shapeOf(w.textEncoder)), teKeys), pick(json('tiny-sd/text_encoder/config.json'), teKeys));
  const cn = inferControlNetConfig(shapeOf(loadControlNet(join(FIXTURES, 'tiny-controlnet.safetensors'))));
  assert.deepEqual(cn['conditioning_embedding_out_channels'], [8, 16, 32, 32]);
  assert.deepEqual(cn['block_out_channels'], [16, 16, 32, 32]);
  // What weights cannot tell stays SD 1.5's.
  assert.equal(inferUnetConfig(shapeOf(w.unet))['norm_num_groups'], SD15_UNET_CONFIG['norm_num_groups']);
  assert.deepEqual(inferUnetConfig(() => undefined), SD15_UNET_CONFIG);
});

test('a single-file checkpoint whose text encoder is smaller than the CLIP vocabulary is refused clearly', () => {
  // The tiny test checkpoint has a 1514-token text encoder; without its own tokenizer the shipped
  // 49408-token CLIP vocabulary would produce ids past its embedding table.
  assert.throws(
    () => resolveModelFiles({ model: join(FIXTURES, 'tiny-sd.safetensors') }),
    (e: unknown) => e instanceof PipelineError && e.code === 'UNSUPPORTED_MODEL' && /knows 1514 tokens but the tokenizer has 49408/.test(e.message),
  );
  // With the diffusers folder as the source of configs and tokenizer it loads.
  assert.equal(resolveModelFiles({ model: join(FIXTURES, 'tiny-sd.safetensors'), configFrom: join(FIXTURES, 'tiny-sd') }).tokenizer.size, 1514);
});
