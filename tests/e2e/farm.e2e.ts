// Render on farm, end to end with real parts: a redis-server on a loopback port, one real worker
// process (the CLI's `rerender worker`), the services host in browser mode and Chromium. The
// artist opens the farm dialog, sees the worker in the workers list, submits Propagate, and the
// Jobs panel follows the farm job to the end while the timeline fills in as frames land.
// Screenshots: test-artifacts/e2e/farm-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { ApiHost } from '../../src-main/api/host.ts';
import { ARTIFACTS, ensureRendererBuilt, openEditorSession, openProjectOf, screenshot, waitFor, type EditorSession } from './support.ts';
import { makeProject, RedisServer, redisSkip, spawnWorker, type SpawnedWorker } from '../farm/helpers.ts';

const FRAMES = 12;
const WORKER = 'e2e-gpu1';

const skip = redisSkip;

let tmp = '';
let store = '';
let file = '';
let redis: RedisServer | undefined;
let worker: SpawnedWorker | undefined;
let session: EditorSession | undefined;
let host: ApiHost;
let page: Page;

const shot = (name: string): Promise<void> => screenshot(page, `farm-${name}`);

before(async () => {
  if (skip) return;
  ensureRendererBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rr-e2e-farm-'));
  store = path.join(tmp, 'store');
  // Three key frames with images: two intervals, two farm jobs.
  file = await makeProject(tmp, 'shot', { frames: FRAMES, keys: [0, 5, 11], pattern: 'testsrc2', hue: 200 });
  redis = await RedisServer.start(path.join(tmp, 'redis'));
  // A pause after each stored frame: the first interval lands while the second still renders.
  worker = spawnWorker(WORKER, redis.url, store, { RERENDER_FARM_FRAME_DELAY_MS: '150' });
  session = await openEditorSession({ dataDir: path.join(tmp, 'data'), profileDir: path.join(tmp, 'chromium-profile') });
  ({ host, page } = session);
  await page.setViewportSize({ width: 1280, height: 800 });
  await worker.ready;
});

after(async () => {
  await session?.close();
  await worker?.stop();
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('Render on farm: the workers list, the farm job in the Jobs panel, the renders in the project', { skip, timeout: 90_000 }, async () => {
  await host.api.openProject(file);
  await page.goto(session!.server.url);
  await page.getByTestId('frame-number').waitFor();
  const band = page.getByTestId('timeline');
  assert.equal(await band.getAttribute('data-render-status'), `0-${FRAMES - 1}:missing`);

  await page.getByTestId('render-on-farm').click();
  const dialog = page.getByTestId('farm-dialog');
  await dialog.waitFor();
  // The key frames have images: only propagation is needed, and it is ticked.
  assert.equal(await page.getByTestId('farm-stage-translate').isChecked(), false);
  assert.equal(await page.getByTestId('farm-stage-propagate').isChecked(), true);
  assert.equal(await page.getByTestId('farm-stage-export').isChecked(), false);
  await page.locator('#farm-redis').fill(redis!.url);
  await page.locator('#farm-store').fill(store);

  await page.getByTestId('farm-show-workers').click();
  const row = page.getByTestId('farm-worker');
  await row.first().waitFor({ timeout: 10_000 });
  assert.equal(await row.count(), 1);
  assert.equal(await page.getByTestId('farm-worker-name').textContent(), WORKER);
  const device = (await page.getByTestId('farm-worker-device').textContent()) ?? '';
  assert.match(device, /\S/, 'the worker says what it runs on');
  assert.equal(await row.getAttribute('data-alive'), 'true');
  assert.equal(await page.getByTestId('farm-worker-current').textContent(), 'idle');
  await shot('dialog-workers');

  await page.getByTestId('farm-submit').click();
  await dialog.waitFor({ state: 'detached' });
  const job = page.locator('[data-testid="job"][data-job-kind="farm"]');
  await job.waitFor();
  // The band as the farm's results land: some frames rendered while others are still to come.
  const bands = new Set<string>();
  let progress = '';
  await waitFor('the farm job to finish', async () => {
    bands.add((await band.getAttribute('data-render-status')) ?? '');
    const text = (await job.getByTestId('job-progress').textContent()) ?? '';
    if (/^[1-9]\d*\/12$/.test(text) && text !== '12/12' && progress === '') {
      progress = text;
      await shot('jobs-panel-running');
    }
    return (await job.getAttribute('data-job-status')) === 'done';
  }, 60_000, 50);
  assert.equal(await job.getByTestId('job-progress').textContent(), `${FRAMES}/${FRAMES}`);
  assert.match((await job.textContent()) ?? '', /12 frame\(s\) rendered on the farm/);
  assert.ok([...bands].some((b) => b.includes(':rendered') && b.includes(':missing')), `the timeline filled in as frames landed (saw ${[...bands].join(' | ')})`);

  const p = await openProjectOf(host);
  assert.equal(p.renderedFrames, FRAMES);
  assert.deepEqual(p.renderStatus?.counts, { rendered: FRAMES, stale: 0, missing: 0, rendering: 0 });
  await waitFor('the band all rendered', async () => (await band.getAttribute('data-render-status')) === `0-${FRAMES - 1}:rendered`);
  await shot('jobs-panel-done');

  // The workers list from the Jobs panel; the connection was remembered, its address shown again.
  await page.getByTestId('farm-workers-button').click();
  await page.getByTestId('farm-worker').first().waitFor();
  assert.equal(await page.locator('#farm-redis').inputValue(), redis!.url);
  assert.equal(await page.getByTestId('farm-worker-name').textContent(), WORKER);
  await shot('workers-from-jobs');
  await page.getByTestId('farm-dialog').getByText('Close', { exact: true }).click();
  await page.getByTestId('farm-dialog').waitFor({ state: 'detached' });
});

test('Render on farm, export only: the video lands where the artist said', { skip, timeout: 60_000 }, async () => {
  await page.getByTestId('render-on-farm').click();
  const dialog = page.getByTestId('farm-dialog');
  await dialog.waitFor();
  // Everything is rendered now: the export is the only step asked for.
  await page.getByTestId('farm-stage-propagate').setChecked(false);
  await page.getByTestId('farm-stage-export').setChecked(true);
  // A folder that does not exist is said at once, in the dialog, before any farm work.
  const out = path.join(tmp, 'videos', 'shot-farm.mp4');
  await page.locator('#farm-export-path').fill(out);
  await page.getByTestId('farm-submit').click();
  await page.getByTestId('farm-problem').waitFor();
  assert.match((await page.getByTestId('farm-problem').textContent()) ?? '', /videos does not exist/);
  await shot('dialog-export');
  mkdirSync(path.dirname(out));
  await page.getByTestId('farm-submit').click();
  await dialog.waitFor({ state: 'detached' });
  const job = page.locator('[data-testid="job"][data-job-kind="farm"]').first();
  await waitFor('the farm export to end', async () => ['done', 'failed', 'cancelled'].includes((await job.getAttribute('data-job-status')) ?? ''), 45_000, 100);
  assert.equal(await job.getAttribute('data-job-status'), 'done', (await job.textContent()) ?? '');
  assert.ok(existsSync(out), `no video at ${out}`);
  const probe = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', out], { encoding: 'utf8' });
  assert.equal(Number(probe.trim()), FRAMES);
});
