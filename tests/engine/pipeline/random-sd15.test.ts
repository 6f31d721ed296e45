// The benchmark's random-weight SD 1.5 generator names and shapes every weight
// exactly as the real (diffusers) files do: checked on the tiny fixture configs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readSafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import { clipTextShapes, controlNetShapes, unetShapes, vaeShapes } from '../../../bench/engine/random-sd15.ts';
import { FIXTURES } from '../io/fixtures.ts';

function same(file: string, shapes: Map<string, number[]>): void {
  const header = readSafetensorsHeader(join(FIXTURES, file)).tensors;
  const want = new Map([...header].filter(([k]) => !k.endsWith('position_ids')).map(([k, v]) => [k, [...v.shape]]));
  assert.deepEqual(new Map([...shapes].sort()), new Map([...want].sort()), file);
}

test('random SD 1.5 components have the fixture files\' weight names and shapes', () => {
  const u = { ch: [16, 16, 32, 32], layers: 2, cross: 32 };
  same('tiny-sd/unet/diffusion_pytorch_model.safetensors', unetShapes(u));
  same('tiny-controlnet/diffusion_pytorch_model.safetensors', controlNetShapes(u, [8, 16, 32, 32]));
  same('tiny-sd/vae/diffusion_pytorch_model.safetensors', vaeShapes([16, 16, 32, 32], 1));
  same('tiny-sd/text_encoder/model.safetensors', clipTextShapes(32, 2, 37, 1514));
});
