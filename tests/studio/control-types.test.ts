// Control types and several ControlNets in the key-frame translation: what the hash covers (and
// that projects from before keep theirs), an official HED config mapped without a warning, each
// ControlNet's map made by its kind's preprocessor, and a missing HED file named up front.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultSettings, type ProjectSettings } from '../../src-main/project/index.ts';
import { translationChain, type ChainKeyframe } from '../../src-main/studio/params.ts';
import { projectConfigOf } from '../../src-main/studio/translate.ts';
import { kindWarnings, openControlMaps, pipelineControlNets, projectControlNets } from '../../src-main/studio/control-maps.ts';
import { modelProblems } from '../../src-main/studio/models.ts';
import type { ControlInput, Tensor } from '../../src-main/engine/pipeline/index.ts';
import type { CannyFn } from '../../src-main/engine/control/index.ts';

const ENGINE = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
const KEYS: ChainKeyframe[] = [{ frame: 0, prompt: null, mask: null, edited: null }, { frame: 4, prompt: null, mask: null, edited: null }];
const WORKING = { width: 64, height: 64, shortSide: 64, crop: null } as never;

function chain(s: ProjectSettings): string[] {
  return [...translationChain({ settings: s, source: 'abc', working: WORKING }, KEYS).values()];
}

const base = (): ProjectSettings => ({ ...defaultSettings(), model: '/m/sd.safetensors', controlnetModel: '/m/cn' });

test('the hash covers each ControlNet\'s kind, scale and path; projects made before extra ControlNets keep their hashes', () => {
  // Computed by the translation hash before extraControlnets existed: such projects stay up to date.
  assert.deepEqual(chain(base()), [
    '6b93c8020d3c84b4004917dca185de2d1d585ca3a5eca8282ce8a6a537157e5d',
    '5d40529b305c1819e7af221c8943ac78032f0007d7c906bdc59f7bf5ccc58ae0',
  ]);
  const one = { path: '/m/depth', kind: 'depth' as const, scale: 0.5 };
  const variants: ProjectSettings[] = [
    base(),
    { ...base(), controlnet: { ...base().controlnet, kind: 'hed' } },
    { ...base(), controlnet: { ...base().controlnet, scale: 0.5 } },
    { ...base(), extraControlnets: [one] },
    { ...base(), extraControlnets: [{ ...one, scale: 0.6 }] },
    { ...base(), extraControlnets: [{ ...one, kind: 'canny' }] },
    { ...base(), extraControlnets: [{ ...one, path: '/m/depth2' }] },
    { ...base(), extraControlnets: [one, one] },
  ];
  const firsts = variants.map((s) => chain(s)[0]);
  assert.equal(new Set(firsts).size, variants.length, 'every change gives another hash');
});

test('an official config with control_type HED sets the ControlNet kind to hed, without a warning', () => {
  const hed = projectConfigOf({ prompt: 'a fox', control_type: 'HED', canny_low: 10 });
  assert.equal(hed.settings.controlnet?.kind, 'hed');
  assert.equal(hed.settings.controlnet?.lowThreshold, undefined, 'Canny thresholds do not apply to HED');
  assert.ok(!hed.warnings.some((w) => /control_type/.test(w)), hed.warnings.join('\n'));
  const canny = projectConfigOf({ prompt: 'a fox', control_type: 'canny', canny_low: 10, canny_high: 90 });
  assert.deepEqual(canny.settings.controlnet, { kind: 'canny', lowThreshold: 10, highThreshold: 90 });
});

