// Undo/redo end to end, in browser mode against the real services host: key-frame add, move,
// prompt, mask, settings and delete edits, each undone with Ctrl+Z and redone with Ctrl+Shift+Z /
// Ctrl+Y, the project checked through host.api at every step; the history still works after a page
// reload and after closing and reopening the project; Backspace deletes nothing; Ctrl+Z in a text
// field is the field's. Screenshots: test-artifacts/e2e/undo-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import type { ApiHost } from '../../src-main/api/host.ts';
import { ARTIFACTS, type EditorSession, waitFor, openProjectOf, frameShown, openClipSession, closeClipSession } from './support.ts';

const W = 128;
const H = 64;
const FRAMES = 16;

let tmp = '';
let clip = '';
let file = '';
let host: ApiHost;
let session: EditorSession | undefined;
let page: Page;

const project = (): Promise<ProjectSummary> => openProjectOf(host);

/** What the edits change: key frames (with mask and prompt) and the steps setting. */
async function state(): Promise<string> {
  const p = await project();
  return JSON.stringify({ kf: p.keyframes.map((k) => [k.frame, k.hasMask, k.prompt]), steps: p.settings.steps });
}

const shownFrame = (): Promise<number> => frameShown(page);

async function goToFrame(f: number): Promise<void> {
  await page.keyboard.press('Home');
  for (let i = 0; i < f; i++) await page.keyboard.press('ArrowRight');
  assert.equal(await shownFrame(), f);
}

/** Waits until the editor's Undo button offers `label` (the page has the services' latest history). */
async function undoOffers(label: string | null): Promise<void> {
  const want = label === null ? 'Nothing to undo' : `Undo: ${label} (Ctrl+Z)`;
  await waitFor(`Undo to offer "${want}"`, async () => (await page.getByTestId('undo-button').getAttribute('title')) === want);
}

/** The labels of the steps and the state after each (states[0]: before any). */
const labels: string[] = [];
const states: string[] = [];
async function stepDone(label: string): Promise<void> {
  await undoOffers(label);
  labels.push(label);
  states.push(await state());
}

before(async () => {
  ({ tmp, clip, session } = await openClipSession('undo', { width: W, height: H, frames: FRAMES }));
  file = path.join(tmp, 'undo.rrproj');
  ({ host, page } = session);
});

after(() => closeClipSession({ tmp, session }));

test('edits of every kind, each one undo step', async () => {
  await host.api.createProject({ videoPath: clip, projectPath: file, shortSide: H });
  await page.reload();
  await page.getByTestId('frame-number').waitFor({ timeout: 30_000 });
  await undoOffers(null);
  states.push(await state());

  await goToFrame(3);
  await page.keyboard.press('k');
  await stepDone('Add key frame 3');

  // The timeline's drag calls this request (editor.e2e.ts drags it); here straight through the services.
  await host.api.moveKeyframe(3, 9);
  await stepDone('Move key frame 3 → 9');

  await goToFrame(9);
  await page.locator('#keyframe-prompt').fill('a paper fox');
  // Ctrl+Z while typing is the text field's own: the project keeps its key frame where it is.
  await page.locator('#keyframe-prompt').press('Control+z');
  await page.locator('#keyframe-prompt').fill('a paper fox');
  await page.locator('#keyframe-prompt').press('Tab');
  await stepDone('Change prompt of 9');
  assert.deepEqual((await project()).keyframes.map((k) => k.frame), [9]);

  await page.getByRole('tab', { name: 'Mask painter' }).click();
  const stage = page.getByTestId('mask-stage');
  await stage.waitFor();
  const box = await stage.boundingBox();
  assert.ok(box);
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.3, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.7, y, { steps: 8 });
  await page.mouse.up();
  await waitFor('mask saved', async () => (await project()).keyframes[0]?.hasMask === true);
  await stepDone('Paint mask on 9');
  await page.getByRole('tab', { name: 'Preview' }).click();

  await host.api.updateSettings({ steps: 30 });
  await stepDone('Change steps 20 → 30');

  await goToFrame(5);
  await page.keyboard.press('k');
  await stepDone('Add key frame 5');
  // Backspace deletes nothing; Delete asks nothing and is one step.
  await page.keyboard.press('Backspace');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual((await project()).keyframes.map((k) => k.frame), [5, 9], 'Backspace left the key frame');
  await page.keyboard.press('Delete');
  await stepDone('Delete key frame 5');
  assert.deepEqual((await project()).keyframes.map((k) => k.frame), [9]);
  assert.deepEqual((await project()).history?.steps.map((s) => s.label), labels);

  await page.getByTestId('history-toggle').click();
  await page.getByTestId('history-list').waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, 'undo-history.png') });
  await page.getByTestId('history-toggle').click();

  // The undo controls fit the top bar of a 1024 px window: one row with the other actions.
  await page.setViewportSize({ width: 1024, height: 700 });
  const undoBox = await page.getByTestId('undo-button').boundingBox();
  const closeBox = await page.getByRole('button', { name: 'Close', exact: true }).boundingBox();
  assert.ok(undoBox && closeBox);
  assert.ok(Math.abs(undoBox.y - closeBox.y) < 4 && closeBox.x + closeBox.width <= 1024, 'Undo, Redo, History and Close on one row');
  await page.screenshot({ path: path.join(ARTIFACTS, 'undo-topbar-1024.png') });
  await page.setViewportSize({ width: 1440, height: 900 });
});

