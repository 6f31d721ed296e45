// Undo/redo end to end, in browser mode against the real services host: key-frame add, move,
// prompt, mask, settings and delete edits, each undone with Ctrl+Z and redone with Ctrl+Shift+Z /
// Ctrl+Y, the project checked through host.api at every step; the history still works after a page
// reload and after closing and reopening the project; Backspace deletes nothing; Ctrl+Z in a text
// field is the field's. Screenshots: test-artifacts/e2e/undo-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { clipSession, dragThrough, waitFor } from './support.ts';

const W = 128;
const H = 64;
const FRAMES = 16;

const e2e = clipSession({ name: 'undo', width: W, height: H, frames: FRAMES });

/** Where the project is saved (it is closed and reopened). */
const file = (): string => path.join(e2e.tmp, 'undo.rrproj');

/** What the edits change: key frames (with mask and prompt) and the steps setting. */
async function state(): Promise<string> {
  const p = await e2e.project();
  return JSON.stringify({ kf: p.keyframes.map((k) => [k.frame, k.hasMask, k.prompt]), steps: p.settings.steps });
}

async function goToFrame(f: number): Promise<void> {
  await e2e.page.keyboard.press('Home');
  for (let i = 0; i < f; i++) await e2e.page.keyboard.press('ArrowRight');
  assert.equal(await e2e.frameShown(), f);
}

/** Waits until the editor's Undo button offers `label` (the page has the services' latest history). */
async function undoOffers(label: string | null): Promise<void> {
  const want = label === null ? 'Nothing to undo' : `Undo: ${label} (Ctrl+Z)`;
  await waitFor(`Undo to offer "${want}"`, async () => (await e2e.page.getByTestId('undo-button').getAttribute('title')) === want);
}

/** The labels of the steps and the state after each (states[0]: before any). */
const labels: string[] = [];
const states: string[] = [];
async function stepDone(label: string): Promise<void> {
  await undoOffers(label);
  labels.push(label);
  states.push(await state());
}

test('edits of every kind, each one undo step', async () => {
  await e2e.host.api.createProject({ videoPath: e2e.clip, projectPath: file(), shortSide: H });
  await e2e.page.reload();
  await e2e.page.getByTestId('frame-number').waitFor({ timeout: 30_000 });
  await undoOffers(null);
  states.push(await state());

  await goToFrame(3);
  await e2e.page.keyboard.press('k');
  await stepDone('Add key frame 3');

  // The timeline's drag calls this request (editor.e2e.ts drags it); here straight through the services.
  await e2e.host.api.moveKeyframe(3, 9);
  await stepDone('Move key frame 3 → 9');

  await goToFrame(9);
  await e2e.page.locator('#keyframe-prompt').fill('a paper fox');
  // Ctrl+Z while typing is the text field's own: the project keeps its key frame where it is.
  await e2e.page.locator('#keyframe-prompt').press('Control+z');
  await e2e.page.locator('#keyframe-prompt').fill('a paper fox');
  await e2e.page.locator('#keyframe-prompt').press('Tab');
  await stepDone('Change prompt of 9');
  assert.deepEqual((await e2e.project()).keyframes.map((k) => k.frame), [9]);

  await e2e.page.getByRole('tab', { name: 'Mask painter' }).click();
  const stage = e2e.page.getByTestId('mask-stage');
  await stage.waitFor();
  const box = await stage.boundingBox();
  assert.ok(box);
  const y = box.y + box.height / 2;
  await dragThrough(e2e.page, [0.3, 0.7].map((f) => [box.x + box.width * f, y] as const), 8);
  await waitFor('mask saved', async () => (await e2e.project()).keyframes[0]?.hasMask === true);
  await stepDone('Paint mask on 9');
  await e2e.page.getByRole('tab', { name: 'Preview' }).click();

  await e2e.host.api.updateSettings({ steps: 30 });
  await stepDone('Change steps 20 → 30');

  await goToFrame(5);
  await e2e.page.keyboard.press('k');
  await stepDone('Add key frame 5');
  // Backspace deletes nothing; Delete asks nothing and is one step.
  await e2e.page.keyboard.press('Backspace');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual((await e2e.project()).keyframes.map((k) => k.frame), [5, 9], 'Backspace left the key frame');
  await e2e.page.keyboard.press('Delete');
  await stepDone('Delete key frame 5');
  assert.deepEqual((await e2e.project()).keyframes.map((k) => k.frame), [9]);
  assert.deepEqual((await e2e.project()).history?.steps.map((s) => s.label), labels);

  await e2e.page.getByTestId('history-toggle').click();
  await e2e.page.getByTestId('history-list').waitFor();
  await e2e.shot('history');
  await e2e.page.getByTestId('history-toggle').click();

  // The undo controls fit the top bar of a 1024 px window: one row with the other actions.
  await e2e.page.setViewportSize({ width: 1024, height: 700 });
  const undoBox = await e2e.page.getByTestId('undo-button').boundingBox();
  const closeBox = await e2e.page.getByRole('button', { name: 'Close', exact: true }).boundingBox();
  assert.ok(undoBox && closeBox);
  assert.ok(Math.abs(undoBox.y - closeBox.y) < 4 && closeBox.x + closeBox.width <= 1024, 'Undo, Redo, History and Close on one row');
  await e2e.shot('topbar-1024');
  await e2e.page.setViewportSize({ width: 1440, height: 900 });
});

