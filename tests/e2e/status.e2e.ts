// Render status and getting the result out, in browser mode against the real services host: the
// timeline's band shows rendered / out of date / not rendered frames, the Output view marks an
// out-of-date frame, the export dialog warns and "Propagate first, then export" chains the two,
// and the finished MP4 plays inline and downloads through the token-protected route.
// Screenshots: test-artifacts/e2e/status-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { clipSession, httpGet, makeEditedPng, probe, waitFor } from './support.ts';

const W = 128;
const H = 64;
const FRAMES = 16;

const e2e = clipSession({ name: 'status', width: W, height: H, frames: FRAMES });

async function editedPng(frame: number, name: string): Promise<Uint8Array> {
  const file = path.join(e2e.tmp, `${name}.png`);
  makeEditedPng(e2e.clip, frame, W, H, file);
  return new Uint8Array(readFileSync(file));
}

async function propagate(frames?: [number, number]): Promise<void> {
  const job = await e2e.host.api.startJob(frames ? { kind: 'propagate', frames } : { kind: 'propagate' });
  await waitFor('the propagation', async () => (await e2e.host.api.listJobs()).find((j) => j.id === job.id)?.status === 'done', 120_000);
}

const bandOf = async (): Promise<string | null> => e2e.page.getByTestId('timeline').getAttribute('data-render-status');

test('the timeline shows which frames are rendered, out of date or not rendered', async (t) => {
  const caps = await e2e.host.api.capabilities();
  if (!caps.propagate.available) return t.skip(`propagation unavailable: ${caps.propagate.message ?? ''}`);
  // Set up through the services (the key-frame and propagation UIs have their own e2e files).
  await e2e.host.api.createProject({ videoPath: e2e.clip, projectPath: path.join(e2e.tmp, 'status.rrproj'), shortSide: H });
  for (const f of [0, 5, 10]) await e2e.host.api.importKeyframeImage(f, await editedPng(f, `k${f}`));
  await propagate([0, 12]);
  // Key frame 10 is repainted: frames 6-12, which depend on it, are out of date; 13-15 never were rendered.
  await e2e.host.api.importKeyframeImage(10, await editedPng(3, 'k10b'));
  const p = await e2e.project();
  assert.deepEqual(p.renderStatus?.counts, { rendered: 6, stale: 7, missing: 3, rendering: 0 });

  await e2e.page.goto(e2e.server.url);
  await e2e.page.getByTestId('frame-number').waitFor({ timeout: 30_000 });
  await waitFor('the band', async () => (await bandOf()) === '0-5:rendered 6-12:stale 13-15:missing');
  const legend = e2e.page.getByTestId('render-legend');
  assert.match((await legend.textContent()) ?? '', /Rendered 6.*Out of date 7.*Not rendered 3/);

  // The band's tooltip names the run under the pointer.
  const tl = e2e.page.getByTestId('timeline');
  const box = (await tl.boundingBox())!;
  const px = Number(await tl.getAttribute('data-px-per-frame'));
  await e2e.page.mouse.move(box.x + 8.5 * px, box.y + 22 + 48 + 3);
  await waitFor('the band tooltip', async () => ((await tl.getAttribute('title')) ?? '').startsWith('Frames 6–12: Out of date'));

  // The Output view marks an out-of-date frame.
  await e2e.page.mouse.click(box.x + 8.5 * px, box.y + 40);
  assert.equal(await e2e.page.getByTestId('frame-number').textContent(), '8');
  await e2e.page.getByRole('combobox', { name: 'Show' }).selectOption('output');
  await e2e.page.locator('img[alt^="Output frame"]').waitFor();
  assert.equal(await e2e.page.getByTestId('output-state').textContent(), 'Out of date');
  await e2e.shot('timeline');
  await e2e.page.mouse.click(box.x + 2.5 * px, box.y + 40);
  await waitFor('no badge on a fresh frame', async () => (await e2e.page.getByTestId('output-state').count()) === 0);
});

test('export warns, propagates first, then plays and downloads the result', async (t) => {
  const caps = await e2e.host.api.capabilities();
  if (!caps.propagate.available) return t.skip('propagation unavailable');
  await e2e.page.keyboard.press('Control+e');
  const dialog = e2e.page.getByRole('dialog');
  const warning = dialog.getByTestId('export-warning');
  await warning.waitFor();
  const text = (await warning.textContent()) ?? '';
  assert.match(text, /7 frames out of date/);
  assert.match(text, /3 frames not rendered yet/);
  assert.match(text, /Export anyway writes the old renders for the 7 frames out of date/);
  await e2e.shot('export-warning');

  const out = path.join(e2e.tmp, 'result.mp4');
  await e2e.page.locator('#export-path').fill(out);
  await e2e.page.locator('#export-crf').fill('30');
  await dialog.getByTestId('export-propagate-first').click();
  // The export waits for the propagation, then runs: both show, then the result.
  await dialog.getByTestId('export-download').waitFor({ timeout: 120_000 });
  const jobs = await e2e.host.api.listJobs();
  const exp = jobs.find((j) => j.kind === 'export' && j.status === 'done')!;
  assert.equal(jobs.filter((j) => j.kind === 'propagate' && j.status === 'done').length, 2, 'a second propagation ran first');
  assert.deepEqual((await e2e.project()).renderStatus?.counts, { rendered: FRAMES, stale: 0, missing: 0, rendering: 0 });
  await waitFor('the band all rendered', async () => (await bandOf()) === `0-${FRAMES - 1}:rendered`);

  // The inline player loads the video (it seeks with byte ranges).
  const video = dialog.getByTestId('export-player');
  await waitFor('the player to load', async () => video.evaluate((v) => (v as unknown as { readyState: number }).readyState >= 1), 20_000);
  const duration = await video.evaluate((v) => (v as unknown as { duration: number }).duration);
  assert.ok(Math.abs(duration - FRAMES / 24) < 0.1, `the player's video lasts ${duration} s`);
  // It plays to the end, and seeks back (byte ranges) to a frame in the middle.
  type Player = { muted: boolean; play(): Promise<void>; ended: boolean; currentTime: number; readyState: number; seeking: boolean };
  await video.evaluate((v) => {
    const p = v as unknown as Player;
    p.muted = true;
    return p.play();
  });
  await waitFor('the player to reach the end', async () => video.evaluate((v) => (v as unknown as Player).ended), 20_000);
  await video.evaluate((v) => void ((v as unknown as Player).currentTime = 0.3));
  await waitFor('the seek', async () => video.evaluate((v) => !(v as unknown as Player).seeking && (v as unknown as Player).readyState >= 2), 20_000);
  await e2e.shot('download');

  // The link: an attachment, with the file's bytes, only with the token (httpGet sends it; a bare request does not).
  const href = (await dialog.getByTestId('export-download').getAttribute('href'))!;
  assert.equal(href, `/exports/${exp.id}?download=1`);
  const got = await httpGet(new URL(href, e2e.server.url).toString());
  assert.equal(got.status, 200);
  assert.match(String(got.headers['content-disposition']), /^attachment; filename="result\.mp4"/);
  assert.deepEqual(got.body, readFileSync(out));
  const anon = await fetch(new URL(href, e2e.server.url));
  assert.equal(anon.status, 401);
  const info = probe(out);
  assert.equal(info.frames, FRAMES);
  assert.deepEqual([info.width, info.height], [W, H]);
  await e2e.page.keyboard.press('Escape');
});
