// The project's undo/redo history: every kind of step restores exact bytes both ways, the redo
// branch goes with a new edit, the bounds hold, it survives a reopen and a migration, and a failed
// edit leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { APPLICATION_ID, Project, migrations, paramsHash } from '../../src-main/project/index.ts';
import { historyInfo, recordEdit, recordEditAsync, redo, settingsLabel, undo } from '../../src-main/project/edit-history.ts';
import { settingsChangeLabel } from '../../src-main/project/edit-labels.ts';
import { initFor, makeVideo, pngBytes, tempDir } from './fixtures.ts';

type T = { after: (fn: () => void) => void };

function create(t: T, frames = 100): { p: Project; file: string } {
  const dir = tempDir(t);
  const file = path.join(dir, 'h.rrproj');
  const p = Project.create(file, initFor(makeVideo(dir), frames));
  t.after(() => p.close());
  return { p, file };
}

/** Everything stored for the key frames, bytes included, minus the time stamps. */
function snapshot(p: Project): unknown {
  return {
    keyframes: p.listKeyframes('h').map((k) => {
      const full = p.getKeyframe(k.frame)!;
      return [k.frame, full.image?.toString('hex') ?? null, full.origin, full.paramsHash, full.mask?.toString('hex') ?? null, full.prompt];
    }),
    settings: p.settings(),
  };
}

/** Applies `edit` as a step, then checks undo gives back the state before and redo the state after. */
function roundTrip(p: Project, label: string, scope: Parameters<typeof recordEdit>[2], edit: () => void): void {
  const before = snapshot(p);
  recordEdit(p, label, scope, edit);
  const after = snapshot(p);
  assert.notDeepEqual(after, before, `${label} changes something`);
  assert.equal(historyInfo(p).undo, label);
  assert.equal(undo(p), label);
  assert.deepEqual(snapshot(p), before, `undo of ${label}`);
  assert.equal(historyInfo(p).redo, label);
  assert.equal(redo(p), label);
  assert.deepEqual(snapshot(p), after, `redo of ${label}`);
}

test('each kind of step is undone and redone to the exact bytes', (t) => {
  const { p } = create(t);
  roundTrip(p, 'Add key frame 12', { keyframes: [12] }, () => p.addKeyframe(12));
  roundTrip(p, 'Import image to 12', { keyframes: [12] }, () => p.setKeyframeImage(12, pngBytes(1), 'edited', null));
  roundTrip(p, 'Paint mask on 12', { keyframes: [12] }, () => p.setKeyframeMask(12, pngBytes(2)));
  roundTrip(p, 'Change prompt of 12', { keyframes: [12] }, () => p.setKeyframePrompt(12, 'a fox'));
  roundTrip(p, 'Import image to 12', { keyframes: [12] }, () => p.setKeyframeImage(12, pngBytes(3), 'edited', null));
  roundTrip(p, 'Move key frame 12 → 20', { keyframes: [12, 20] }, () => p.moveKeyframe(12, 20));
  roundTrip(p, 'Clear image of 20', { keyframes: [20] }, () => p.clearKeyframeImage(20));
  roundTrip(p, 'Change steps 20 → 30', { settings: true }, () => p.updateSettings({ steps: 30 }));
  roundTrip(p, 'Delete key frame 20', { keyframes: [20] }, () => p.removeKeyframe(20));
  p.setKeyframes([1, 2, 3]);
  roundTrip(p, 'Set key frames', { keyframes: 'all' }, () => p.setKeyframes([2, 5, 9]));
  assert.equal(historyInfo(p).steps.length, 10);
});

test('undo all, redo all: states in between come back in order', (t) => {
  const { p } = create(t);
  const states = [snapshot(p)];
  recordEdit(p, 'Add key frame 4', { keyframes: [4] }, () => p.addKeyframe(4));
  states.push(snapshot(p));
  recordEdit(p, 'Paint mask on 4', { keyframes: [4] }, () => p.setKeyframeMask(4, pngBytes(40)));
  states.push(snapshot(p));
  recordEdit(p, 'Change prompt', { settings: true }, () => p.updateSettings({ prompt: 'ink' }));
  states.push(snapshot(p));
  for (let i = states.length - 2; i >= 0; i--) {
    assert.ok(undo(p));
    assert.deepEqual(snapshot(p), states[i]);
  }
  assert.equal(undo(p), null, 'nothing left to undo');
  for (let i = 1; i < states.length; i++) {
    assert.ok(redo(p));
    assert.deepEqual(snapshot(p), states[i]);
  }
  assert.equal(redo(p), null);
  p.history.goTo(1);
  assert.deepEqual(snapshot(p), states[1]);
  assert.equal(historyInfo(p).position, 1);
  p.history.goTo(3);
  assert.deepEqual(snapshot(p), states[3]);
});

