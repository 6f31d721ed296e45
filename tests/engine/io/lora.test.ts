import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodePath from 'node:path';
import { loadStableDiffusion, type TensorMap } from '../../../src-main/engine/weights/checkpoint.ts';
import { applyLoras, parseLora, type LoraApplication } from '../../../src-main/engine/weights/lora.ts';
import { FIXTURES, REF, refF32, refNames } from './fixtures.ts';

const model = loadStableDiffusion(nodePath.join(FIXTURES, 'tiny-sd.safetensors'));
const names = { unet: [...model.unet.keys()], textEncoder: [...model.textEncoder.keys()] };
const cases = JSON.parse(fs.readFileSync(nodePath.join(REF, 'lora_cases.json'), 'utf8')) as Record<string, { loras: [string, number][] }>;

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

test('every module of the three LoRA styles maps to a model weight', () => {
  const expected: Record<string, number> = { 'lora-kohya.safetensors': 10, 'lora-kohya-ldm-f16.safetensors': 7, 'lora-peft.safetensors': 4 };
  for (const [file, n] of Object.entries(expected)) {
    const l = parseLora(nodePath.join(FIXTURES, file), names);
    assert.deepEqual(l.unmatched, [], file);
    assert.equal(l.pairs.length, n, file);
  }
  const ldm = parseLora(nodePath.join(FIXTURES, 'lora-kohya-ldm-f16.safetensors'), names);
  assert.ok(ldm.pairs.some((p) => p.target === 'up_blocks.1.resnets.0.conv_shortcut.weight'));
  assert.ok(ldm.pairs.some((p) => p.target === 'down_blocks.0.resnets.0.conv1.weight'));
});

for (const [caseName, spec] of Object.entries(cases)) {
  test(`merge equals the reference: ${caseName}`, () => {
    const apps: LoraApplication[] = spec.loras.map(([file, weight]) => ({ lora: parseLora(nodePath.join(FIXTURES, file), names), weight }));
    const merged: Record<'unet' | 'text_encoder', TensorMap> = {
      unet: applyLoras(model.unet, 'unet', apps),
      text_encoder: applyLoras(model.textEncoder, 'textEncoder', apps),
    };
    const refs = refNames().filter((n) => n.startsWith(caseName + '.'));
    assert.ok(refs.length >= 8);
    for (const r of refs) {
      const rest = r.slice(caseName.length + 1);
      const comp = rest.startsWith('unet.') ? 'unet' : 'text_encoder';
      const key = rest.slice(comp.length + 1);
      const got = merged[comp].get(key)!.read();
      const want = refF32(r);
      assert.ok(relErr(got, want) < 1e-5, `${r}: ${relErr(got, want)}`);
      const base = (comp === 'unet' ? model.unet : model.textEncoder).get(key)!.read();
      assert.ok(relErr(base, want) > 1e-3, `${r}: the LoRA changed the weight`);
    }
    // untouched weights stay the very same lazy tensors
    assert.equal(merged.unet.get('conv_in.weight'), model.unet.get('conv_in.weight'));
  });
}

test('a LoRA for another architecture is rejected with a clear message', () => {
  const l = parseLora(nodePath.join(FIXTURES, 'lora-kohya.safetensors'), names);
  const pair = l.pairs.find((p) => p.component === 'unet')!;
  const wrong = new Map(model.unet);
  const t = wrong.get(pair.target)!;
  wrong.set(pair.target, { ...t, shape: [t.shape[0]! * 2, t.shape[1]!] });
  assert.throws(() => applyLoras(wrong, 'unet', [{ lora: l, weight: 1 }]), /do not fit/);
});
