// The editor end to end, in browser mode against the real services host: create a project,
// scrub and check the shown frame's pixels against an independent ffmpeg decode, key frames,
// mask painting (checked through the media route), key-frame image import, propagation (or
// its disabled reason), cancelling a job, export (checked with ffprobe). Screenshots of each
// screen go to test-artifacts/e2e/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import type { BrowserContext, Page } from 'playwright-core';
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import { createApiHost, type ApiHost } from '../../src-main/api/host.ts';
import { startServer, type RunningServer } from '../../src-main/serve/server.ts';
import {
  ARTIFACTS, STATIC_DIR, decodeFrameRgb, ensureRendererBuilt, httpGet, launchBrowser, makeClip, makeEditedPng, meanAbsDiff, probe, viewerPixelsScript,
} from './support.ts';

// Small enough that propagating every frame stays well under a minute on two cores; both sides
// are multiples of 64, so the working size (snapped to 64) equals the source size.
const W = 128;
const H = 64;
const FRAMES = 16;

let tmp = '';
let clip = '';
let host: ApiHost;
let server: RunningServer;
let context: BrowserContext;
let page: Page;

async function project(): Promise<ProjectSummary> {
  const p = await host.api.project();
  assert.ok(p, 'a project is open');
  return p;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

async function frameShown(): Promise<number> {
  return Number(await page.getByTestId('frame-number').textContent());
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until both the services and the editor's key-frame list hold exactly `frames`. */
async function keyframesAre(frames: number[]): Promise<void> {
  const want = frames.join();
  await waitFor(`key frames ${want}`, async () => {
    const host = (await project()).keyframes.map((k) => k.frame).sort((a, b) => a - b).join();
    const ui = (await page.getByTestId('keyframe-list').locator('.kf-item > span:nth-child(2)').allTextContents()).map((t) => t.replace('Frame ', '')).join();
    return host === want && ui === want;
  });
}

/** Clicks the timeline at the centre of `frame`, from the geometry the component publishes. */
async function clickTimelineAt(frame: number): Promise<void> {
  const tl = page.getByTestId('timeline');
  const px = Number(await tl.getAttribute('data-px-per-frame'));
  const scroll = Number(await tl.getAttribute('data-scroll-x'));
  const box = await tl.boundingBox();
  assert.ok(box);
  await page.mouse.click(box.x + (frame + 0.5) * px - scroll, box.y + 50);
}

before(async () => {
  ensureRendererBuilt();
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rr-e2e-'));
  clip = path.join(tmp, 'clip.mp4');
  makeClip(clip, { width: W, height: H, rate: 24, frames: FRAMES });
  host = createApiHost({ dataDir: path.join(tmp, 'data'), env: process.env });
  server = await startServer({ port: 0, dataDir: path.join(tmp, 'data'), staticDir: STATIC_DIR, apiHost: host });
  context = await launchBrowser(path.join(tmp, 'chromium-profile'));
  page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err));
});

