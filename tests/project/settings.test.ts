import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  Project,
  ProjectError,
  defaultSettings,
  parseSettings,
  paramsHash,
  canonicalJson,
  type SettingsPatch,
} from '../../src-main/project/index.ts';
import { initFor, makeVideo, tempDir } from './fixtures.ts';

test('defaults cover every group with the documented values', () => {
  const s = defaultSettings();
  assert.equal(s.controlnet.kind, 'canny');
  assert.deepEqual(s.crossFrame.crossPeriod, [0, 1]);
  assert.deepEqual(s.crossFrame.warpPeriod, [0, 0.1]);
  assert.deepEqual(s.crossFrame.maskPeriod, [0.5, 0.8]);
  assert.deepEqual(s.crossFrame.adaPeriod, [0.8, 1]);
  assert.equal(s.crossFrame.maskStrength, 0.5);
  assert.equal(s.crossFrame.innerStrength, 0.9);
  assert.equal(s.propagation.patchSize, 5);
  assert.equal(s.propagation.searchVoteIters, 12);
  // The measured defaults of the propagation issue (bench:quality): one PatchMatch pass with the
  // dilated stop mask, the carried field, DIS at full resolution, de-flicker 0.7, any GPU.
  assert.equal(s.propagation.patchMatchIters, 1);
  assert.equal(s.propagation.temporalInit, true);
  assert.equal(s.propagation.flowMethod, 'dis-fine');
  assert.equal(s.propagation.deflicker, 0.7);
  assert.equal(s.propagation.backend, 'auto');
  assert.equal(s.propagation.uniformity, 3500);
  assert.deepEqual(s.propagation.weights, { style: 1, colour: 6, edge: 0.5, temporal: 0.5, positional: 2 });
  assert.deepEqual(s.export, { crf: 18, audio: true });
  assert.deepEqual(s.loras, []);
  assert.equal(s.model, null);
  assert.equal(s.precision, 'auto');
});

test('precision: auto, fp16 or fp32; a project saved before it existed opens with auto', (t) => {
  const dir = tempDir(t);
  const p = Project.create(path.join(dir, 'p.rrproj'), initFor(makeVideo(dir)));
  t.after(() => p.close());
  assert.equal(p.updateSettings({ precision: 'fp16' }).precision, 'fp16');
  assert.throws(
    () => p.updateSettings({ precision: 'fp8' as unknown as 'auto' }),
    (err: unknown) => err instanceof ProjectError && err.code === 'INVALID_SETTINGS' && /precision/.test(err.message),
  );
  assert.equal(p.settings().precision, 'fp16');
  const { precision: _, ...old } = defaultSettings();
  assert.equal(parseSettings(old).precision, 'auto');
});

test('ControlNets: a control type and extra ControlNets persist; a project saved before them opens with canny and none', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'p.rrproj');
  const p = Project.create(file, initFor(makeVideo(dir)));
  const extra = [{ path: '/m/depth', kind: 'depth' as const, scale: 0.4 }, { path: '/m/hed', kind: 'hed' as const, scale: 1.5 }];
  p.updateSettings({ controlnet: { kind: 'softedge' }, extraControlnets: extra });
  p.close();
  const again = Project.open(file);
  t.after(() => again.close());
  const s = again.settings();
  assert.equal(s.controlnet.kind, 'softedge');
  assert.equal(s.controlnet.scale, 0.7, 'a kind alone keeps the scale and thresholds');
  assert.deepEqual(s.extraControlnets, extra);
  // Defaults fill what an entry leaves out; a bad kind, scale or a missing path is refused and changes nothing.
  assert.deepEqual(again.updateSettings({ extraControlnets: [{ path: '/m/c' }] as unknown as SettingsPatch['extraControlnets'] }).extraControlnets, [{ path: '/m/c', kind: 'canny', scale: 1 }]);
  for (const bad of [[{ path: '/m/x', kind: 'lineart' }], [{ path: '/m/x', scale: 3 }], [{ kind: 'hed' }], [{ path: '/m/x', weight: 1 }]]) {
    assert.throws(
      () => again.updateSettings({ extraControlnets: bad as unknown as SettingsPatch['extraControlnets'] }),
      (err: unknown) => err instanceof ProjectError && err.code === 'INVALID_SETTINGS' && /extraControlnets/.test(err.message),
      JSON.stringify(bad),
    );
  }
  assert.throws(() => again.updateSettings({ controlnet: { kind: 'normal' as unknown as 'canny' } }), (err: unknown) => err instanceof ProjectError && /controlnet\.kind/.test(err.message));
  assert.deepEqual(again.settings().extraControlnets, [{ path: '/m/c', kind: 'canny', scale: 1 }]);
  const { extraControlnets: _, ...old } = defaultSettings();
  const read = parseSettings({ ...old, controlnet: { kind: 'canny', lowThreshold: 50, highThreshold: 100, scale: 0.7 } });
  assert.deepEqual(read.extraControlnets, []);
  assert.equal(read.controlnet.kind, 'canny');
});