test('Ctrl+Z undoes every step in turn, Ctrl+Shift+Z and Ctrl+Y redo them', async () => {
  for (let i = labels.length - 1; i >= 0; i--) {
    await undoOffers(labels[i]!);
    await e2e.page.keyboard.press('Control+z');
    await waitFor(`state before "${labels[i]}"`, async () => (await state()) === states[i]);
    await waitFor('the toast', async () => (await e2e.page.getByTestId('history-toast').textContent().catch(() => '')) === `Undid: ${labels[i]}`);
    if (i === labels.length - 1) await e2e.shot('toast');
  }
  await undoOffers(null);
  assert.equal((await e2e.project()).keyframes.length, 0);
  for (let i = 0; i < labels.length; i++) {
    await waitFor('Redo enabled', async () => (await e2e.page.getByTestId('redo-button').getAttribute('title')) === `Redo: ${labels[i]} (Ctrl+Shift+Z)`);
    await e2e.page.keyboard.press(i % 2 === 0 ? 'Control+Shift+z' : 'Control+y');
    await waitFor(`state after "${labels[i]}"`, async () => (await state()) === states[i + 1]);
  }
  await undoOffers(labels.at(-1)!);
});

test('the history survives a page reload and reopening the project', async () => {
  // Three undos: the move, prompt and mask remain.
  for (let i = 0; i < 3; i++) await e2e.page.keyboard.press('Control+z');
  await waitFor('three steps undone', async () => (await state()) === states[labels.length - 3]);

  await e2e.page.reload();
  await e2e.page.getByTestId('frame-number').waitFor({ timeout: 30_000 });
  await undoOffers(labels[labels.length - 4]!);
  await e2e.page.keyboard.press('Control+z');
  await waitFor('undo after reload', async () => (await state()) === states[labels.length - 4]);

  await e2e.host.api.closeProject();
  await e2e.host.api.openProject(file());
  await e2e.page.reload();
  await e2e.page.getByTestId('frame-number').waitFor({ timeout: 30_000 });
  await undoOffers(labels[labels.length - 5]!);
  await e2e.page.keyboard.press('Control+z');
  await waitFor('undo after reopening', async () => (await state()) === states[labels.length - 5]);
  await e2e.page.keyboard.press('Control+Shift+z');
  await waitFor('redo after reopening', async () => (await state()) === states[labels.length - 4]);

  // A click in the history list jumps there: back to just after "Add key frame 3".
  await e2e.page.getByTestId('history-toggle').click();
  await e2e.shot('history-reopened');
  await e2e.page.getByTestId('history-list').getByRole('button', { name: /^Add key frame 3/ }).click();
  await waitFor('jump to step 1', async () => (await state()) === states[1]);
  assert.equal((await e2e.project()).history?.position, 1);
});

test('in the mask painter Ctrl+Z takes back its own strokes first, then the project steps', async () => {
  // Just after "Paint mask on 9", on frame 9 in the painter: no strokes of its own yet.
  await e2e.page.keyboard.press('Escape');
  await e2e.host.api.historyGoTo(4);
  await waitFor('at step 4', async () => (await state()) === states[4]);
  await goToFrame(9);
  await e2e.page.getByRole('tab', { name: 'Mask painter' }).click();
  const stage = e2e.page.getByTestId('mask-stage');
  await stage.waitFor();
  await undoOffers('Paint mask on 9');
  await e2e.page.keyboard.press('Control+z');
  await waitFor('the project step undone', async () => (await state()) === states[3]);
  // The painter reloaded the (now empty) saved mask: a new stroke, then Ctrl+Z undoes the stroke only.
  const box = await stage.boundingBox();
  assert.ok(box);
  await dragThrough(e2e.page, [0.2, 0.5].map((f) => [box.x + box.width * f, box.y + box.height * 0.3] as const), 6);
  await waitFor('stroke saved', async () => (await e2e.project()).keyframes[0]?.hasMask === true);
  await undoOffers('Paint mask on 9');
  await e2e.page.keyboard.press('Control+z');
  await waitFor('stroke undone', async () => (await e2e.project()).keyframes[0]?.hasMask === false);
  assert.equal((await state()), states[3]);
  // The stroke and its undo left no step behind: the next Ctrl+Z is the project's again.
  await undoOffers('Change prompt of 9');
  await e2e.page.keyboard.press('Control+z');
  await waitFor('prompt undone', async () => (await state()) === states[2]);
  await e2e.shot('mask-painter');
});