test('Ctrl+Z undoes every step in turn, Ctrl+Shift+Z and Ctrl+Y redo them', async () => {
  for (let i = labels.length - 1; i >= 0; i--) {
    await undoOffers(labels[i]!);
    await page.keyboard.press('Control+z');
    await waitFor(`state before "${labels[i]}"`, async () => (await state()) === states[i]);
    await waitFor('the toast', async () => (await page.getByTestId('history-toast').textContent().catch(() => '')) === `Undid: ${labels[i]}`);
    if (i === labels.length - 1) await page.screenshot({ path: path.join(ARTIFACTS, 'undo-toast.png') });
  }
  await undoOffers(null);
  assert.equal((await project()).keyframes.length, 0);
  for (let i = 0; i < labels.length; i++) {
    await waitFor('Redo enabled', async () => (await page.getByTestId('redo-button').getAttribute('title')) === `Redo: ${labels[i]} (Ctrl+Shift+Z)`);
    await page.keyboard.press(i % 2 === 0 ? 'Control+Shift+z' : 'Control+y');
    await waitFor(`state after "${labels[i]}"`, async () => (await state()) === states[i + 1]);
  }
  await undoOffers(labels.at(-1)!);
});

test('the history survives a page reload and reopening the project', async () => {
  // Three undos: the move, prompt and mask remain.
  for (let i = 0; i < 3; i++) await page.keyboard.press('Control+z');
  await waitFor('three steps undone', async () => (await state()) === states[labels.length - 3]);

  await page.reload();
  await page.getByTestId('frame-number').waitFor({ timeout: 30_000 });
  await undoOffers(labels[labels.length - 4]!);
  await page.keyboard.press('Control+z');
  await waitFor('undo after reload', async () => (await state()) === states[labels.length - 4]);

  await host.api.closeProject();
  await host.api.openProject(file);
  await page.reload();
  await page.getByTestId('frame-number').waitFor({ timeout: 30_000 });
  await undoOffers(labels[labels.length - 5]!);
  await page.keyboard.press('Control+z');
  await waitFor('undo after reopening', async () => (await state()) === states[labels.length - 5]);
  await page.keyboard.press('Control+Shift+z');
  await waitFor('redo after reopening', async () => (await state()) === states[labels.length - 4]);

  // A click in the history list jumps there: back to just after "Add key frame 3".
  await page.getByTestId('history-toggle').click();
  await page.screenshot({ path: path.join(ARTIFACTS, 'undo-history-reopened.png') });
  await page.getByTestId('history-list').getByRole('button', { name: /^Add key frame 3/ }).click();
  await waitFor('jump to step 1', async () => (await state()) === states[1]);
  assert.equal((await project()).history?.position, 1);
});

test('in the mask painter Ctrl+Z takes back its own strokes first, then the project steps', async () => {
  // Just after "Paint mask on 9", on frame 9 in the painter: no strokes of its own yet.
  await page.keyboard.press('Escape');
  await host.api.historyGoTo(4);
  await waitFor('at step 4', async () => (await state()) === states[4]);
  await goToFrame(9);
  await page.getByRole('tab', { name: 'Mask painter' }).click();
  const stage = page.getByTestId('mask-stage');
  await stage.waitFor();
  await undoOffers('Paint mask on 9');
  await page.keyboard.press('Control+z');
  await waitFor('the project step undone', async () => (await state()) === states[3]);
  // The painter reloaded the (now empty) saved mask: a new stroke, then Ctrl+Z undoes the stroke only.
  const box = await stage.boundingBox();
  assert.ok(box);
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.3);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.3, { steps: 6 });
  await page.mouse.up();
  await waitFor('stroke saved', async () => (await project()).keyframes[0]?.hasMask === true);
  await undoOffers('Paint mask on 9');
  await page.keyboard.press('Control+z');
  await waitFor('stroke undone', async () => (await project()).keyframes[0]?.hasMask === false);
  assert.equal((await state()), states[3]);
  // The stroke and its undo left no step behind: the next Ctrl+Z is the project's again.
  await undoOffers('Change prompt of 9');
  await page.keyboard.press('Control+z');
  await waitFor('prompt undone', async () => (await state()) === states[2]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'undo-mask-painter.png') });
});