test('updateSettings merges and persists a valid patch, rejects bad values and keeps the old ones', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 's.rrproj');
  const p = Project.create(file, initFor(makeVideo(dir)));
  const next = p.updateSettings({
    prompt: 'oil painting',
    crossFrame: { maskPeriod: [0.4, 0.7], freeu: { enabled: true } },
    propagation: { weights: { colour: 3 } },
    loras: [{ path: '/models/ink.safetensors', weight: 0.8 }],
  });
  assert.equal(next.prompt, 'oil painting');
  assert.deepEqual(next.crossFrame.maskPeriod, [0.4, 0.7]);
  assert.equal(next.crossFrame.freeu.enabled, true);
  assert.equal(next.crossFrame.freeu.b1, defaultSettings().crossFrame.freeu.b1);
  assert.equal(next.crossFrame.innerStrength, 0.9); // siblings kept
  assert.equal(next.propagation.weights.colour, 3);
  assert.equal(next.propagation.weights.style, 1);

  const bad: [SettingsPatch, RegExp][] = [
    [{ steps: 0 }, /steps/],
    [{ crossFrame: { crossPeriod: [0.8, 0.2] } }, /crossFrame\.crossPeriod: period start/],
    [{ crossFrame: { maskStrength: 1.5 } }, /crossFrame\.maskStrength/],
    [{ propagation: { patchSize: 4 } }, /patchSize must be odd/],
    [{ controlnet: { lowThreshold: 200, highThreshold: 100 } }, /lowThreshold must not exceed/],
    [{ export: { crf: 60 } }, /export\.crf/],
    [{ prompt: 42 as unknown as string }, /prompt/],
    [{ propagation: { patchsize: 7 } as unknown as SettingsPatch['propagation'] }, /Unrecognized key.*patchsize/],
  ];
  for (const [patch, message] of bad) {
    assert.throws(
      () => p.updateSettings(patch),
      (err: unknown) => err instanceof ProjectError && err.code === 'INVALID_SETTINGS' && message.test(err.message),
      JSON.stringify(patch),
    );
  }
  assert.equal(p.settings().steps, 20);
  p.close();

  const q = Project.open(file);
  assert.deepEqual(q.settings(), next);
  q.close();
});

test('settings() returns a copy: mutating it changes nothing stored', (t) => {
  const dir = tempDir(t);
  const p = Project.create(path.join(dir, 'c.rrproj'), initFor(makeVideo(dir)));
  t.after(() => p.close());
  const s = p.settings();
  s.crossFrame.maskPeriod[0] = 0.1;
  s.prompt = 'changed';
  assert.deepEqual(p.settings().crossFrame.maskPeriod, [0.5, 0.8]);
  assert.equal(p.settings().prompt, '');
});

test('paramsHash ignores key order and undefined fields, and refuses non-JSON values', () => {
  const a = paramsHash({ b: 1, a: { y: [1, 2], x: 'z' }, c: undefined });
  const b = paramsHash({ a: { x: 'z', y: [1, 2] }, b: 1 });
  assert.equal(a, b);
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(paramsHash({ a: { x: 'z', y: [2, 1] }, b: 1 }), a);
  assert.equal(canonicalJson({ b: [true, null], a: 'é' }), '{"a":"é","b":[true,null]}');
  assert.throws(() => paramsHash({ x: Number.NaN }), /non-finite/);
  assert.throws(() => paramsHash({ when: new Date(0) }), /plain objects/);
  assert.throws(() => paramsHash({ n: 1n }), /bigint/);
});
