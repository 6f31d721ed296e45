// Config validation, the official JSON mapping, context memory, colour correction and the
// image operations' edge semantics (no models needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RerenderConfigError, resolveRerenderConfig, startStep, inPeriod, inMaskPeriod } from '../../src-main/rerender/config.ts';
import { mapOfficialConfig } from '../../src-main/rerender/official-config.ts';
import { rerenderFreeU } from '../../src-main/rerender/pipeline-options.ts';
import { contextBytesPerFrame } from '../../src-main/rerender/context-store.ts';
import { colorCorrect, rgbToLab8, lab8ToRgb } from '../../src-main/rerender/color.ts';
import { flowWarp, gaussianKernel, maxPoolBlocks, findFlatRegion, bilinearDownsample } from '../../src-main/rerender/image-ops.ts';

test("defaults are the paper's and every constraint can be switched off", () => {
  const c = resolveRerenderConfig();
  assert.deepEqual(c.shapeFusion.period, [0, 0.1]);
  assert.deepEqual(c.pixelFusion.period, [0.5, 0.8]);
  assert.deepEqual(c.adain.period, [0.8, 1]);
  assert.equal(c.pixelFusion.strength, 0.5);
  assert.equal(c.pixelFusion.innerStrength, 0.9);
  const off = resolveRerenderConfig({ crossFrame: { enabled: false }, shapeFusion: { enabled: false }, pixelFusion: { enabled: false }, adain: { enabled: false } });
  assert.equal(off.crossFrame.enabled || off.shapeFusion.enabled || off.pixelFusion.enabled || off.adain.enabled, false);
  assert.deepEqual(off.crossFrame.period, [0, 1], 'nested defaults kept');
});

test('invalid settings are typed errors naming the field', () => {
  assert.throws(() => resolveRerenderConfig({ x0Strength: 0 }), (e: unknown) => e instanceof RerenderConfigError && /x0Strength/.test(e.message));
  assert.throws(() => resolveRerenderConfig({ adain: { period: [0.9, 0.2] } }), /adain.period/);
  assert.throws(() => resolveRerenderConfig({ crossFrame: { styleUpdateEvery: 0 } }), /styleUpdateEvery/);
  assert.throws(() => resolveRerenderConfig({ steps: 0 }), /steps/);
});

test('x0_strength and period tests follow the official index arithmetic', () => {
  assert.deepEqual(startStep({ steps: 20, x0Strength: -1 }), { start: 0, fromSource: false });
  assert.deepEqual(startStep({ steps: 20, x0Strength: 0.75 }), { start: 5, fromSource: true });
  assert.deepEqual(startStep({ steps: 20, x0Strength: 1 }), { start: 0, fromSource: true });
  // warp (0, 0.1) at 20 steps: steps 0..2; mask (0.5, 0.8): strictly 11..15.
  assert.deepEqual([...Array(20).keys()].filter((i) => inPeriod(i, 20, [0, 0.1])), [0, 1, 2]);
  assert.deepEqual([...Array(20).keys()].filter((i) => inMaskPeriod(i, 20, [0.5, 0.8])), [11, 12, 13, 14, 15]);
});

test('official JSON config maps every key', () => {
  const m = mapOfficialConfig({
    input: 'videos/pexels.mp4', output: 'result/out.mp4', work_dir: 'result', key_subdir: 'keys0', frame_count: 102,
    interval: 10, crop: [0, 180, 0, 0], sd_model: 'models/realistic.safetensors', prompt: 'a beautiful woman in CG style',
    a_prompt: 'best quality, extremely detailed', n_prompt: 'longbody, lowres', x0_strength: 0.95, control_type: 'canny',
    canny_low: 50, canny_high: 100, control_strength: 0.7, seed: 0, image_resolution: 512, style_update_freq: 1,
    cross_period: [0, 1], warp_period: [0, 0.1], mask_period: [0.5, 0.8], ada_period: [1.0, 1.0], mask_strength: 0.5,
    inner_strength: 0.9, smooth_boundary: true, color_perserve: false, loose_cfattn: true, freeu_args: [1.1, 1.2, 1.0, 0.2],
    ddim_steps: 20, scale: 7.5, mystery: 1,
  }, { randomSeed: () => 7 });
  const c = resolveRerenderConfig(m.config);
  assert.equal(c.prompt, 'a beautiful woman in CG style, best quality, extremely detailed');
  assert.equal(c.negativePrompt, 'longbody, lowres');
  assert.equal(c.x0Strength, 0.95);
  assert.equal(c.controlScale, 0.7);
  assert.equal(c.crossFrame.loose, true);
  assert.equal(c.crossFrame.styleUpdateEvery, 1, 'freq 1 with interval 10: every key frame');
  assert.deepEqual(c.adain.period, [1, 1]);
  assert.equal(c.colorPreserve, false, "the official loader's spelling 'color_perserve' is read");
  assert.deepEqual(c.freeu, { enabled: true, b1: 1.1, b2: 1.2, s1: 1, s2: 0.2, variant: 'official' });
  assert.deepEqual(m.job, {
    input: 'videos/pexels.mp4', output: 'result/out.mp4', workDir: 'result', frameCount: 102, interval: 10, imageResolution: 512,
    crop: [0, 180, 0, 0], model: 'models/realistic.safetensors', control: { kind: 'canny', lowThreshold: 50, highThreshold: 100 },
  });
  assert.deepEqual(m.warnings.sort(), ['key_subdir has no effect here', 'unknown key mystery ignored']);
  assert.equal(resolveRerenderConfig(mapOfficialConfig({ interval: 10, style_update_freq: 20 }).config).crossFrame.styleUpdateEvery, 2);
  assert.equal(resolveRerenderConfig(mapOfficialConfig({ interval: 4, style_update_freq: 6 }).config).crossFrame.styleUpdateEvery, 3);
  assert.equal(resolveRerenderConfig(mapOfficialConfig({ seed: -1 }, { randomSeed: () => 7 }).config).seed, 7);
  assert.throws(() => mapOfficialConfig({ x0_strength: 0 }), /x0_strength/);
  assert.throws(() => mapOfficialConfig({ warp_period: 0.1 }), /warp_period/);
});

