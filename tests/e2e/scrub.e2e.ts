// Instant scrubbing, end to end in browser mode: a new project makes its working-size proxy in
// the background (its progress shown by the viewer) while the viewer works from direct decoding;
// once made, source frames come from the proxy (JPEG slices, checked against an independent
// ffmpeg decode), a drag shows the positions it passes as their pictures land, and playback shows
// exactly the frame the readout says. The proxy pass is slowed to the clip's own rate (an ffmpeg
// wrapper through RERENDER_FFMPEG) so its progress can be seen. Screenshots: test-artifacts/e2e/scrub-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { JobInfo } from '../../src-main/api/contract.ts';
import {
  START_SAMPLING_SCRIPT, STOP_SAMPLING_SCRIPT, checkPlaybackToEnd, clipSession, createProjectInPage, httpGet, timelineGeometry, viewerShowsSourceFrame, waitFor,
  type PlaybackSample,
} from './support.ts';

const W = 128;
const H = 64;
const FRAMES = 48;

/** An ffmpeg in `dir` that reads at half the clip's rate in the proxy pass (the only ffmpeg run with -q:v): 4 s. */
function slowProxyEnv(dir: string): Record<string, string | undefined> {
  const wrapper = path.join(dir, 'ffmpeg-slow-proxy');
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
  return { ...process.env, RERENDER_FFMPEG: wrapper, RERENDER_FFPROBE: ffprobe };
}

const e2e = clipSession({ name: 'scrub', width: W, height: H, frames: FRAMES, env: slowProxyEnv });

async function proxyJob(): Promise<JobInfo | undefined> {
  return (await e2e.host.api.listJobs()).find((j) => j.kind === 'proxy');
}

const viewerShowsFrame = (n: number): Promise<void> => viewerShowsSourceFrame(e2e.page, e2e.clip, n, { width: W, height: H, frames: FRAMES });

test('while the fast preview is made, its progress shows and the viewer decodes frames directly', async () => {
  await e2e.page.goto(e2e.server.url);
  await createProjectInPage(e2e.page, e2e.clip, path.join(e2e.tmp, 'clip.rrproj'), H);

  const indicator = e2e.page.getByTestId('preparing-preview');
  await indicator.waitFor({ timeout: 20_000 });
  await waitFor('some progress', async () => ((await proxyJob())?.done ?? 0) > 0);
  assert.match((await indicator.textContent()) ?? '', /^Preparing fast preview \d{1,2}%$/);
  await e2e.shot('preparing');
  // Meanwhile (the pass takes 4 s) the viewer decodes directly: a click shows the exact frame.
  await e2e.clickTimeline(10);
  assert.equal(await e2e.frameShown(), 10);
  await viewerShowsFrame(10);
});

test('once made, source frames are slices of the proxy: JPEG, exact frame, no decode', async () => {
  await waitFor('the proxy job to finish', async () => (await proxyJob())?.status === 'done', 30_000);
  await e2e.page.getByTestId('preparing-preview').waitFor({ state: 'detached' });
  const p = await e2e.host.api.project();
  assert.ok(p);
  const root = `${p.path}.cache/proxy`;
  const keys = readdirSync(root);
  assert.equal(keys.length, 1);
  assert.deepEqual(readdirSync(path.join(root, keys[0]!)), ['s000000000.rrpx']);

  const r = await httpGet(`${e2e.server.url}media/frame/source/30.png?v=x`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'image/jpeg');
  assert.match(String(r.headers.etag), /^"sp-/);
  await e2e.clickTimeline(30);
  assert.equal(await e2e.frameShown(), 30);
  await viewerShowsFrame(30);
  const strip = await httpGet(`${e2e.server.url}media/thumbnails.png`);
  assert.equal(strip.status, 200);
  await e2e.shot('ready');
});

test('a drag shows the positions it passes as their pictures land, and ends on the exact frame', async (t) => {
  const g = await timelineGeometry(e2e.page);
  const y = g.y + 50;
  const at = (f: number) => g.x + (f + 0.5) * g.px - g.scroll;
  await e2e.page.mouse.move(at(4), y);
  await e2e.page.evaluate(START_SAMPLING_SCRIPT);
  await e2e.page.mouse.down();
  for (let f = 5; f <= 40; f++) {
    await e2e.page.mouse.move(at(f), y);
    await new Promise((r) => setTimeout(r, 30));
  }
  await e2e.page.mouse.up();
  await viewerShowsFrame(40);
  const samples = (await e2e.page.evaluate(STOP_SAMPLING_SCRIPT)) as PlaybackSample[];
  const passed = new Set(samples.map((s) => s.shown).filter((f) => f >= 4 && f <= 40));
  const pictured = new Set(samples.map((s) => s.image).filter((f) => passed.has(f)));
  t.diagnostic(`the drag passed ${passed.size} positions and showed ${pictured.size} of their pictures`);
  assert.ok(passed.size >= 30, `the drag passed ${passed.size} positions`);
  // Functional, not a speed target (that is bench:editor's): intermediate pictures do show.
  assert.ok(pictured.size >= passed.size / 4, `pictures shown along the drag: ${pictured.size} of ${passed.size}`);
  // Every picture shown is what its data-frame says: a pending picture is an earlier position's.
  assert.ok(samples.every((s) => s.image < 0 || s.pending || s.image === s.shown));
  await e2e.shot('drag');
});

test('playback from the proxy: every picture is the frame the readout says, in order to the end', async (t) => {
  const { visited, stalls } = await checkPlaybackToEnd(e2e.page, FRAMES);
  t.diagnostic(`playback showed ${visited} of ${FRAMES} frames; ${stalls} wait(s) for a frame`);
  assert.ok(existsSync(`${(await e2e.host.api.project())!.path}.cache`));
});