after(async () => {
  await context?.close();
  await server?.close();
  await host?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('create a project from a video', async () => {
  await page.goto(server.url);
  await page.locator('#video-path').fill(clip);
  await page.locator('#project-path').fill(path.join(tmp, 'clip.rrproj'));
  await page.locator('#short-side').fill(String(H));
  await shot('open-project');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByTestId('frame-number').waitFor({ timeout: 60_000 });
  const p = await project();
  assert.equal(p.source.frameCount, FRAMES);
  assert.deepEqual(p.source.fps, { num: 24, den: 1 });
  assert.deepEqual(p.working, { width: W, height: H });
  assert.equal(await frameShown(), 0);
});

test('scrub and step: the frame shown is the frame index shown', async () => {
  await clickTimelineAt(10);
  assert.equal(await frameShown(), 10);
  await page.keyboard.press('ArrowRight');
  assert.equal(await frameShown(), 11);
  await page.keyboard.press('Shift+ArrowRight');
  assert.equal(await frameShown(), FRAMES - 1, 'stepping stops at the last frame');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await frameShown(), FRAMES - 2);
  await page.keyboard.press('End');
  assert.equal(await frameShown(), FRAMES - 1);
  await page.keyboard.press('Home');
  assert.equal(await frameShown(), 0);
  await page.keyboard.press('Shift+ArrowLeft');
  assert.equal(await frameShown(), 0);

  // A drag scrubs through frames and lands where the mouse is released.
  const tl = page.getByTestId('timeline');
  const box = await tl.boundingBox();
  assert.ok(box);
  const px = Number(await tl.getAttribute('data-px-per-frame'));
  await page.mouse.move(box.x + 2.5 * px, box.y + 50);
  await page.mouse.down();
  await page.mouse.move(box.x + 5.5 * px, box.y + 50, { steps: 5 });
  await page.mouse.move(box.x + 7.5 * px, box.y + 50, { steps: 5 });
  await page.mouse.up();
  assert.equal(await frameShown(), 7);

  const shown = (await page.evaluate(viewerPixelsScript(7))) as { width: number; height: number; src: string; b64: string };
  assert.match(shown.src, /frame\/source\/7\.png/);
  assert.deepEqual([shown.width, shown.height], [W, H]);
  const pixels = new Uint8Array(Buffer.from(shown.b64, 'base64'));
  const d7 = meanAbsDiff(pixels, decodeFrameRgb(clip, 7, W, H));
  const d6 = meanAbsDiff(pixels, decodeFrameRgb(clip, 6, W, H));
  const d8 = meanAbsDiff(pixels, decodeFrameRgb(clip, 8, W, H));
  assert.ok(d7 < 3, `the shown image is frame 7 (mean abs diff ${d7.toFixed(2)})`);
  assert.ok(d7 < d6 && d7 < d8, `frame 7 matches better than its neighbours (${d7.toFixed(2)} vs ${d6.toFixed(2)}, ${d8.toFixed(2)})`);
  await shot('timeline');
});

test('key frames: add with K, jump with [ ], remove with Delete, move by dragging', async () => {
  await page.keyboard.press('k');
  await page.getByTestId('keyframe-detail').waitFor();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+ArrowLeft');
  assert.equal(await frameShown(), 5);
  await page.keyboard.press('k');
  await keyframesAre([5, 7]);
  await page.keyboard.press('Home');
  await page.keyboard.press('k');
  await keyframesAre([0, 5, 7]);

  await page.keyboard.press(']');
  assert.equal(await frameShown(), 5);
  await page.keyboard.press(']');
  assert.equal(await frameShown(), 7);
  await page.keyboard.press(']');
  assert.equal(await frameShown(), 7, 'no key frame after the last one');
  await page.keyboard.press('[');
  assert.equal(await frameShown(), 5);

  await page.keyboard.press('Home');
  await page.keyboard.press('Delete');
  await keyframesAre([5, 7]);

  // Drag the marker of frame 5 to frame 11.
  const tl = page.getByTestId('timeline');
  const px = Number(await tl.getAttribute('data-px-per-frame'));
  const box = await tl.boundingBox();
  assert.ok(box);
  const laneY = box.y + 22 + 54 + 12;
  await page.mouse.move(box.x + 5.5 * px, laneY);
  await page.mouse.down();
  await page.mouse.move(box.x + 8 * px, laneY, { steps: 4 });
  await page.mouse.move(box.x + 11.5 * px, laneY, { steps: 4 });
  await page.mouse.up();
  await keyframesAre([7, 11]);
  await waitFor('playhead follows the moved key frame', async () => (await frameShown()) === 11);
});

test('paint a mask on a key frame; undo / redo; the saved mask is a grey PNG at working size', async () => {
  await page.keyboard.press('[');
  assert.equal(await frameShown(), 7);
  await page.getByRole('tab', { name: 'Mask painter' }).click();
  const stage = page.getByTestId('mask-stage');
  await stage.waitFor();
  await page.getByLabel('Brush hardness').fill('100');
  await page.getByLabel('Brush size').fill('24');
  const box = await stage.boundingBox();
  assert.ok(box);
  // A horizontal stroke across the middle, from 30% to 70% of the width.
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.3, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, y, { steps: 8 });
  await page.mouse.move(box.x + box.width * 0.7, y, { steps: 8 });
  await page.mouse.up();
  await waitFor('mask saved', async () => (await project()).keyframes.find((k) => k.frame === 7)?.hasMask === true);
  await shot('mask-painter');

  const res = await httpGet(`${server.url}media/frame/mask/7.png`);
  assert.equal(res.status, 200);
  const png = decode(new Uint8Array(res.body));
  assert.deepEqual([png.width, png.height], [W, H]);
  const at = (x: number, yy: number) => png.data[(yy * png.width + x) * png.channels]!;
  assert.equal(at(W / 2, H / 2), 255, 'the stroke is painted');
  assert.equal(at(Math.round(W * 0.3) + 4, H / 2), 255, 'along its whole length');
  assert.equal(at(W / 2, H / 2 + 20), 0, 'beyond the brush radius nothing is painted');
  assert.equal(at(5, 5), 0);
  assert.equal(at(W - 5, H - 5), 0);

  await page.keyboard.press('Control+z');
  await waitFor('mask undone', async () => (await project()).keyframes.find((k) => k.frame === 7)?.hasMask === false);
  await page.keyboard.press('Control+Shift+z');
  await waitFor('mask redone', async () => (await project()).keyframes.find((k) => k.frame === 7)?.hasMask === true);
});