test("FreeU: an official config's freeu_args get the official variant, ours default to diffusers'", () => {
  assert.equal(resolveRerenderConfig().freeu.variant, 'diffusers');
  assert.equal(resolveRerenderConfig({ freeu: { enabled: true, b1: 1.1 } }).freeu.variant, 'diffusers');
  const official = resolveRerenderConfig(mapOfficialConfig({ freeu_args: [1.1, 1.2, 1.0, 0.2] }).config);
  assert.deepEqual(official.freeu, { enabled: true, b1: 1.1, b2: 1.2, s1: 1, s2: 0.2, variant: 'official' });
  assert.deepEqual(rerenderFreeU(official), { b1: 1.1, b2: 1.2, s1: 1, s2: 0.2, variant: 'official' });
  // All ones: off whatever the variant; no freeu_args: FreeU stays off and diffusers'.
  assert.equal(rerenderFreeU(resolveRerenderConfig(mapOfficialConfig({ freeu_args: [1, 1, 1, 1] }).config)), null);
  assert.deepEqual(resolveRerenderConfig(mapOfficialConfig({ prompt: 'x' }).config).freeu, resolveRerenderConfig().freeu);
  assert.throws(() => resolveRerenderConfig({ freeu: { variant: 'ldm' as 'official' } }), (e: unknown) => e instanceof RerenderConfigError && /freeu.variant/.test(e.message));
});

test('stored contexts: about half a gigabyte per frame for SD 1.5 at 512×512, 20 steps, fp16', () => {
  const all = contextBytesPerFrame({ width: 512, height: 512, steps: 20, loose: false, bytesPerValue: 2 });
  assert.equal(all, 2 * 20 * 3 * (16 * 16 * 1280 + 32 * 32 * 640 + 64 * 64 * 320) * 2);
  assert.equal(Math.round(all / 1e6), 551);
  assert.equal(Math.round(contextBytesPerFrame({ width: 512, height: 512, steps: 20, loose: true, bytesPerValue: 2 }) / 1e6), 472);
});

test('colour correction: Lab round trip, and a frame corrected toward itself barely changes', () => {
  assert.deepEqual([...rgbToLab8(Uint8Array.of(255, 255, 255, 0, 0, 0))], [255, 128, 128, 0, 128, 128]);
  const rgb = Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i * 37) % 256);
  const back = lab8ToRgb(rgbToLab8(rgb));
  let worst = 0;
  for (let i = 0; i < rgb.length; i++) worst = Math.max(worst, Math.abs(rgb[i]! - back[i]!));
  assert.ok(worst <= 8, `8-bit Lab round trip within ${worst}`);
  const self = colorCorrect(rgb, rgb, 16, 16);
  let d = 0;
  for (let i = 0; i < rgb.length; i++) d = Math.max(d, Math.abs(rgb[i]! - self[i]!));
  assert.ok(d <= 12, `self-correction moved a value by ${d}`);
  const red = new Uint8Array(16 * 16 * 3).map((_, i) => (i % 3 === 0 ? 200 : 40));
  const toRed = colorCorrect(rgb, red, 16, 16);
  let rs = 0;
  let bs = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    rs += toRed[i]! - rgb[i]!;
    bs += toRed[i + 2]! - rgb[i + 2]!;
  }
  assert.ok(rs > 0 && bs < 0, 'colours move toward the reference');
});

test('image operations keep PyTorch semantics at the edges', () => {
  const k = gaussianKernel(9, 18);
  assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const img = { data: Float32Array.from({ length: 16 }, (_, i) => i + 1), channels: 1, width: 4, height: 4 };
  const shift = { data: new Float32Array(32).fill(0), channels: 2, width: 4, height: 4 };
  for (let p = 0; p < 16; p++) shift.data[p] = 1; // dx = +1: out(x) = img(x + 1), zero beyond the border
  const w = flowWarp(img, shift, 'bilinear');
  assert.deepEqual([...w.data.slice(0, 4)], [2, 3, 4, 0]);
  assert.deepEqual([...flowWarp(img, shift, 'nearest').data.slice(0, 4)], [2, 3, 4, 0]);
  assert.deepEqual([...maxPoolBlocks(img, 2).data], [6, 8, 14, 16]);
  assert.deepEqual([...bilinearDownsample(img, 2).data], [3.5, 5.5, 11.5, 13.5]);
  const step = { data: Float32Array.of(0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1), channels: 1, width: 4, height: 4 };
  assert.deepEqual([...findFlatRegion(step).data.slice(0, 4)], [1, 0, 0, 1]);
});
