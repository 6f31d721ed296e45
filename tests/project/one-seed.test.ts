// One Seed: `seed` drives the propagation's random choices too, and older projects keep theirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Project } from '../../src-main/project/index.ts';
import { applySettingsPatch, defaultSettings, parseSettings, withOneSeed } from '../../src-main/project/settings.ts';
import { initFor, makeVideo, tempDir } from './fixtures.ts';

test('setting the seed sets the propagation seed with it', () => {
  const s = applySettingsPatch(defaultSettings(), { seed: 42 });
  assert.deepEqual([s.seed, s.propagation.seed], [42, 42]);
  // Other propagation settings in the same patch stay, and an explicit propagation seed wins.
  const t = applySettingsPatch(defaultSettings(), { seed: 7, propagation: { patchSize: 7 } });
  assert.deepEqual([t.seed, t.propagation.seed, t.propagation.patchSize], [7, 7, 7]);
  const u = applySettingsPatch(defaultSettings(), { seed: 7, propagation: { seed: 3 } });
  assert.deepEqual([u.seed, u.propagation.seed], [7, 3]);
  // A bad seed is refused as before, and a malformed propagation patch is not papered over.
  assert.throws(() => applySettingsPatch(defaultSettings(), { seed: -1 }), /seed/);
  assert.throws(() => applySettingsPatch(defaultSettings(), { seed: 1, propagation: 5 }), /propagation/);
  assert.deepEqual(withOneSeed({ prompt: 'a' }), { prompt: 'a' });
});

test('an older project with two different seeds opens unchanged and keeps them until the seed changes', (t) => {
  const old = parseSettings({ seed: 5, propagation: { seed: 9 } });
  assert.deepEqual([old.seed, old.propagation.seed], [5, 9]);
  const other = applySettingsPatch(old, { prompt: 'a cat' });
  assert.deepEqual([other.seed, other.propagation.seed], [5, 9], 'an unrelated change keeps both (and the renders)');
  const next = applySettingsPatch(old, { seed: 6 });
  assert.deepEqual([next.seed, next.propagation.seed], [6, 6]);


  // Through a project file: what is stored and read back after reopening.
  const dir = tempDir(t);
  const file = path.join(dir, 'p.rrproj');
  const p = Project.create(file, initFor(makeVideo(dir), 24, { seed: 11 }));
  assert.equal(p.settings().propagation.seed, 11, 'a seed given at creation drives propagation too');
  p.updateSettings({ seed: 12 });
  p.close();
  const again = Project.open(file);
  assert.deepEqual([again.settings().seed, again.settings().propagation.seed], [12, 12]);
  again.close();
});