test('import an edited key-frame image', async () => {
  await page.getByRole('tab', { name: 'Preview' }).click();
  const edited = path.join(tmp, 'edited-7.png');
  makeEditedPng(clip, 7, W, H, edited);
  await page.getByTestId('keyframe-file').setInputFiles(edited);
  await waitFor('key frame 7 edited', async () => (await project()).keyframes.find((k) => k.frame === 7)?.state === 'edited');
  assert.equal(await page.getByTestId('keyframe-state').textContent(), 'Edited');
  const res = await httpGet(`${server.url}media/frame/keyframe/7.png`);
  assert.equal(res.status, 200);
  const png = decode(new Uint8Array(res.body));
  const source = decodeFrameRgb(clip, 7, W, H);
  // The stored image is the negative of the source frame.
  let diff = 0;
  for (let i = 0; i < W * H; i += 97) diff += Math.abs(png.data[i * png.channels]! - (255 - source[i * 3]!));
  assert.ok(diff / Math.ceil((W * H) / 97) < 6, 'the imported image is stored as given');
  await page.getByRole('combobox', { name: 'Show' }).selectOption('keyframe');
  await page.locator('img[data-testid="viewer-image"]').waitFor();
  await page.getByRole('radio', { name: 'Wipe' }).click();
  await page.getByRole('combobox', { name: 'Right' }).selectOption('source');
  await shot('preview');
  await page.getByRole('radio', { name: 'Single' }).click();
  await page.getByRole('combobox', { name: 'Show' }).selectOption('source');
});

test('cancel a running job from the jobs panel', async (t) => {
  const caps = await host.api.capabilities();
  if (!caps.propagate.available) {
    // Export, the other cancellable job, finishes a clip this short before a click can land.
    t.skip(`propagation unavailable (${caps.propagate.message ?? 'no reason given'}): no job runs long enough to cancel`);
    return;
  }
  await page.getByRole('button', { name: 'Propagate', exact: true }).click();
  const row = page.locator('[data-testid="job"][data-job-kind="propagate"][data-job-status="running"]');
  await row.waitFor({ timeout: 30_000 });
  await shot('job-running');
  await row.getByRole('button', { name: /^Cancel/ }).click();
  await waitFor('propagation cancelled', async () => (await host.api.listJobs()).some((j) => j.kind === 'propagate' && j.status === 'cancelled'));
  await page.locator('[data-testid="job"][data-job-kind="propagate"][data-job-status="cancelled"]').waitFor();
  assert.equal((await host.api.listJobs()).filter((j) => j.kind === 'propagate' && (j.status === 'running' || j.status === 'queued')).length, 0);
});

test('propagation runs to the end, or the button says why it cannot', async () => {
  const caps = await host.api.capabilities();
  const button = page.getByRole('button', { name: 'Propagate', exact: true });
  if (!caps.propagate.available) {
    assert.equal(await button.isDisabled(), true);
    const reason = await page.getByTestId('propagate-reason').textContent();
    assert.equal(reason, caps.propagate.message ?? 'Propagation is not available in this build.');
    await shot('propagate-unavailable');
    return;
  }
  await button.click();
  await waitFor('propagation done', async () => (await host.api.listJobs()).some((j) => j.kind === 'propagate' && j.status === 'done'), 300_000);
  const job = (await host.api.listJobs()).find((j) => j.kind === 'propagate' && j.status === 'done');
  assert.ok(job);
  assert.equal(job.done, job.total);
  const row = page.locator('[data-testid="job"][data-job-kind="propagate"][data-job-status="done"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('job-progress').textContent(), `${job.total}/${job.total}`);
  assert.equal((await project()).renderedFrames, FRAMES);
  // The output of the frame under the playhead is now shown next to the source.
  await page.getByRole('radio', { name: 'Side by side' }).click();
  await page.getByRole('combobox', { name: 'Right' }).selectOption('output');
  await page.locator('img[alt^="Output frame"]').waitFor();
  await shot('propagate-done');
  await page.getByRole('radio', { name: 'Single' }).click();
});

test('export the video: MP4 with every frame at the source rate, with audio', async () => {
  await waitFor('no job running', async () => (await host.api.listJobs()).every((j) => j.status !== 'running' && j.status !== 'queued'), 60_000);
  await page.keyboard.press('Control+e');
  const out = path.join(tmp, 'export.mp4');
  await page.locator('#export-path').fill(out);
  await page.locator('#export-crf').fill('23');
  assert.equal(await page.locator('#export-audio').isChecked(), true);
  await page.getByRole('dialog').getByRole('button', { name: 'Export', exact: true }).click();
  await page.getByTestId('reveal-file').waitFor({ timeout: 120_000 });
  await shot('export');
  const info = probe(out);
  assert.equal(info.frames, FRAMES);
  assert.equal(info.rate, '24/1');
  assert.deepEqual([info.width, info.height], [W, H]);
  assert.equal(info.audio, true);
  await page.getByTestId('reveal-file').click();
  await page.keyboard.press('Escape');
});

test('the help sheet lists the shortcuts', async () => {
  await page.keyboard.press('?');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
  await shot('help');
  await page.keyboard.press('Escape');
  assert.equal(await page.getByRole('dialog').count(), 0);
});
