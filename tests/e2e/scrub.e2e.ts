// Instant scrubbing, end to end in browser mode: a new project makes its working-size proxy in
// the background (its progress shown by the viewer) while the viewer works from direct decoding;
// once made, source frames come from the proxy (JPEG slices, checked against an independent
// ffmpeg decode), a drag shows the positions it passes as their pictures land, and playback shows
// exactly the frame the readout says. The proxy pass is slowed to the clip's own rate (an ffmpeg
// wrapper through RERENDER_FFMPEG) so its progress can be seen. Screenshots: test-artifacts/e2e/scrub-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { JobInfo } from '../../src-main/api/contract.ts';
import type { ApiHost } from '../../src-main/api/host.ts';
import type { RunningServer } from '../../src-main/serve/server.ts';
import {
  ARTIFACTS, START_SAMPLING_SCRIPT, STOP_SAMPLING_SCRIPT, decodeFrameRgb, ensureRendererBuilt, httpGet, makeClip, meanAbsDiff, openEditorSession, viewerPixelsScript, type EditorSession, type PlaybackSample, waitFor, screenshot, frameShown, closeClipSession, checkPlaybackToEnd, clickTimelineAt, timelineGeometry, createProjectInPage,
} from './support.ts';

const W = 128;
const H = 64;
const FRAMES = 48;

let tmp = '';
let clip = '';
let host: ApiHost;
let server: RunningServer;
let session: EditorSession | undefined;
let page: Page;

const shot = (name: string): Promise<void> => screenshot(page, `scrub-${name}`);

const shownFrame = (): Promise<number> => frameShown(page);

async function proxyJob(): Promise<JobInfo | undefined> {
  return (await host.api.listJobs()).find((j) => j.kind === 'proxy');
}

const clickTimeline = (frame: number): Promise<void> => clickTimelineAt(page, frame);

/** The viewer shows frame `n`, and its pixels are frame n's (within JPEG's error), closer than its neighbours'. */
async function viewerShowsFrame(n: number): Promise<void> {
  const shown = (await page.evaluate(viewerPixelsScript(n))) as { width: number; height: number; src: string; b64: string };
  assert.match(shown.src, new RegExp(`frame/source/${n}\\.png`));
  assert.deepEqual([shown.width, shown.height], [W, H]);
  const pixels = new Uint8Array(Buffer.from(shown.b64, 'base64'));
  const d = meanAbsDiff(pixels, decodeFrameRgb(clip, n, W, H));
  assert.ok(d < 3, `the shown image is frame ${n} (mean abs diff ${d.toFixed(2)})`);
  for (const m of [n - 1, n + 1]) {
    if (m >= 0 && m < FRAMES) assert.ok(d < meanAbsDiff(pixels, decodeFrameRgb(clip, m, W, H)), `frame ${n} matches better than frame ${m}`);
  }
}

before(async () => {
  ensureRendererBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rr-e2e-scrub-'));
  clip = path.join(tmp, 'clip.mp4');
  makeClip(clip, { width: W, height: H, rate: 24, frames: FRAMES });
  // The proxy pass (the only ffmpeg run with -q:v) reads its input at half the clip's rate: 4 s.
  const wrapper = path.join(tmp, 'ffmpeg-slow-proxy');
  const ffmpeg = execFileSync('which', ['ffmpeg']).toString().trim();
  writeFileSync(wrapper, [
    '#!/bin/bash',
    'args=(); slow=0',
    'for a in "$@"; do [ "$a" = "-q:v" ] && slow=1; done',
    'for a in "$@"; do if [ $slow = 1 ] && [ "$a" = "-i" ]; then args+=(-readrate 0.5); fi; args+=("$a"); done',
    `exec ${ffmpeg} "\${args[@]}"`,
    '',
  ].join('\n'));
  chmodSync(wrapper, 0o755);
  const ffprobe = execFileSync('which', ['ffprobe']).toString().trim();
  session = await openEditorSession({
    dataDir: path.join(tmp, 'data'),
    profileDir: path.join(tmp, 'chromium-profile'),
    env: { ...process.env, RERENDER_FFMPEG: wrapper, RERENDER_FFPROBE: ffprobe },
  });
  ({ host, server, page } = session);
});