test('a new edit clears the redo branch; an edit that changes nothing is no step', (t) => {
  const { p } = create(t);
  recordEdit(p, 'Add key frame 1', { keyframes: [1] }, () => p.addKeyframe(1));
  recordEdit(p, 'Add key frame 2', { keyframes: [2] }, () => p.addKeyframe(2));
  undo(p);
  assert.equal(historyInfo(p).redo, 'Add key frame 2');
  recordEdit(p, 'Add key frame 1', { keyframes: [1] }, () => p.addKeyframe(1)); // already one: no change
  assert.equal(historyInfo(p).redo, 'Add key frame 2', 'a no-op keeps the redo branch');
  recordEdit(p, 'Add key frame 3', { keyframes: [3] }, () => p.addKeyframe(3));
  const info = historyInfo(p);
  assert.deepEqual(info.steps.map((s) => s.label), ['Add key frame 1', 'Add key frame 3']);
  assert.equal(info.redo, null);
  assert.equal(redo(p), null);
  assert.deepEqual(p.listKeyframes('h').map((k) => k.frame), [1, 3]);
});

test('bounded by steps and by bytes; shared images are stored once', (t) => {
  const { p } = create(t);
  p.history.limits = { maxSteps: 5, maxBytes: 1 << 30 };
  for (let f = 0; f < 8; f++) recordEdit(p, `Add key frame ${f}`, { keyframes: [f] }, () => p.addKeyframe(f));
  assert.deepEqual(historyInfo(p).steps.map((s) => s.label), [3, 4, 5, 6, 7].map((f) => `Add key frame ${f}`));
  while (undo(p));
  assert.deepEqual(p.listKeyframes('h').map((k) => k.frame), [0, 1, 2], 'the oldest steps can no longer be undone');

  // One 10 kB image on 6 frames (6 steps) is stored once.
  const img = pngBytes(9, 10_000);
  p.history.limits = { maxSteps: 100, maxBytes: 1 << 30 };
  for (let f = 10; f < 16; f++) recordEdit(p, `Import image to ${f}`, { keyframes: [f] }, () => p.setKeyframeImage(f, img, 'edited', null));
  assert.equal(p.history.bytes(), img.length);
  // Distinct images: 25 kB allows two steps of 10 kB and the newest always stays.
  p.history.limits = { maxSteps: 100, maxBytes: 25_000 };
  for (let f = 20; f < 25; f++) recordEdit(p, `Import image to ${f}`, { keyframes: [f] }, () => p.setKeyframeImage(f, pngBytes(f, 10_000), 'edited', null));
  assert.ok(p.history.bytes() <= 25_000, `${p.history.bytes()} bytes kept`);
  assert.deepEqual(historyInfo(p).steps.map((s) => s.label), ['Import image to 23', 'Import image to 24']);
  p.history.limits = { maxSteps: 100, maxBytes: 100 };
  recordEdit(p, 'Import image to 30', { keyframes: [30] }, () => p.setKeyframeImage(30, pngBytes(30, 10_000), 'edited', null));
  assert.deepEqual(historyInfo(p).steps.map((s) => s.label), ['Import image to 30'], 'the newest step stays even past the bound');
  undo(p);
  assert.equal(p.getKeyframe(30), null);
});

test('the history survives closing and reopening the project', (t) => {
  const { p, file } = create(t);
  recordEdit(p, 'Import image to 7', { keyframes: [7] }, () => p.setKeyframeImage(7, pngBytes(7), 'edited', null));
  recordEdit(p, 'Change steps 20 → 25', { settings: true }, () => p.updateSettings({ steps: 25 }));
  recordEdit(p, 'Delete key frame 7', { keyframes: [7] }, () => p.removeKeyframe(7));
  undo(p);
  p.close();
  const q = Project.open(file);
  t.after(() => q.close());
  assert.equal(historyInfo(q).undo, 'Change steps 20 → 25');
  assert.equal(historyInfo(q).redo, 'Delete key frame 7');
  undo(q);
  assert.equal(q.settings().steps, 20);
  undo(q);
  assert.equal(q.getKeyframe(7), null);
  redo(q);
  assert.deepEqual(q.getKeyframe(7)?.image, pngBytes(7));
});

