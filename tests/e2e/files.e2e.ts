// Picking and dropping files, end to end in browser mode: create a project by browsing to the
// clip in the file-browser modal (mouse and keyboard), then by dropping the clip's bytes on the
// start screen (uploaded to the server, stored bytes checked); dropping on the editor asks
// first. Screenshots of the file browser, the drop overlay and the editor's question go to
// test-artifacts/e2e/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { clipSession } from './support.ts';

const W = 128;
const H = 64;
const FRAMES = 12;

// The file browser starts in the services' home folder: a small one made for this test.
const e2e = clipSession({
  name: 'files', shots: '', width: W, height: H, frames: FRAMES, file: 'home/videos/clip.mp4',
  env: (tmp) => {
    mkdirSync(path.join(tmp, 'home', 'Documents'));
    return { ...process.env, HOME: path.join(tmp, 'home') };
  },
});

const home = (): string => path.join(e2e.tmp, 'home');

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
  await e2e.page.getByTestId('frame-number').waitFor({ timeout: 60_000 });
  assert.match((await e2e.page.locator('.source-info').textContent()) ?? '', new RegExp(`· ${FRAMES} frames`));
  assert.equal((await e2e.project()).source.frameCount, FRAMES);
}

test('create a project by browsing to the clip in the file browser', async () => {
  await e2e.page.goto(e2e.server.url);
  await e2e.page.getByRole('button', { name: 'Browse for the video' }).click();
  const browser = e2e.page.getByTestId('file-browser');
  await browser.waitFor();
  await browser.locator('li[data-name="videos"]').dblclick();
  await browser.locator('li[data-name="clip.mp4"]').waitFor();
  assert.deepEqual(await browser.getByTestId('fb-crumbs').locator('button.link-inline').allTextContents(), ['/', ...home().split('/').filter(Boolean), 'videos']);
  await e2e.shot('file-browser');
  // Keyboard: Backspace goes up (selecting the folder we left), Enter goes back in, Enter chooses.
  await browser.getByTestId('fb-list').focus();
  await e2e.page.keyboard.press('Backspace');
  await browser.locator('li[data-name="videos"][aria-selected="true"]').waitFor();
  await e2e.page.keyboard.press('Enter');
  await browser.locator('li[data-name="clip.mp4"][aria-selected="true"]').waitFor();
  await e2e.page.keyboard.press('Enter');
  await browser.waitFor({ state: 'detached' });
  assert.equal(await e2e.page.locator('#video-path').inputValue(), e2e.clip);
  assert.equal(await e2e.page.locator('#project-path').inputValue(), path.join(home(), 'videos', 'clip.rrproj'));

  // Escape closes the browser without changing anything.
  await e2e.page.getByRole('button', { name: 'Browse for where to save the project' }).click();
  await browser.waitFor();
  assert.equal(await browser.locator('#fb-file-name').inputValue(), 'clip.rrproj');
  await e2e.page.keyboard.press('Escape');
  await browser.waitFor({ state: 'detached' });

  await e2e.page.locator('#short-side').fill(String(H));
  await e2e.page.getByRole('button', { name: 'Create project' }).click();
  await editorShowsFrames();
  assert.equal((await e2e.project()).source.path, e2e.clip);
});

test('dropping a video on the editor asks before making a new project', async () => {
  const b64 = readFileSync(e2e.clip).toString('base64');
  await e2e.page.evaluate(dragScript(b64, 'clip.mp4', ['dragenter', 'dragover']));
  await e2e.page.getByTestId('drop-overlay').waitFor();
  await e2e.page.evaluate(DROP_SCRIPT);
  const dialog = e2e.page.getByTestId('new-project-dialog');
  await dialog.waitFor({ timeout: 30_000 });
  assert.equal(await e2e.page.getByTestId('drop-overlay').count(), 0, 'the overlay goes when the file is dropped');
  await e2e.shot('drop-on-editor');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await e2e.project()).source.path, e2e.clip, 'the open project is untouched');
});

test('create a project by dropping the clip on the start screen (uploaded to the server)', async () => {
  await e2e.page.getByRole('button', { name: 'Close', exact: true }).click();
  await e2e.page.locator('#video-path').waitFor();
  const bytes = readFileSync(e2e.clip);
  await e2e.page.evaluate(dragScript(bytes.toString('base64'), 'clip.mp4', ['dragenter', 'dragover']));
  await e2e.page.getByTestId('drop-overlay').waitFor();
  await e2e.shot('drop-overlay');
  await e2e.page.evaluate(DROP_SCRIPT);
  await e2e.page.getByTestId('drop-notice').waitFor({ timeout: 30_000 });
  const stored = path.join(e2e.dataDir, 'uploads', 'clip (2).mp4');
  // The editor drop above uploaded clip.mp4 already; this one never overwrites it.
  assert.equal(await e2e.page.locator('#video-path').inputValue(), stored);
  assert.deepEqual(readFileSync(stored), bytes, 'the stored upload holds the dropped bytes');
  assert.equal(await e2e.page.locator('#project-path').inputValue(), path.join(e2e.dataDir, 'uploads', 'clip (2).rrproj'));
  await e2e.page.locator('#short-side').fill(String(H));
  await e2e.page.getByRole('button', { name: 'Create project' }).click();
  await editorShowsFrames();
  assert.equal((await e2e.project()).source.path, stored);
});
