// The translation hash chain (what makes a key frame 'stale') and the mapping of project settings
// and configs (official or ours) to the RerenderConfig translation runs with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSettings } from '../../src-main/project/index.ts';
import { translationChain, type ChainBase, type ChainKeyframe } from '../../src-main/studio/params.ts';
import { isOfficialConfig, projectConfigOf, rerenderConfigOf } from '../../src-main/studio/translate.ts';
import { defaultRerenderConfig } from '../../src-main/rerender/index.ts';
import { modelProblems } from '../../src-main/studio/models.ts';
import path from 'node:path';

const base: ChainBase = { settings: defaultSettings(), source: 'a'.repeat(64), working: { width: 64, height: 64, crop: { left: 0, right: 0, top: 0, bottom: 0 }, shortSide: 64 } };
const keys: ChainKeyframe[] = [0, 10, 20, 30].map((frame) => ({ frame, prompt: null, mask: null, edited: null }));

function changed(a: Map<number, string>, b: Map<number, string>): number[] {
  return [...a.keys()].filter((f) => a.get(f) !== b.get(f));
}

test('a key frame hash covers the settings, its own prompt, mask and source, and the key frames before it', () => {
  const h = translationChain(base, keys);
  assert.equal(new Set(h.values()).size, 4, 'every key frame has its own hash');
  assert.deepEqual(changed(h, translationChain(base, keys)), [], 'deterministic');
  const at = (i: number, patch: Partial<ChainKeyframe>) => keys.map((k, j) => (j === i ? { ...k, ...patch } : k));
  assert.deepEqual(changed(h, translationChain(base, at(2, { prompt: 'a sketch' }))), [20, 30]);
  assert.deepEqual(changed(h, translationChain(base, at(1, { mask: 'm' }))), [10, 20, 30]);
  assert.deepEqual(changed(h, translationChain(base, at(0, { edited: 'img' }))), [0, 10, 20, 30]);
  assert.deepEqual(changed(h, translationChain(base, at(3, { prompt: base.settings.prompt })) ), [], 'an override equal to the prompt is the prompt');
  assert.deepEqual(changed(h, translationChain({ ...base, settings: { ...base.settings, seed: 1 } }, keys)), [0, 10, 20, 30]);
  assert.deepEqual(changed(h, translationChain({ ...base, source: 'b'.repeat(64) }, keys)), [0, 10, 20, 30]);
  const propagation = { ...base.settings.propagation, patchSize: 7 };
  assert.deepEqual(changed(h, translationChain({ ...base, settings: { ...base.settings, propagation } }, keys)), [], 'propagation settings do not touch key frames');
  for (const precision of ['fp16', 'fp32'] as const) {
    assert.deepEqual(changed(h, translationChain({ ...base, settings: { ...base.settings, precision } }, keys)), [], `precision ${precision} is how the engine computes, not what it makes`);
  }
  assert.deepEqual(changed(h, translationChain({ ...base, overlay: { crossFrame: {}, pixelFusion: {} } }, keys)), [], 'an empty overlay is no overlay');
  assert.deepEqual(changed(h, translationChain({ ...base, overlay: { x0Strength: -1 } }, keys)), [0, 10, 20, 30]);
  // Adding a key frame in the middle makes the ones after it stale (their "previous" changed).
  const added = translationChain(base, [...keys.slice(0, 2), { frame: 15, prompt: null, mask: null, edited: null }, ...keys.slice(2)]);
  assert.deepEqual([0, 10, 20, 30].filter((f) => added.get(f) !== h.get(f)), [20, 30]);
});