after(() => closeClipSession({ tmp, session }));

test('while the fast preview is made, its progress shows and the viewer decodes frames directly', async () => {
  await page.goto(server.url);
  await createProjectInPage(page, clip, path.join(tmp, 'clip.rrproj'), H);

  const indicator = page.getByTestId('preparing-preview');
  await indicator.waitFor({ timeout: 20_000 });
  await waitFor('some progress', async () => ((await proxyJob())?.done ?? 0) > 0);
  assert.match((await indicator.textContent()) ?? '', /^Preparing fast preview \d{1,2}%$/);
  await shot('preparing');
  // Meanwhile (the pass takes 4 s) the viewer decodes directly: a click shows the exact frame.
  await clickTimeline(10);
  assert.equal(await shownFrame(), 10);
  await viewerShowsFrame(10);
});

test('once made, source frames are slices of the proxy: JPEG, exact frame, no decode', async () => {
  await waitFor('the proxy job to finish', async () => (await proxyJob())?.status === 'done', 30_000);
  await page.getByTestId('preparing-preview').waitFor({ state: 'detached' });
  const p = await host.api.project();
  assert.ok(p);
  const root = `${p.path}.cache/proxy`;
  const keys = readdirSync(root);
  assert.equal(keys.length, 1);
  assert.deepEqual(readdirSync(path.join(root, keys[0]!)), ['s000000000.rrpx']);

  const r = await httpGet(`${server.url}media/frame/source/30.png?v=x`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'image/jpeg');
  assert.match(String(r.headers.etag), /^"sp-/);
  await clickTimeline(30);
  assert.equal(await shownFrame(), 30);
  await viewerShowsFrame(30);
  const strip = await httpGet(`${server.url}media/thumbnails.png`);
  assert.equal(strip.status, 200);
  await shot('ready');
});

test('a drag shows the positions it passes as their pictures land, and ends on the exact frame', async (t) => {
  const g = await timelineGeometry(page);
  const y = g.y + 50;
  const at = (f: number) => g.x + (f + 0.5) * g.px - g.scroll;
  await page.mouse.move(at(4), y);
  await page.evaluate(START_SAMPLING_SCRIPT);
  await page.mouse.down();
  for (let f = 5; f <= 40; f++) {
    await page.mouse.move(at(f), y);
    await new Promise((r) => setTimeout(r, 30));
  }
  await page.mouse.up();
  await viewerShowsFrame(40);
  const samples = (await page.evaluate(STOP_SAMPLING_SCRIPT)) as PlaybackSample[];
  const passed = new Set(samples.map((s) => s.shown).filter((f) => f >= 4 && f <= 40));
  const pictured = new Set(samples.map((s) => s.image).filter((f) => passed.has(f)));
  t.diagnostic(`the drag passed ${passed.size} positions and showed ${pictured.size} of their pictures`);
  assert.ok(passed.size >= 30, `the drag passed ${passed.size} positions`);
  // Functional, not a speed target (that is bench:editor's): intermediate pictures do show.
  assert.ok(pictured.size >= passed.size / 4, `pictures shown along the drag: ${pictured.size} of ${passed.size}`);
  // Every picture shown is what its data-frame says: a pending picture is an earlier position's.
  assert.ok(samples.every((s) => s.image < 0 || s.pending || s.image === s.shown));
  await shot('drag');
});

test('playback from the proxy: every picture is the frame the readout says, in order to the end', async (t) => {
  const { visited, stalls } = await checkPlaybackToEnd(page, FRAMES);
  t.diagnostic(`playback showed ${visited} of ${FRAMES} frames; ${stalls} wait(s) for a frame`);
  assert.ok(existsSync(`${(await host.api.project())!.path}.cache`));
});
