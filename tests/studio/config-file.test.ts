// Loading an official config in the editor: the settings it sets, what it leaves out, and the
// files it refuses, before anything is applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readConfigFile } from '../../src-main/studio/config-file.ts';
import { applySettingsPatch, defaultSettings } from '../../src-main/project/settings.ts';
import { mapOfficialConfig } from '../../src-main/rerender/official-config.ts';

function withDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'config-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// The shape of Rerender_A_Video's config/van_gogh_man.json (paths made up).
const VAN_GOGH = {
  input: 'videos/clip.mp4', output: 'videos/clip/blend.mp4', work_dir: 'videos/clip', key_subdir: 'keys', frame_count: 102, interval: 10,
  crop: [0, 0, 0, 280], prompt: 'a handsome man in van gogh painting', a_prompt: 'best quality, extremely detailed', n_prompt: 'lowres',
  x0_strength: 1.05, control_type: 'canny', canny_low: 50, canny_high: 100, control_strength: 0.7, seed: 0, warp_period: [0, 0.1],
  ada_period: [0.8, 1], image_resolution: 512, sd_model: 'models/x.safetensors',
};

test('an official config reads into a settings patch, naming what it sets and what it leaves out', async (t) => {
  const dir = withDir(t);
  const file = path.join(dir, 'van_gogh_man.json');
  writeFileSync(file, JSON.stringify(VAN_GOGH));
  const r = await readConfigFile(file);
  assert.equal(r.name, 'van_gogh_man');
  assert.equal(r.settings.prompt, 'a handsome man in van gogh painting, best quality, extremely detailed');
  assert.deepEqual(r.settings.controlnet, { scale: 0.7, kind: 'canny', lowThreshold: 50, highThreshold: 100 });
  assert.ok(r.applied.includes('prompt') && r.applied.includes('crossFrame.warpPeriod') && r.applied.includes('controlnet.lowThreshold'), r.applied.join());
  assert.ok(!r.applied.some((k) => /input|output|crop|interval/.test(k)));
  const ignored = r.ignored.join('\n');
  for (const what of [/file paths/, /every 10 frames/, /Crop 0, 0, 0, 280/, /Working size 512/, /Model file models\/x\.safetensors/, /pure noise/, /key_subdir: not needed here/, /Frame count 102/]) {
    assert.match(ignored, what);
  }
  assert.ok(!/videos\/clip/.test(ignored), 'the paths themselves are not repeated');
  // The patch is valid project settings as it stands.
  assert.equal(applySettingsPatch(defaultSettings(), r.settings).crossFrame.adaPeriod[0], 0.8);
});

test('x0_strength above 1 is pure noise, as in the official sampler', () => {
  assert.equal(mapOfficialConfig({ x0_strength: 1.05 }).config.x0Strength, -1);
  assert.equal(mapOfficialConfig({ x0_strength: 1 }).config.x0Strength, 1);
  assert.equal(mapOfficialConfig({ x0_strength: 0.75 }).config.x0Strength, 0.75);
});

test('files that are not usable configs are refused with a code and a plain reason', async (t) => {
  const dir = withDir(t);
  const code = (c: string) => (e: Error & { code?: string }) => e.code === c;
  await assert.rejects(readConfigFile('rel/x.json'), code('INVALID_ARGUMENT'));
  await assert.rejects(readConfigFile(path.join(dir, 'x.txt')), code('INVALID_ARGUMENT'));
  await assert.rejects(readConfigFile(path.join(dir, 'missing.json')), code('NOT_FOUND'));
  const bad = path.join(dir, 'bad.json');
  writeFileSync(bad, '{ "prompt": ');
  await assert.rejects(readConfigFile(bad), (e: Error & { code?: string }) => e.code === 'INVALID_CONFIG' && e.message === 'This file is not valid JSON.');
  const range = path.join(dir, 'range.json');
  writeFileSync(range, JSON.stringify({ ddim_steps: 500 }));
  await assert.rejects(readConfigFile(range), (e: Error & { code?: string }) => e.code === 'INVALID_SETTINGS' && /steps/.test(e.message));
  const list = path.join(dir, 'list.json');
  writeFileSync(list, '[1, 2]');
  await assert.rejects(readConfigFile(list), code('INVALID_SETTINGS'));
});

test('the services host answers loadConfigFile, its argument checked first', async (t) => {
  const dir = withDir(t);
  const { createApiHost } = await import('../../src-main/api/host.ts');
  const host = createApiHost({ dataDir: path.join(dir, 'data'), env: { HOME: dir } });
  t.after(() => host.dispose());
  const file = path.join(dir, 'woman.json');
  writeFileSync(file, JSON.stringify({ prompt: 'a woman in CG style', x0_strength: 0.75 }));
  const r = await host.api.loadConfigFile(file);
  assert.deepEqual([r.name, r.settings], ['woman', { prompt: 'a woman in CG style', strength: 0.75 }]);
  await assert.rejects(host.call('loadConfigFile', []), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');
});