test('project settings map to the RerenderConfig, with an overlay for what settings cannot hold', () => {
  const s = defaultSettings();
  const c = rerenderConfigOf({ ...s, prompt: 'p', steps: 7, strength: 0.6, controlnet: { ...s.controlnet, scale: 0.4 }, crossFrame: { ...s.crossFrame, looseCrossFrame: true, styleUpdateFreq: 3, maskStrength: 0.2 } });
  assert.equal(c.prompt, 'p');
  assert.equal(c.steps, 7);
  assert.equal(c.x0Strength, 0.6);
  assert.equal(c.controlScale, 0.4);
  assert.deepEqual([c.crossFrame.loose, c.crossFrame.styleUpdateEvery, c.pixelFusion.strength], [true, 3, 0.2]);
  const o = rerenderConfigOf(s, { x0Strength: -1, pixelFusion: { smoothBoundary: false }, adain: { enabled: false } });
  assert.deepEqual([o.x0Strength, o.pixelFusion.smoothBoundary, o.adain.enabled, o.pixelFusion.strength], [-1, false, false, 0.5]);
  assert.throws(() => rerenderConfigOf(s, { maskFeather: -1 }), (e: Error & { code?: string }) => e.code === 'INVALID_SETTINGS');
});

test('an official config splits into project settings, a run overlay and job settings', () => {
  assert.equal(isOfficialConfig({ ddim_steps: 3 }), true);
  assert.equal(isOfficialConfig(defaultRerenderConfig() as unknown as Record<string, unknown>), false);
  const m = projectConfigOf({ prompt: 'a', ddim_steps: 3, x0_strength: -1, smooth_boundary: false, freeu_args: [1.1, 1.2, 0.9, 0.2], interval: 5, crop: [1, 2, 3, 4], control_type: 'HED', sd_model: 'x.safetensors', use_limit_device_resolution: true });
  assert.equal(m.settings.prompt, 'a');
  assert.equal(m.settings.steps, 3);
  assert.equal(m.settings.strength, undefined, 'pure noise is not a project strength');
  assert.deepEqual(m.overlay, { x0Strength: -1, pixelFusion: { smoothBoundary: false } });
  assert.deepEqual(m.settings.crossFrame?.freeu, { enabled: true, b1: 1.1, b2: 1.2, s1: 0.9, s2: 0.2, variant: 'official' });
  assert.deepEqual([m.job.interval, m.job.crop], [5, [1, 2, 3, 4]]);
  assert.equal(m.settings.controlnet?.kind, 'hed', 'HED maps are made, no longer replaced by Canny');
  assert.ok(!m.warnings.some((w) => /control_type/i.test(w)), m.warnings.join('\n'));
  assert.ok(m.warnings.some((w) => /sd_model/.test(w)));
  assert.ok(m.warnings.some((w) => /use_limit_device_resolution/.test(w)));
  // Ours: what settings hold goes there, the rest stays an overlay.
  const ours = projectConfigOf({ steps: 4, vaeEncode: 'sample', shapeFusion: { enabled: false, period: [0, 0.3] } });
  assert.deepEqual(ours.settings, { steps: 4, crossFrame: { warpPeriod: [0, 0.3] } });
  assert.deepEqual(ours.overlay, { vaeEncode: 'sample', shapeFusion: { enabled: false } });
  assert.throws(() => projectConfigOf({ ddim_steps: 'many' }), (e: Error & { code?: string }) => e.code === 'INVALID_SETTINGS');
  assert.throws(() => projectConfigOf([1]), (e: Error & { code?: string }) => e.code === 'INVALID_SETTINGS');
});

test('model checks are cheap and say what is wrong with each path', () => {
  const engine = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
  assert.deepEqual(modelProblems({ model: path.join(engine, 'tiny-sd'), controlnetModel: path.join(engine, 'tiny-controlnet'), loras: [] }), []);
  assert.deepEqual(modelProblems({ model: path.join(engine, 'tiny-sd.safetensors'), controlnetModel: path.join(engine, 'tiny-controlnet.safetensors'), loras: [{ path: path.join(engine, 'lora-kohya.safetensors'), weight: 1 }] }), []);
  const p = modelProblems({ model: path.join(engine, 'tiny-controlnet'), controlnetModel: path.join(engine, 'lora-peft.safetensors'), loras: [{ path: '/nope.safetensors', weight: 1 }] });
  assert.equal(p.length, 3);
  assert.match(p[0]!, /holds a controlnet, not a Stable Diffusion 1\.5 checkpoint/);
  assert.match(p[1]!, /holds a lora, not a ControlNet/);
  assert.match(p[2]!, /LoRA: \/nope\.safetensors does not exist/);
});