test('the ControlNet list: one is loaded by its path as before; several as specs, the first taking the config\'s scale', () => {
  const s = { ...base(), extraControlnets: [{ path: '/m/b', kind: 'softedge' as const, scale: 0.3 }] };
  assert.equal(pipelineControlNets(projectControlNets(base(), '/m/cn')), '/m/cn');
  assert.deepEqual(pipelineControlNets(projectControlNets(s, '/m/cn')), [{ path: '/m/cn', type: 'canny' }, { path: '/m/b', type: 'softedge', scale: 0.3 }]);
  const named = kindWarnings(projectControlNets({ ...base(), controlnet: { ...base().controlnet, kind: 'hed' } }, '/m/control_v11p_sd15_canny.safetensors'));
  assert.equal(named.length, 1);
  assert.match(named[0]!, /canny ControlNet by its name.*given hed maps \(settings\.controlnet\.kind\)/);
  assert.deepEqual(kindWarnings(projectControlNets(s, '/m/control_v11p_sd15_canny')), []);
  assert.deepEqual(kindWarnings(projectControlNets({ ...s, controlnet: { ...s.controlnet, kind: 'softedge' } }, '/m/control_sd15_hed.pth')), [], 'HED and soft edge share a map');
});

test('modelProblems checks the extra ControlNets and names the setting', () => {
  const problems = modelProblems({
    model: path.join(ENGINE, 'tiny-sd'), controlnetModel: path.join(ENGINE, 'tiny-controlnet'), loras: [],
    extraControlnets: [{ path: path.join(ENGINE, 'tiny-controlnet'), kind: 'canny', scale: 1 }, { path: '/nowhere/cn', kind: 'depth', scale: 1 }],
  });
  assert.deepEqual(problems, ['ControlNet 3 (depth): /nowhere/cn does not exist']);
});

const rgbOf = (w: number, h: number): Uint8Array => Uint8Array.from({ length: w * h * 3 }, (_, i) => ((i * 37) ^ (i >> 5)) & 255);

test('each ControlNet gets its kind\'s map: Canny with the thresholds, HED from the models folder, the frame itself', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rerender-control-types-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const models = path.join(dir, 'models');
  const w = 32;
  const h = 24;
  const calls: unknown[] = [];
  // A stand-in Canny (the native one is tested on its own): a constant map, recording its thresholds.
  const cannyFn: CannyFn = async (image, options) => {
    calls.push(options);
    return { data: new Uint8Array(image.width * image.height * 3).fill(255), width: image.width, height: image.height, channels: 3 };
  };
  const list = projectControlNets({ ...base(), controlnet: { ...base().controlnet, lowThreshold: 20, highThreshold: 80 }, extraControlnets: [{ path: '/m/b', kind: 'hed', scale: 0.5 }, { path: '/m/c', kind: 'raw', scale: 2 }] }, '/m/a');
  const options = { width: w, height: h, canny: { low: 20, high: 80 }, modelsDir: models, cacheDir: path.join(dir, 'cache'), provider: 'cpu' as const, cannyFn };

  await assert.rejects(openControlMaps(list, options), (e: Error & { code?: string }) => e.code === 'MODEL_MISSING' && e.message.includes(path.join(models, 'annotators', 'ControlNetHED')));

  mkdirSync(path.join(models, 'annotators'), { recursive: true });
  copyFileSync(path.join(ENGINE, 'annotators', 'hed-tiny.safetensors'), path.join(models, 'annotators', 'ControlNetHED.safetensors'));
  const maps = await openControlMaps(list, options);
  t.after(() => maps.close());
  const rgb = rgbOf(w, h);
  const out = (await maps.of(rgb)) as ControlInput[];
  assert.equal(out.length, 3);
  assert.deepEqual(calls, [{ low: 20, high: 80 }]);
  assert.equal(out[0]!.scale, undefined, 'the first ControlNet takes the translation config\'s scale');
  assert.deepEqual(out.map((c) => c.scale), [undefined, 0.5, 2]);
  for (const c of out) assert.deepEqual(c.image.dims, [1, 3, h, w]);
  assert.ok(out[0]!.image.data.every((v) => v === 1), 'Canny: the stand-in\'s map');
  const hed = out[1]!.image.data;
  assert.ok(hed.some((v) => v !== hed[0]), 'HED: a map of the picture, not a constant');
  assert.ok(hed.some((v) => v !== 1));
  assert.equal(out[2]!.image.data[0], rgb[0]! / 255, 'raw: the key frame itself');
  const lone = (await (await openControlMaps(list.slice(0, 1), options)).of(rgb)) as Tensor;
  assert.deepEqual(lone.dims, [1, 3, h, w], 'one ControlNet: a lone map, as before');
});
