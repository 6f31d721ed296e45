// Picking and dropping files, end to end in browser mode: create a project by browsing to the
// clip in the file-browser modal (mouse and keyboard), then by dropping the clip's bytes on the
// start screen (uploaded to the server, stored bytes checked); dropping on the editor asks
// first. Screenshots of the file browser, the drop overlay and the editor's question go to
// test-artifacts/e2e/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import type { ApiHost } from '../../src-main/api/host.ts';
import type { RunningServer } from '../../src-main/serve/server.ts';
import {
  ARTIFACTS, ensureRendererBuilt, makeClip, openEditorSession, type EditorSession, openProjectOf, screenshot, closeClipSession,
} from './support.ts';

const W = 128;
const H = 64;
const FRAMES = 12;

let tmp = '';
let home = '';
let dataDir = '';
let clip = '';
let host: ApiHost;
let server: RunningServer;
let session: EditorSession | undefined;
let page: Page;

const shot = (name: string): Promise<void> => screenshot(page, name);

const project = (): Promise<ProjectSummary> => openProjectOf(host);

/** Page-side: a DataTransfer holding the clip's bytes as a File, kept on window for the drop. */
function dragScript(b64: string, name: string, events: string[]): string {
  return `(() => {
    const bin = atob(${JSON.stringify(b64)});
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], ${JSON.stringify(name)}, { type: 'video/mp4' }));
    window.__dropData = dt;
    for (const type of ${JSON.stringify(events)}) {
      document.body.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
  })()`;
}
const DROP_SCRIPT = `document.body.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: window.__dropData }))`;

async function editorShowsFrames(): Promise<void> {
  await page.getByTestId('frame-number').waitFor({ timeout: 60_000 });
  assert.match((await page.locator('.source-info').textContent()) ?? '', new RegExp(`· ${FRAMES} frames`));
  assert.equal((await project()).source.frameCount, FRAMES);
}

before(async () => {
  ensureRendererBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rr-e2e-files-'));
  home = path.join(tmp, 'home');
  dataDir = path.join(tmp, 'data');
  mkdirSync(path.join(home, 'videos'), { recursive: true });
  mkdirSync(path.join(home, 'Documents'));
  clip = path.join(home, 'videos', 'clip.mp4');
  makeClip(clip, { width: W, height: H, rate: 24, frames: FRAMES });
  // The file browser starts in the services' home folder: a small one made for this test.
  session = await openEditorSession({ dataDir, profileDir: path.join(tmp, 'chromium-profile'), env: { ...process.env, HOME: home } });
  ({ host, server, page } = session);
});

after(() => closeClipSession({ tmp, session }));

test('create a project by browsing to the clip in the file browser', async () => {
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Browse for the video' }).click();
  const browser = page.getByTestId('file-browser');
  await browser.waitFor();
  await browser.locator('li[data-name="videos"]').dblclick();
  await browser.locator('li[data-name="clip.mp4"]').waitFor();
  assert.deepEqual(await browser.getByTestId('fb-crumbs').locator('button.link-inline').allTextContents(), ['/', ...home.split('/').filter(Boolean), 'videos']);
  await shot('file-browser');
  // Keyboard: Backspace goes up (selecting the folder we left), Enter goes back in, Enter chooses.
  await browser.getByTestId('fb-list').focus();
  await page.keyboard.press('Backspace');
  await browser.locator('li[data-name="videos"][aria-selected="true"]').waitFor();
  await page.keyboard.press('Enter');
  await browser.locator('li[data-name="clip.mp4"][aria-selected="true"]').waitFor();
  await page.keyboard.press('Enter');
  await browser.waitFor({ state: 'detached' });
  assert.equal(await page.locator('#video-path').inputValue(), clip);
  assert.equal(await page.locator('#project-path').inputValue(), path.join(home, 'videos', 'clip.rrproj'));

  // Escape closes the browser without changing anything.
  await page.getByRole('button', { name: 'Browse for where to save the project' }).click();
  await browser.waitFor();
  assert.equal(await browser.locator('#fb-file-name').inputValue(), 'clip.rrproj');
  await page.keyboard.press('Escape');
  await browser.waitFor({ state: 'detached' });

  await page.locator('#short-side').fill(String(H));
  await page.getByRole('button', { name: 'Create project' }).click();
  await editorShowsFrames();
  assert.equal((await project()).source.path, clip);
});

test('dropping a video on the editor asks before making a new project', async () => {
  const b64 = readFileSync(clip).toString('base64');
  await page.evaluate(dragScript(b64, 'clip.mp4', ['dragenter', 'dragover']));
  await page.getByTestId('drop-overlay').waitFor();
  await page.evaluate(DROP_SCRIPT);
  const dialog = page.getByTestId('new-project-dialog');
  await dialog.waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId('drop-overlay').count(), 0, 'the overlay goes when the file is dropped');
  await shot('drop-on-editor');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await project()).source.path, clip, 'the open project is untouched');
});

test('create a project by dropping the clip on the start screen (uploaded to the server)', async () => {
  await page.getByRole('button', { name: 'Close', exact: true }).click();
  await page.locator('#video-path').waitFor();
  const bytes = readFileSync(clip);
  await page.evaluate(dragScript(bytes.toString('base64'), 'clip.mp4', ['dragenter', 'dragover']));
  await page.getByTestId('drop-overlay').waitFor();
  await shot('drop-overlay');
  await page.evaluate(DROP_SCRIPT);
  await page.getByTestId('drop-notice').waitFor({ timeout: 30_000 });
  const stored = path.join(dataDir, 'uploads', 'clip (2).mp4');
  // The editor drop above uploaded clip.mp4 already; this one never overwrites it.
  assert.equal(await page.locator('#video-path').inputValue(), stored);
  assert.deepEqual(readFileSync(stored), bytes, 'the stored upload holds the dropped bytes');
  assert.equal(await page.locator('#project-path').inputValue(), path.join(dataDir, 'uploads', 'clip (2).rrproj'));
  await page.locator('#short-side').fill(String(H));
  await page.getByRole('button', { name: 'Create project' }).click();
  await editorShowsFrames();
  assert.equal((await project()).source.path, stored);
});