test('a failure in the middle of a step leaves nothing half-written', async (t) => {
  const { p } = create(t);
  recordEdit(p, 'Add key frame 3', { keyframes: [3] }, () => p.addKeyframe(3));
  const before = snapshot(p);
  assert.throws(() =>
    recordEdit(p, 'Broken', { keyframes: [3, 4], settings: true }, () => {
      p.addKeyframe(4);
      p.updateSettings({ steps: 44 });
      p.setKeyframeMask(3, pngBytes(5));
      throw new Error('boom');
    }),
  /boom/);
  assert.deepEqual(snapshot(p), before, 'key frames and settings (also the in-memory copy) are as before');
  assert.equal(historyInfo(p).undo, 'Add key frame 3');

  // An awaiting edit that fails after writing part of its change is put back too.
  await assert.rejects(
    recordEditAsync(p, 'Import image to 3', { keyframes: [3] }, async () => {
      p.setKeyframeImage(3, pngBytes(6), 'edited', null);
      await new Promise((r) => setTimeout(r, 5));
      p.setKeyframeMask(3, new Uint8Array([1, 2, 3])); // not a PNG: throws
    }),
    /not a PNG/,
  );
  assert.deepEqual(snapshot(p), before);
  assert.equal(historyInfo(p).steps.length, 1);
  // And a good one is recorded.
  await recordEditAsync(p, 'Import image to 3', { keyframes: [3] }, async () => p.setKeyframeImage(3, pngBytes(6), 'edited', null));
  assert.equal(historyInfo(p).undo, 'Import image to 3');
});

test('translations are job results: undo restores the inputs, the hash judges the translation', (t) => {
  const { p } = create(t);
  const h1 = paramsHash({ prompt: 'a' });
  const h2 = paramsHash({ prompt: 'b' });
  const current = { hash: h1 };
  const state = (f: number) => p.listKeyframes(current.hash).find((k) => k.frame === f)?.state;
  recordEdit(p, 'Add key frame 5', { keyframes: [5] }, () => p.addKeyframe(5));
  recordEdit(p, 'Change prompt of 5', { keyframes: [5] }, () => p.setKeyframePrompt(5, 'b'));
  // A job translates frame 5 with the new prompt.
  p.setKeyframeImage(5, pngBytes(50), 'translated', h2);
  current.hash = h2;
  assert.equal(state(5), 'translated');
  undo(p); // the prompt goes back; the translation stays, and is stale against the old prompt
  current.hash = h1;
  assert.equal(p.getKeyframe(5)?.prompt, null);
  assert.deepEqual(p.getKeyframe(5)?.image, pngBytes(50));
  assert.equal(state(5), 'stale');
  redo(p);
  current.hash = h2;
  assert.equal(state(5), 'translated');

  // Clearing a translation is an edit: undo brings it back with the hash it was made with.
  recordEdit(p, 'Clear image of 5', { keyframes: [5] }, () => p.clearKeyframeImage(5));
  assert.equal(state(5), 'none');
  undo(p);
  assert.deepEqual(p.getKeyframe(5)?.image, pngBytes(50));
  assert.equal(state(5), 'translated');
});

test('mask strokes of one session merge into one step; back to the start, the step goes', (t) => {
  const { p } = create(t);
  recordEdit(p, 'Add key frame 8', { keyframes: [8] }, () => p.addKeyframe(8));
  for (const seed of [1, 2, 3]) recordEdit(p, 'Paint mask on 8', { keyframes: [8] }, () => p.setKeyframeMask(8, pngBytes(seed)), { merge: 'mask:8' });
  assert.deepEqual(historyInfo(p).steps.map((s) => s.label), ['Add key frame 8', 'Paint mask on 8']);
  undo(p);
  assert.equal(p.getKeyframe(8)?.mask, null, 'the whole session is undone at once');
  redo(p);
  assert.deepEqual(p.getKeyframe(8)?.mask, pngBytes(3));
  // The painter undoing its strokes back to the empty mask: the step had no net change left.
  recordEdit(p, 'Paint mask on 8', { keyframes: [8] }, () => p.setKeyframeMask(8, null), { merge: 'mask:8' });
  assert.deepEqual(historyInfo(p).steps.map((s) => s.label), ['Add key frame 8']);
  // Another edit in between starts a new step.
  recordEdit(p, 'Paint mask on 8', { keyframes: [8] }, () => p.setKeyframeMask(8, pngBytes(4)), { merge: 'mask:8' });
  recordEdit(p, 'Change prompt of 8', { keyframes: [8] }, () => p.setKeyframePrompt(8, 'x'));
  recordEdit(p, 'Paint mask on 8', { keyframes: [8] }, () => p.setKeyframeMask(8, pngBytes(5)), { merge: 'mask:8' });
  assert.equal(historyInfo(p).steps.length, 4);
  // So does an undo: the next stroke is a new step, not part of the undone one's session.
  recordEdit(p, 'Change prompt of 8', { keyframes: [8] }, () => p.setKeyframePrompt(8, 'y'));
  undo(p);
  recordEdit(p, 'Paint mask on 8', { keyframes: [8] }, () => p.setKeyframeMask(8, pngBytes(6)), { merge: 'mask:8' });
  assert.equal(historyInfo(p).steps.length, 5);
  undo(p);
  assert.deepEqual(p.getKeyframe(8)?.mask, pngBytes(5));
});

