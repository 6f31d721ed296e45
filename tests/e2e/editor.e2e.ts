// The editor end to end, in browser mode against the real services host: create a project,
// scrub and check the shown frame's pixels against an independent ffmpeg decode, play back
// frame-accurately, key frames, mask painting (checked through the media route), key-frame image
// import, model settings, key-frame translation with the tiny random-weight models (or its
// disabled reason), propagation (or its disabled reason), cancelling a job, export (checked with
// ffprobe). Screenshots of each screen go to test-artifacts/e2e/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { decode } from 'fast-png';
import type { Page } from 'playwright-core';
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import type { ApiHost } from '../../src-main/api/host.ts';
import { artistReason } from '../../src-renderer/lib/model-settings.ts';
import type { RunningServer } from '../../src-main/serve/server.ts';
import {
  ROOT, checkPlaybackToEnd, decodeFrameRgb, httpGet, makeEditedPng, meanAbsDiff, probe, viewerPixelsScript, type EditorSession, waitFor, openProjectOf, screenshot, frameShown, openClipSession, closeClipSession, clickTimelineAt, fillNewProject,
} from './support.ts';

// Small enough that propagating every frame stays well under a minute on two cores; both sides
// are multiples of 64, so the working size (snapped to 64) equals the source size.
const W = 128;
const H = 64;
const FRAMES = 16;
// Random-weight models with the real architectures: noise-like images, but the whole path runs.
const TINY_SD = path.join(ROOT, 'tests', 'fixtures', 'engine', 'tiny-sd');
const TINY_CONTROLNET = path.join(ROOT, 'tests', 'fixtures', 'engine', 'tiny-controlnet');
const LORA = path.join(ROOT, 'tests', 'fixtures', 'engine', 'lora-peft.safetensors');

let tmp = '';
let clip = '';
let host: ApiHost;
let server: RunningServer;
let session: EditorSession | undefined;
let page: Page;

const project = (): Promise<ProjectSummary> => openProjectOf(host);

const shot = (name: string): Promise<void> => screenshot(page, name);

const shownFrame = (): Promise<number> => frameShown(page);

/** Waits until both the services and the editor's key-frame list hold exactly `frames`. */
async function keyframesAre(frames: number[]): Promise<void> {
  const want = frames.join();
  await waitFor(`key frames ${want}`, async () => {
    const host = (await project()).keyframes.map((k) => k.frame).sort((a, b) => a - b).join();
    const ui = (await page.getByTestId('keyframe-list').locator('.kf-item > span:nth-child(2)').allTextContents()).map((t) => t.replace('Frame ', '')).join();
    return host === want && ui === want;
  });
}

const clickTimeline = (frame: number): Promise<void> => clickTimelineAt(page, frame);

before(async () => {
  ({ tmp, clip, session } = await openClipSession('editor', { width: W, height: H, frames: FRAMES }));
  ({ host, server, page } = session);
});

after(() => closeClipSession({ tmp, session }));

test('create a project from a video', async () => {
  await page.goto(server.url);
  await fillNewProject(page, clip, path.join(tmp, 'clip.rrproj'), H);
  await shot('open-project');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByTestId('frame-number').waitFor({ timeout: 60_000 });
  const p = await project();
  assert.equal(p.source.frameCount, FRAMES);
  assert.deepEqual(p.source.fps, { num: 24, den: 1 });
  assert.deepEqual(p.working, { width: W, height: H });
  assert.equal(await shownFrame(), 0);
});

