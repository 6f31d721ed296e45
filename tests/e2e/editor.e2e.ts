// The editor end to end, in browser mode against the real services host: create a project,
// scrub and check the shown frame's pixels against an independent ffmpeg decode, play back
// frame-accurately, key frames, mask painting (checked through the media route), key-frame image
// import, model settings, key-frame translation with the tiny random-weight models (or its
// disabled reason), propagation (or its disabled reason), cancelling a job, export (checked with
// ffprobe). Screenshots of each screen go to test-artifacts/e2e/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { decode } from 'fast-png';
import { artistReason } from '../../src-renderer/lib/model-settings.ts';
import {
  ROOT, checkPlaybackToEnd, clipSession, decodeFrameRgb, dragThrough, fillNewProject, httpGet, makeEditedPng, probe, viewerShowsSourceFrame, waitFor,
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

const e2e = clipSession({ name: 'editor', shots: '', width: W, height: H, frames: FRAMES });

/** Waits until both the services and the editor's key-frame list hold exactly `frames`. */
async function keyframesAre(frames: number[]): Promise<void> {
  const want = frames.join();
  await waitFor(`key frames ${want}`, async () => {
    const services = (await e2e.project()).keyframes.map((k) => k.frame).sort((a, b) => a - b).join();
    const ui = (await e2e.page.getByTestId('keyframe-list').locator('.kf-item > span:nth-child(2)').allTextContents()).map((t) => t.replace('Frame ', '')).join();
    return services === want && ui === want;
  });
}

test('create a project from a video', async () => {
  await e2e.page.goto(e2e.server.url);
  await fillNewProject(e2e.page, e2e.clip, path.join(e2e.tmp, 'clip.rrproj'), H);
  await e2e.shot('open-project');
  await e2e.page.getByRole('button', { name: 'Create project' }).click();
  await e2e.page.getByTestId('frame-number').waitFor({ timeout: 60_000 });
  const p = await e2e.project();
  assert.equal(p.source.frameCount, FRAMES);
  assert.deepEqual(p.source.fps, { num: 24, den: 1 });
  assert.deepEqual(p.working, { width: W, height: H });
  assert.equal(await e2e.frameShown(), 0);
});

test('scrub and step: the frame shown is the frame index shown', async () => {
  await e2e.clickTimeline(10);
  assert.equal(await e2e.frameShown(), 10);
  await e2e.page.keyboard.press('ArrowRight');
  assert.equal(await e2e.frameShown(), 11);
  await e2e.page.keyboard.press('Shift+ArrowRight');
  assert.equal(await e2e.frameShown(), FRAMES - 1, 'stepping stops at the last frame');
  await e2e.page.keyboard.press('ArrowLeft');
  assert.equal(await e2e.frameShown(), FRAMES - 2);
  await e2e.page.keyboard.press('End');
  assert.equal(await e2e.frameShown(), FRAMES - 1);
  await e2e.page.keyboard.press('Home');
  assert.equal(await e2e.frameShown(), 0);
  await e2e.page.keyboard.press('Shift+ArrowLeft');
  assert.equal(await e2e.frameShown(), 0);

  // A drag scrubs through frames and lands where the mouse is released.
  const tl = e2e.page.getByTestId('timeline');
  const box = await tl.boundingBox();
  assert.ok(box);
  const px = Number(await tl.getAttribute('data-px-per-frame'));
  await dragThrough(e2e.page, [2.5, 5.5, 7.5].map((f) => [box.x + f * px, box.y + 50] as const), 5);
  assert.equal(await e2e.frameShown(), 7);
  await viewerShowsSourceFrame(e2e.page, e2e.clip, 7, { width: W, height: H, frames: FRAMES });
  await e2e.shot('timeline');
});

test('playback: every picture shown is the frame number shown, in order to the end', async (t) => {
  const { visited, sampled, stalls } = await checkPlaybackToEnd(e2e.page, FRAMES);
  t.diagnostic(`playback showed ${visited} of ${FRAMES} frames over ${sampled} animation frames; ${stalls} wait(s) for a frame`);
  // Back where the key-frame test expects the playhead.
  await e2e.clickTimeline(7);
  assert.equal(await e2e.frameShown(), 7);
});

test('key frames: add with K, jump with [ ], remove with Delete, move by dragging', async () => {
  await e2e.page.keyboard.press('k');
  await e2e.page.getByTestId('keyframe-detail').waitFor();
  await e2e.page.keyboard.press('End');
  await e2e.page.keyboard.press('Shift+ArrowLeft');
  assert.equal(await e2e.frameShown(), 5);
  await e2e.page.keyboard.press('k');
  await keyframesAre([5, 7]);
  await e2e.page.keyboard.press('Home');
  await e2e.page.keyboard.press('k');
  await keyframesAre([0, 5, 7]);

  await e2e.page.keyboard.press(']');
  assert.equal(await e2e.frameShown(), 5);
  await e2e.page.keyboard.press(']');
  assert.equal(await e2e.frameShown(), 7);
  await e2e.page.keyboard.press(']');
  assert.equal(await e2e.frameShown(), 7, 'no key frame after the last one');
  await e2e.page.keyboard.press('[');
  assert.equal(await e2e.frameShown(), 5);

  await e2e.page.keyboard.press('Home');
  await e2e.page.keyboard.press('Delete');
  await keyframesAre([5, 7]);

  // Drag the marker of frame 5 to frame 11.
  const tl = e2e.page.getByTestId('timeline');
  const px = Number(await tl.getAttribute('data-px-per-frame'));
  const box = await tl.boundingBox();
  assert.ok(box);
  const laneY = box.y + 22 + 54 + 12;
  await dragThrough(e2e.page, [5.5, 8, 11.5].map((f) => [box.x + f * px, laneY] as const), 4);
  await keyframesAre([7, 11]);
  await waitFor('playhead follows the moved key frame', async () => (await e2e.frameShown()) === 11);
});

test('paint a mask on a key frame; undo / redo; the saved mask is a grey PNG at working size', async () => {
  await e2e.page.keyboard.press('[');
  assert.equal(await e2e.frameShown(), 7);
  await e2e.page.getByRole('tab', { name: 'Mask painter' }).click();
  const stage = e2e.page.getByTestId('mask-stage');
  await stage.waitFor();
  await e2e.page.getByLabel('Brush hardness').fill('100');
  await e2e.page.getByLabel('Brush size').fill('24');
  const box = await stage.boundingBox();
  assert.ok(box);
  // A horizontal stroke across the middle, from 30% to 70% of the width.
  const y = box.y + box.height / 2;
  await dragThrough(e2e.page, [0.3, 0.5, 0.7].map((f) => [box.x + box.width * f, y] as const), 8);
  await waitFor('mask saved', async () => (await e2e.project()).keyframes.find((k) => k.frame === 7)?.hasMask === true);
  await e2e.shot('mask-painter');

  const res = await httpGet(`${e2e.server.url}media/frame/mask/7.png`);
  assert.equal(res.status, 200);
  const png = decode(new Uint8Array(res.body));
  assert.deepEqual([png.width, png.height], [W, H]);
  const at = (x: number, yy: number) => png.data[(yy * png.width + x) * png.channels]!;
  assert.equal(at(W / 2, H / 2), 255, 'the stroke is painted');
  assert.equal(at(Math.round(W * 0.3) + 4, H / 2), 255, 'along its whole length');
  assert.equal(at(W / 2, H / 2 + 20), 0, 'beyond the brush radius nothing is painted');
  assert.equal(at(5, 5), 0);
  assert.equal(at(W - 5, H - 5), 0);

  await e2e.page.keyboard.press('Control+z');
  await waitFor('mask undone', async () => (await e2e.project()).keyframes.find((k) => k.frame === 7)?.hasMask === false);
  await e2e.page.keyboard.press('Control+Shift+z');
  await waitFor('mask redone', async () => (await e2e.project()).keyframes.find((k) => k.frame === 7)?.hasMask === true);
});

test('import an edited key-frame image', async () => {
  await e2e.page.getByRole('tab', { name: 'Preview' }).click();
  const edited = path.join(e2e.tmp, 'edited-7.png');
  makeEditedPng(e2e.clip, 7, W, H, edited);
  await e2e.page.getByTestId('keyframe-file').setInputFiles(edited);
  await waitFor('key frame 7 edited', async () => (await e2e.project()).keyframes.find((k) => k.frame === 7)?.state === 'edited');
  assert.equal(await e2e.page.getByTestId('keyframe-state').textContent(), 'Edited');
  const res = await httpGet(`${e2e.server.url}media/frame/keyframe/7.png`);
  assert.equal(res.status, 200);
  const png = decode(new Uint8Array(res.body));
  const source = decodeFrameRgb(e2e.clip, 7, W, H);
  // The stored image is the negative of the source frame.
  let diff = 0;
  for (let i = 0; i < W * H; i += 97) diff += Math.abs(png.data[i * png.channels]! - (255 - source[i * 3]!));
  assert.ok(diff / Math.ceil((W * H) / 97) < 6, 'the imported image is stored as given');
  await e2e.page.getByRole('combobox', { name: 'Show' }).selectOption('keyframe');
  await e2e.page.locator('img[data-testid="viewer-image"]').waitFor();
  await e2e.page.getByRole('radio', { name: 'Wipe' }).click();
  await e2e.page.getByRole('combobox', { name: 'Right' }).selectOption('source');
  await e2e.shot('preview');
  await e2e.page.getByRole('radio', { name: 'Single' }).click();
  await e2e.page.getByRole('combobox', { name: 'Show' }).selectOption('source');
});

/** Types into a field and leaves it (blur commits). */
async function fillAndLeave(selector: string, value: string): Promise<void> {
  await e2e.page.locator(selector).fill(value);
  await e2e.page.locator(selector).press('Tab');
}

/**
 * The model status is the services' reason as one short artist line, with the whole message (paths,
 * commands, links) behind its "details" toggle.
 */
async function statusShows(message: string): Promise<void> {
  const { line, details } = artistReason(message);
  const status = e2e.page.getByTestId('translate-status');
  await waitFor(`model status "${line}"`, async () => {
    if (details === null) return (await status.textContent()) === line;
    return (await status.locator('summary').textContent()) === line && (await e2e.page.getByTestId('translate-status-details').textContent()) === details;
  });
}

test('model settings: checkpoint, ControlNet, LoRA, edge thresholds, steps; checked, then saved in the project', async () => {
  // No models chosen yet: translation is off, and both buttons say exactly why the services say.
  const before = await e2e.host.api.capabilities();
  assert.equal(before.translate.available, false);
  const why = before.translate.message ?? 'The translation engine is not available.';
  await waitFor('translate reason shown', async () => (await e2e.page.getByTestId('translate-all-reason').textContent()) === why);
  assert.equal(await e2e.page.getByRole('button', { name: 'Translate all key frames' }).isDisabled(), true);
  await statusShows(why);

  const panel = e2e.page.getByTestId('model-settings');
  await panel.scrollIntoViewIfNeeded();
  await fillAndLeave('#model-checkpoint', 'models/tiny-sd');
  assert.match(await panel.locator('.field-error').first().textContent() ?? '', /^Checkpoint: give the full path/);
  assert.equal((await e2e.project()).settings.model, null, 'a bad path is not saved');
  await fillAndLeave('#model-checkpoint', TINY_SD);
  await fillAndLeave('#model-controlnet', TINY_CONTROLNET);
  await waitFor('model paths saved', async () => {
    const s = (await e2e.project()).settings;
    return s.model === TINY_SD && s.controlnetModel === TINY_CONTROLNET;
  });

  await fillAndLeave('#canny-low', '150');
  assert.equal(await panel.getByTestId('canny-settings').locator('.field-error').textContent(), 'Low threshold must not exceed the high threshold');
  await fillAndLeave('#canny-low', '60');
  await fillAndLeave('#canny-high', '140');
  await fillAndLeave('#controlnet-scale', '0.9');
  await waitFor('edge settings saved', async () => {
    const c = (await e2e.project()).settings.controlnet as Record<string, unknown>;
    return c.lowThreshold === 60 && c.highThreshold === 140 && c.scale === 0.9;
  });

  // A LoRA row: added, saved once valid, then removed again (the tiny models run without one).
  await panel.getByRole('button', { name: '+ Add LoRA' }).click();
  await e2e.page.getByLabel('LoRA 1 path').fill(LORA);
  await e2e.page.getByLabel('LoRA 1 weight').fill('0.5');
  await e2e.page.getByLabel('LoRA 1 weight').press('Tab');
  await waitFor('LoRA saved', async () => JSON.stringify((await e2e.project()).settings.loras) === JSON.stringify([{ path: LORA, weight: 0.5 }]));
  await e2e.shot('params-models-lora');
  await e2e.page.getByRole('button', { name: 'Remove LoRA 1' }).click();
  await waitFor('LoRA removed', async () => JSON.stringify((await e2e.project()).settings.loras) === '[]');

  // Few denoising steps keep the CPU run short.
  await fillAndLeave('#setting-steps', '4');
  await waitFor('steps saved', async () => (await e2e.project()).settings.steps === 4);

  // The engine's answer for these settings is what the panel shows.
  const caps = await e2e.host.api.capabilities();
  if (caps.translate.available) await waitFor('engine ready shown', async () => (await e2e.page.getByTestId('translate-status').textContent()) === '✓ Translation engine ready');
  else await statusShows(caps.translate.message ?? '');
  await panel.scrollIntoViewIfNeeded();
  await e2e.shot('params-models');
});

test('translate all key frames with the tiny models; markers turn translated, then stale on a prompt change', async (t) => {
  const caps = await e2e.host.api.capabilities();
  const all = e2e.page.getByRole('button', { name: 'Translate all key frames' });
  if (!caps.translate.available) {
    const message = caps.translate.message ?? 'The translation engine is not available.';
    await waitFor('translate reason shown', async () => (await e2e.page.getByTestId('translate-all-reason').textContent()) === message);
    assert.equal(await all.isDisabled(), true);
    assert.equal(await e2e.page.getByRole('button', { name: 'Translate', exact: true }).isDisabled(), true);
    assert.equal(await e2e.page.getByTestId('translate-reason').textContent(), `Translate unavailable: ${message}`);
    await e2e.shot('translate-unavailable');
    t.diagnostic(`translation unavailable: ${message}`);
    return;
  }
  await waitFor('Translate all enabled', async () => !(await all.isDisabled()));
  // Artist-edited key frames are kept (they guide the others); every other one gets translated.
  const before = (await e2e.project()).keyframes;
  const frames = before.map((k) => k.frame).sort((a, b) => a - b);
  const edited = new Set(before.filter((k) => k.state === 'edited').map((k) => k.frame));
  const expected = (f: number) => (edited.has(f) ? 'edited' : 'translated');
  const expectedMarkers = frames.map((f) => `${f}:${expected(f)}`).join(' ');
  assert.ok(frames.some((f) => !edited.has(f)), 'at least one key frame to translate');
  await all.click();
  const running = e2e.page.locator('[data-testid="job"][data-job-kind="translate"][data-job-status="running"]');
  await running.waitFor({ timeout: 60_000 });
  // Once the pipeline is loaded the row names the device it really runs on (the CPU here).
  await waitFor('device shown', async () => /^on cpu/i.test((await running.getByTestId('job-device').textContent().catch(() => '')) ?? ''), 120_000);
  await e2e.shot('translate-running');
  await waitFor('translation done', async () => (await e2e.host.api.listJobs()).some((j) => j.kind === 'translate' && j.status !== 'running' && j.status !== 'queued'), 300_000);
  const job = (await e2e.host.api.listJobs()).find((j) => j.kind === 'translate');
  assert.ok(job);
  assert.equal(job.status, 'done', `translate job ended ${job.status}: ${job.error ?? ''}`);
  assert.equal(job.done, job.total);
  const doneRow = e2e.page.locator('[data-testid="job"][data-job-kind="translate"][data-job-status="done"]');
  await doneRow.waitFor();
  assert.equal(await doneRow.getByTestId('job-progress').textContent(), `${job.total}/${job.total}`);
  t.diagnostic(`translate job: ${job.done}/${job.total} on ${job.device ?? '?'}; ${job.note ?? ''}`);

  // The project and both views of it agree: key-frame list and timeline markers.
  await waitFor('markers translated', async () => {
    const markers = await e2e.page.getByTestId('timeline').getAttribute('data-markers');
    const states = (await e2e.project()).keyframes.every((k) => k.state === expected(k.frame));
    return states && markers === expectedMarkers;
  });
  const labels = await e2e.page.getByTestId('keyframe-list').locator('.kf-item > span:nth-child(3)').allTextContents();
  assert.deepEqual(labels, frames.map((f) => (edited.has(f) ? 'Edited' : 'Translated')));
  for (const f of frames.filter((x) => !edited.has(x))) {
    const res = await httpGet(`${e2e.server.url}media/frame/keyframe/${f}.png`);
    assert.equal(res.status, 200);
    const png = decode(new Uint8Array(res.body));
    assert.deepEqual([png.width, png.height], [W, H], 'translated at the working size');
  }
  const last = frames.filter((f) => !edited.has(f)).at(-1)!;
  await e2e.page.getByTestId('keyframe-list').getByRole('button', { name: new RegExp(`Frame ${last}\\b`) }).click();
  assert.equal(await e2e.frameShown(), last);
  await e2e.page.getByRole('combobox', { name: 'Show' }).selectOption('keyframe');
  await e2e.page.locator('img[alt^="Key frame frame"]').waitFor();
  await e2e.shot('translate-done');
  await e2e.page.getByRole('combobox', { name: 'Show' }).selectOption('source');

  // A prompt override on that key frame makes its translation stale; translating it alone (the
  // key-frame panel's button) makes it current again.
  await fillAndLeave('#keyframe-prompt', 'a watercolour fox');
  await waitFor('override stale', async () => (await e2e.project()).keyframes.find((k) => k.frame === last)?.state === 'stale');
  await waitFor('stale marker', async () => ((await e2e.page.getByTestId('timeline').getAttribute('data-markers')) ?? '').includes(`${last}:stale`));
  assert.equal(await e2e.page.getByTestId('keyframe-state').textContent(), 'Stale');
  await e2e.page.getByRole('button', { name: 'Translate', exact: true }).click();
  await waitFor('re-translated', async () => (await e2e.project()).keyframes.every((k) => k.state === expected(k.frame)), 300_000);
  await waitFor('marker translated', async () => (await e2e.page.getByTestId('timeline').getAttribute('data-markers')) === expectedMarkers);
  assert.equal(await e2e.page.getByTestId('keyframe-state').textContent(), 'Translated');
});

test('cancel a running job from the jobs panel', async (t) => {
  const caps = await e2e.host.api.capabilities();
  if (!caps.propagate.available) {
    // Export, the other cancellable job, finishes a clip this short before a click can land.
    t.skip(`propagation unavailable (${caps.propagate.message ?? 'no reason given'}): no job runs long enough to cancel`);
    return;
  }
  await e2e.page.getByRole('button', { name: 'Propagate', exact: true }).click();
  const row = e2e.page.locator('[data-testid="job"][data-job-kind="propagate"][data-job-status="running"]');
  await row.waitFor({ timeout: 30_000 });
  await e2e.shot('job-running');
  await row.getByRole('button', { name: /^Cancel/ }).click();
  await waitFor('propagation cancelled', async () => (await e2e.host.api.listJobs()).some((j) => j.kind === 'propagate' && j.status === 'cancelled'));
  await e2e.page.locator('[data-testid="job"][data-job-kind="propagate"][data-job-status="cancelled"]').waitFor();
  assert.equal((await e2e.host.api.listJobs()).filter((j) => j.kind === 'propagate' && (j.status === 'running' || j.status === 'queued')).length, 0);
});

test('propagation runs to the end, or the button says why it cannot', async () => {
  const caps = await e2e.host.api.capabilities();
  const button = e2e.page.getByRole('button', { name: 'Propagate', exact: true });
  if (!caps.propagate.available) {
    assert.equal(await button.isDisabled(), true);
    const reason = await e2e.page.getByTestId('propagate-reason').textContent();
    assert.equal(reason, caps.propagate.message ?? 'Propagation is not available in this build.');
    await e2e.shot('propagate-unavailable');
    return;
  }
  await button.click();
  await waitFor('propagation done', async () => (await e2e.host.api.listJobs()).some((j) => j.kind === 'propagate' && j.status === 'done'), 300_000);
  const job = (await e2e.host.api.listJobs()).find((j) => j.kind === 'propagate' && j.status === 'done');
  assert.ok(job);
  assert.equal(job.done, job.total);
  const row = e2e.page.locator('[data-testid="job"][data-job-kind="propagate"][data-job-status="done"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('job-progress').textContent(), `${job.total}/${job.total}`);
  assert.equal((await e2e.project()).renderedFrames, FRAMES);
  // The output of the frame under the playhead is now shown next to the source.
  await e2e.page.getByRole('radio', { name: 'Side by side' }).click();
  await e2e.page.getByRole('combobox', { name: 'Right' }).selectOption('output');
  await e2e.page.locator('img[alt^="Output frame"]').waitFor();
  await e2e.shot('propagate-done');
  await e2e.page.getByRole('radio', { name: 'Single' }).click();
});

test('export the video: MP4 with every frame at the source rate, with audio', async () => {
  await waitFor('no job running', async () => (await e2e.host.api.listJobs()).every((j) => j.status !== 'running' && j.status !== 'queued'), 60_000);
  await e2e.page.keyboard.press('Control+e');
  const out = path.join(e2e.tmp, 'export.mp4');
  await e2e.page.locator('#export-path').fill(out);
  await e2e.page.locator('#export-crf').fill('23');
  assert.equal(await e2e.page.locator('#export-audio').isChecked(), true);
  await e2e.page.getByRole('dialog').getByRole('button', { name: 'Export', exact: true }).click();
  await e2e.page.getByTestId('reveal-file').waitFor({ timeout: 120_000 });
  await e2e.shot('export');
  const info = probe(out);
  assert.equal(info.frames, FRAMES);
  assert.equal(info.rate, '24/1');
  assert.deepEqual([info.width, info.height], [W, H]);
  assert.equal(info.audio, true);
  await e2e.page.getByTestId('reveal-file').click();
  await e2e.page.keyboard.press('Escape');
});

test('the help sheet lists the shortcuts', async () => {
  await e2e.page.keyboard.press('?');
  await e2e.page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
  await e2e.shot('help');
  await e2e.page.keyboard.press('Escape');
  assert.equal(await e2e.page.getByRole('dialog').count(), 0);
});