test('a project file from before the history (schema v4) is migrated and gets one', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'v4.rrproj');
  const init = initFor(makeVideo(dir), 50);
  const db = new Database(file);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma('journal_mode = WAL');
  for (const m of migrations.filter((x) => x.version <= 4)) m.up(db);
  db.pragma('user_version = 4');
  db.prepare("INSERT INTO settings (id, json, updated_at) VALUES (1, '{}', '2025-01-01T00:00:00.000Z')").run();
  db.prepare('INSERT INTO source (id, path, size, mtime_ms, sha256, probe, working) VALUES (1, ?, ?, ?, ?, ?, ?)').run(
    init.source.path, init.source.size, init.source.mtimeMs, init.source.sha256, JSON.stringify(init.probe), JSON.stringify(init.working),
  );
  db.prepare("INSERT INTO keyframes (frame, image, origin, updated_at) VALUES (9, ?, 'edited', '2025-01-01T00:00:00.000Z')").run(pngBytes(9));
  db.close();

  const p = Project.open(file);
  t.after(() => p.close());
  assert.equal(p.schemaVersion, 5);
  assert.deepEqual(historyInfo(p), { steps: [], position: 0, undo: null, redo: null });
  recordEdit(p, 'Delete key frame 9', { keyframes: [9] }, () => p.removeKeyframe(9));
  undo(p);
  assert.deepEqual(p.getKeyframe(9)?.image, pngBytes(9));
});

test('a read-only handle reads the history but cannot change it', (t) => {
  const { p, file } = create(t);
  recordEdit(p, 'Add key frame 1', { keyframes: [1] }, () => p.addKeyframe(1));
  p.close();
  const r = Project.openReadOnly(file);
  t.after(() => r.close());
  assert.equal(historyInfo(r).undo, 'Add key frame 1');
  assert.throws(() => undo(r), /read-only/);
});

test('settings steps are named in plain words', (t) => {
  assert.equal(settingsChangeLabel({ steps: 20 }, { steps: 30 }), 'Change steps 20 → 30');
  assert.equal(settingsChangeLabel({ prompt: 'a' }, { prompt: 'b' }), 'Change prompt');
  assert.equal(settingsChangeLabel({ negativePrompt: 'a' }, { negativePrompt: 'b' }), 'Change negative prompt');
  assert.equal(settingsChangeLabel({ propagation: { extraPass3x3: false } }, { propagation: { extraPass3x3: true } }), 'Change extra pass 3x3 off → on');
  assert.equal(settingsChangeLabel({ propagation: { seed: 1 } }, { propagation: { seed: 2 } }), 'Change propagation seed 1 → 2');
  assert.equal(settingsChangeLabel({ model: null }, { model: '/models/sd.safetensors' }), 'Change model');
  assert.equal(settingsChangeLabel({ steps: 1, seed: 1 }, { steps: 2, seed: 2 }), 'Change steps and seed');
  assert.equal(settingsChangeLabel({ a: 1, b: 1, c: 1 }, { a: 2, b: 2, c: 2 }), 'Change 3 settings');
  // The host's labeller reads the captured settings.
  const { p } = create(t);
  recordEdit(p, settingsLabel, { settings: true }, () => p.updateSettings({ guidance: 9 }));
  assert.equal(historyInfo(p).undo, 'Change guidance 7.5 → 9');
});

test('rerender undo / redo work on the same history', async (t) => {
  const { runCli } = await import('../cli/run-cli.ts');
  const { p, file } = create(t);
  recordEdit(p, 'Add key frame 2', { keyframes: [2] }, () => p.addKeyframe(2));
  recordEdit(p, 'Change steps 20 → 22', { settings: true }, () => p.updateSettings({ steps: 22 }));
  p.close();
  const undone = await runCli(['undo', file]);
  assert.equal(undone.code, 0, undone.stderr);
  assert.match(undone.stdout, /undid: Change steps 20 → 22/);
  const listed = await runCli(['redo', file, '--list']);
  assert.match(listed.stdout, /✓ Add key frame 2\n· Change steps 20 → 22/);
  const q = Project.open(file);
  assert.equal(q.settings().steps, 20);
  assert.equal(historyInfo(q).redo, 'Change steps 20 → 22');
  q.close();
  assert.equal((await runCli(['redo', file])).code, 0);
  assert.match((await runCli(['redo', file])).stdout, /nothing to redo/);
});
