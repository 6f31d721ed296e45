// Presets: valid project settings, and the official ones the same values the official configs
// give through the CLI's config mapping (file paths left out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRESETS, matchesPreset, presetById } from '../../src-main/project/presets.ts';
import { applySettingsPatch, defaultSettings } from '../../src-main/project/settings.ts';
import { projectConfigOf } from '../../src-main/studio/translate.ts';

// The parameter values of Rerender_A_Video's config/*.json (github.com/williamyang1991/Rerender_A_Video).
const SCULPTURE = {
  prompt: 'white ancient Greek sculpture, Venus de Milo, light pink and blue background',
  a_prompt: 'RAW photo, subject, (high detailed skin:1.2), 8k uhd, dslr, soft lighting, high quality, film grain, Fujifilm XT3',
  n_prompt: '(deformed iris, deformed pupils, semi-realistic, cgi, 3d, render, sketch, cartoon, drawing, anime, mutated hands and fingers:1.4), (deformed, distorted, disfigured:1.3), poorly drawn, bad anatomy, wrong anatomy, extra limb, missing limb, floating limbs, disconnected limbs, mutation, mutated, ugly, disgusting, amputation',
  x0_strength: 0.95, control_type: 'canny', canny_low: 50, canny_high: 100, control_strength: 0.7, seed: 0, warp_period: [0, 0.1], ada_period: [0.8, 1],
};
const PORTRAIT_N = 'longbody, lowres, bad anatomy, bad hands, missing fingers, extra digit, fewer digits, cropped, worst quality, low quality';
const OFFICIAL: Record<string, Record<string, unknown>> = {
  real2sculpture: SCULPTURE,
  'real2sculpture-freeu': { ...SCULPTURE, freeu_args: [1.1, 1.2, 1.0, 0.2] },
  'real2sculpture-loose': { ...SCULPTURE, loose_cfattn: true },
  'van-gogh-man': {
    prompt: 'a handsome man in van gogh painting', a_prompt: 'best quality, extremely detailed', n_prompt: PORTRAIT_N, x0_strength: 1.05,
    control_type: 'canny', canny_low: 50, canny_high: 100, control_strength: 0.7, seed: 0, warp_period: [0, 0.1], ada_period: [0.8, 1],
  },
  'woman-cg': {
    prompt: 'a beautiful woman in CG style', a_prompt: 'best quality, extremely detailed', n_prompt: PORTRAIT_N, x0_strength: 0.75,
    control_type: 'canny', canny_low: 50, canny_high: 100, control_strength: 0.7, seed: 0, warp_period: [0, 0.1], ada_period: [1, 1],
  },
};

test('every preset is valid project settings, with a unique id and name, and matches once applied', () => {
  assert.equal(new Set(PRESETS.map((p) => p.id)).size, PRESETS.length);
  assert.equal(new Set(PRESETS.map((p) => p.name)).size, PRESETS.length);
  for (const p of PRESETS) {
    const s = applySettingsPatch(defaultSettings(), p.settings);
    assert.ok(matchesPreset(s as unknown as Record<string, unknown>, p), p.id);
    assert.ok(p.description.length > 10, p.id);
  }
  // Presets are starting points: the models stay the artist's.
  for (const p of PRESETS) assert.deepEqual(Object.keys(p.settings).filter((k) => ['model', 'controlnetModel', 'loras', 'extraControlnets', 'precision'].includes(k)), [], p.id);
});

test('each official preset holds what its official config gives through the config mapping', () => {
  for (const p of PRESETS.filter((x) => x.source)) {
    const json = OFFICIAL[p.id];
    assert.ok(json, `an official config for ${p.id}`);
    const mapped = projectConfigOf(json);
    const applied = applySettingsPatch(defaultSettings(), p.settings) as unknown as Record<string, unknown>;
    // Every value the official config sets is the preset's…
    assert.ok(matchesPreset(applied, { settings: mapped.settings }), `${p.id}: ${JSON.stringify(mapped.settings)}`);
    // …except pure noise, which project settings cannot hold: the nearest strength instead.
    if (mapped.overlay.x0Strength !== undefined) assert.equal(applied.strength, 1);
  }
  // The official presets reset what another official preset turns on.
  const after = applySettingsPatch(applySettingsPatch(defaultSettings(), presetById('real2sculpture-freeu')!.settings), presetById('real2sculpture')!.settings);
  assert.equal(after.crossFrame.freeu.enabled, false);
  const loose = applySettingsPatch(applySettingsPatch(defaultSettings(), presetById('real2sculpture-loose')!.settings), presetById('woman-cg')!.settings);
  assert.equal(loose.crossFrame.looseCrossFrame, false);
});

test('Fast preview and Final quality change speed settings, not the look', () => {
  const d = defaultSettings();
  const fast = applySettingsPatch(d, presetById('fast-preview')!.settings);
  const final = applySettingsPatch(d, presetById('final-quality')!.settings);
  assert.ok(fast.steps < d.steps && final.steps > d.steps);
  assert.ok(fast.propagation.searchVoteIters < d.propagation.searchVoteIters && final.propagation.searchVoteIters > d.propagation.searchVoteIters);
  for (const s of [fast, final]) {
    assert.deepEqual([s.prompt, s.negativePrompt, s.seed, s.strength, s.guidance], [d.prompt, d.negativePrompt, d.seed, d.strength, d.guidance]);
  }
  assert.equal(matchesPreset(d as unknown as Record<string, unknown>, presetById('fast-preview')!), false);
});