test('scrub and step: the frame shown is the frame index shown', async () => {
  await clickTimeline(10);
  assert.equal(await shownFrame(), 10);
  await page.keyboard.press('ArrowRight');
  assert.equal(await shownFrame(), 11);
  await page.keyboard.press('Shift+ArrowRight');
  assert.equal(await shownFrame(), FRAMES - 1, 'stepping stops at the last frame');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await shownFrame(), FRAMES - 2);
  await page.keyboard.press('End');
  assert.equal(await shownFrame(), FRAMES - 1);
  await page.keyboard.press('Home');
  assert.equal(await shownFrame(), 0);
  await page.keyboard.press('Shift+ArrowLeft');
  assert.equal(await shownFrame(), 0);

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
  assert.equal(await shownFrame(), 7);

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

test('playback: every picture shown is the frame number shown, in order to the end', async (t) => {
  const { visited, sampled, stalls } = await checkPlaybackToEnd(page, FRAMES);
  t.diagnostic(`playback showed ${visited} of ${FRAMES} frames over ${sampled} animation frames; ${stalls} wait(s) for a frame`);
  // Back where the key-frame test expects the playhead.
  await clickTimeline(7);
  assert.equal(await shownFrame(), 7);
});

test('key frames: add with K, jump with [ ], remove with Delete, move by dragging', async () => {
  await page.keyboard.press('k');
  await page.getByTestId('keyframe-detail').waitFor();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+ArrowLeft');
  assert.equal(await shownFrame(), 5);
  await page.keyboard.press('k');
  await keyframesAre([5, 7]);
  await page.keyboard.press('Home');
  await page.keyboard.press('k');
  await keyframesAre([0, 5, 7]);

  await page.keyboard.press(']');
  assert.equal(await shownFrame(), 5);
  await page.keyboard.press(']');
  assert.equal(await shownFrame(), 7);
  await page.keyboard.press(']');
  assert.equal(await shownFrame(), 7, 'no key frame after the last one');
  await page.keyboard.press('[');
  assert.equal(await shownFrame(), 5);

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
  await waitFor('playhead follows the moved key frame', async () => (await shownFrame()) === 11);
});

test('paint a mask on a key frame; undo / redo; the saved mask is a grey PNG at working size', async () => {
  await page.keyboard.press('[');
  assert.equal(await shownFrame(), 7);
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

/** Types into a field and leaves it (blur commits). */
async function fillAndLeave(selector: string, value: string): Promise<void> {
  await page.locator(selector).fill(value);
  await page.locator(selector).press('Tab');
}

/**
 * The model status is the services' reason as one short artist line, with the whole message (paths,
 * commands, links) behind its "details" toggle.
 */
async function statusShows(message: string): Promise<void> {
  const { line, details } = artistReason(message);
  const status = page.getByTestId('translate-status');
  await waitFor(`model status "${line}"`, async () => {
    if (details === null) return (await status.textContent()) === line;
    return (await status.locator('summary').textContent()) === line && (await page.getByTestId('translate-status-details').textContent()) === details;
  });
}

test('model settings: checkpoint, ControlNet, LoRA, edge thresholds, steps; checked, then saved in the project', async () => {
  // No models chosen yet: translation is off, and both buttons say exactly why the services say.
  const before = await host.api.capabilities();
  assert.equal(before.translate.available, false);
  const why = before.translate.message ?? 'The translation engine is not available.';
  await waitFor('translate reason shown', async () => (await page.getByTestId('translate-all-reason').textContent()) === why);
  assert.equal(await page.getByRole('button', { name: 'Translate all key frames' }).isDisabled(), true);
  await statusShows(why);

  const panel = page.getByTestId('model-settings');
  await panel.scrollIntoViewIfNeeded();
  await fillAndLeave('#model-checkpoint', 'models/tiny-sd');
  assert.match(await panel.locator('.field-error').first().textContent() ?? '', /^Checkpoint: give the full path/);
  assert.equal((await project()).settings.model, null, 'a bad path is not saved');
  await fillAndLeave('#model-checkpoint', TINY_SD);
  await fillAndLeave('#model-controlnet', TINY_CONTROLNET);
  await waitFor('model paths saved', async () => {
    const s = (await project()).settings;
    return s.model === TINY_SD && s.controlnetModel === TINY_CONTROLNET;
  });

  await fillAndLeave('#canny-low', '150');
  assert.equal(await panel.getByTestId('canny-settings').locator('.field-error').textContent(), 'Low threshold must not exceed the high threshold');
  await fillAndLeave('#canny-low', '60');
  await fillAndLeave('#canny-high', '140');
  await fillAndLeave('#controlnet-scale', '0.9');
  await waitFor('edge settings saved', async () => {
    const c = (await project()).settings.controlnet as Record<string, unknown>;
    return c.lowThreshold === 60 && c.highThreshold === 140 && c.scale === 0.9;
  });

  // A LoRA row: added, saved once valid, then removed again (the tiny models run without one).
  await panel.getByRole('button', { name: '+ Add LoRA' }).click();
  await page.getByLabel('LoRA 1 path').fill(LORA);
  await page.getByLabel('LoRA 1 weight').fill('0.5');
  await page.getByLabel('LoRA 1 weight').press('Tab');
  await waitFor('LoRA saved', async () => JSON.stringify((await project()).settings.loras) === JSON.stringify([{ path: LORA, weight: 0.5 }]));
  await shot('params-models-lora');
  await page.getByRole('button', { name: 'Remove LoRA 1' }).click();
  await waitFor('LoRA removed', async () => JSON.stringify((await project()).settings.loras) === '[]');

  // Few denoising steps keep the CPU run short.
  await fillAndLeave('#setting-steps', '4');
  await waitFor('steps saved', async () => (await project()).settings.steps === 4);

  // The engine's answer for these settings is what the panel shows.
  const caps = await host.api.capabilities();
  if (caps.translate.available) await waitFor('engine ready shown', async () => (await page.getByTestId('translate-status').textContent()) === '✓ Translation engine ready');
  else await statusShows(caps.translate.message ?? '');
  await panel.scrollIntoViewIfNeeded();
  await shot('params-models');
});

test('translate all key frames with the tiny models; markers turn translated, then stale on a prompt change', async (t) => {
  const caps = await host.api.capabilities();
  const all = page.getByRole('button', { name: 'Translate all key frames' });
  if (!caps.translate.available) {
    const message = caps.translate.message ?? 'The translation engine is not available.';
    await waitFor('translate reason shown', async () => (await page.getByTestId('translate-all-reason').textContent()) === message);
    assert.equal(await all.isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Translate', exact: true }).isDisabled(), true);
    assert.equal(await page.getByTestId('translate-reason').textContent(), `Translate unavailable: ${message}`);
    await shot('translate-unavailable');
    t.diagnostic(`translation unavailable: ${message}`);
    return;
  }
  await waitFor('Translate all enabled', async () => !(await all.isDisabled()));
  // Artist-edited key frames are kept (they guide the others); every other one gets translated.
  const before = (await project()).keyframes;
  const frames = before.map((k) => k.frame).sort((a, b) => a - b);
  const edited = new Set(before.filter((k) => k.state === 'edited').map((k) => k.frame));
  const expected = (f: number) => (edited.has(f) ? 'edited' : 'translated');
  const expectedMarkers = frames.map((f) => `${f}:${expected(f)}`).join(' ');
  assert.ok(frames.some((f) => !edited.has(f)), 'at least one key frame to translate');
  await all.click();
  const running = page.locator('[data-testid="job"][data-job-kind="translate"][data-job-status="running"]');
  await running.waitFor({ timeout: 60_000 });
  // Once the pipeline is loaded the row names the device it really runs on (the CPU here).
  await waitFor('device shown', async () => /^on cpu/i.test((await running.getByTestId('job-device').textContent().catch(() => '')) ?? ''), 120_000);
  await shot('translate-running');
  await waitFor('translation done', async () => (await host.api.listJobs()).some((j) => j.kind === 'translate' && j.status !== 'running' && j.status !== 'queued'), 300_000);
  const job = (await host.api.listJobs()).find((j) => j.kind === 'translate');
  assert.ok(job);
  assert.equal(job.status, 'done', `translate job ended ${job.status}: ${job.error ?? ''}`);
  assert.equal(job.done, job.total);
  const doneRow = page.locator('[data-testid="job"][data-job-kind="translate"][data-job-status="done"]');
  await doneRow.waitFor();
  assert.equal(await doneRow.getByTestId('job-progress').textContent(), `${job.total}/${job.total}`);
  t.diagnostic(`translate job: ${job.done}/${job.total} on ${job.device ?? '?'}; ${job.note ?? ''}`);

  // The project and both views of it agree: key-frame list and timeline markers.
  await waitFor('markers translated', async () => {
    const markers = await page.getByTestId('timeline').getAttribute('data-markers');
    const states = (await project()).keyframes.every((k) => k.state === expected(k.frame));
    return states && markers === expectedMarkers;
  });
  const labels = await page.getByTestId('keyframe-list').locator('.kf-item > span:nth-child(3)').allTextContents();
  assert.deepEqual(labels, frames.map((f) => (edited.has(f) ? 'Edited' : 'Translated')));
  for (const f of frames.filter((x) => !edited.has(x))) {
    const res = await httpGet(`${server.url}media/frame/keyframe/${f}.png`);
    assert.equal(res.status, 200);
    const png = decode(new Uint8Array(res.body));
    assert.deepEqual([png.width, png.height], [W, H], 'translated at the working size');
  }
  const last = frames.filter((f) => !edited.has(f)).at(-1)!;
  await page.getByTestId('keyframe-list').getByRole('button', { name: new RegExp(`Frame ${last}\\b`) }).click();
  assert.equal(await shownFrame(), last);
  await page.getByRole('combobox', { name: 'Show' }).selectOption('keyframe');
  await page.locator('img[alt^="Key frame frame"]').waitFor();
  await shot('translate-done');
  await page.getByRole('combobox', { name: 'Show' }).selectOption('source');

  // A prompt override on that key frame makes its translation stale; translating it alone (the
  // key-frame panel's button) makes it current again.
  await fillAndLeave('#keyframe-prompt', 'a watercolour fox');
  await waitFor('override stale', async () => (await project()).keyframes.find((k) => k.frame === last)?.state === 'stale');
  await waitFor('stale marker', async () => ((await page.getByTestId('timeline').getAttribute('data-markers')) ?? '').includes(`${last}:stale`));
  assert.equal(await page.getByTestId('keyframe-state').textContent(), 'Stale');
  await page.getByRole('button', { name: 'Translate', exact: true }).click();
  await waitFor('re-translated', async () => (await project()).keyframes.every((k) => k.state === expected(k.frame)), 300_000);
  await waitFor('marker translated', async () => (await page.getByTestId('timeline').getAttribute('data-markers')) === expectedMarkers);
  assert.equal(await page.getByTestId('keyframe-state').textContent(), 'Translated');
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
