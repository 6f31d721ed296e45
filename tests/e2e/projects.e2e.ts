// Pictures of the right project: three projects made from three different clips are opened in
// turn in one page, each left mid-decode (a far seek, then Close at once), twice round. Every
// picture the viewer then shows is checked against an independent ffmpeg decode of that
// project's own clip, and the timeline strip the page loads carries that project's revision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { clipSession, decodeFrameRgb, meanAbsDiff, viewerPixelsScript, waitFor } from './support.ts';

const W = 128;
const H = 64;
const FRAMES = 24;
/** Three sources that look nothing alike, so a picture from the wrong project cannot pass. */
const SOURCES = ['testsrc2', 'smptebars', 'mandelbrot'] as const;

const e2e = clipSession({ name: 'projects', width: W, height: H, frames: FRAMES, setUp });
const clips: string[] = [];
const projects: string[] = [];

function clipOf(source: string, out: string): void {
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `${source}=size=${W}x${H}:rate=24`,
    '-frames:v', String(FRAMES), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '12', out,
  ]);
}

/** One project per source, none left open. */
async function setUp(): Promise<void> {
  // The session's own clip is the first project's (testsrc2); the others are made here.
  clips.push(e2e.clip);
  for (const source of SOURCES.slice(1)) {
    const out = path.join(e2e.tmp, `${source}.mp4`);
    clipOf(source, out);
    clips.push(out);
  }
  for (const [i, c] of clips.entries()) {
    const file = path.join(e2e.tmp, `p${i}.rrproj`);
    await e2e.host.api.createProject({ videoPath: c, projectPath: file, shortSide: H });
    projects.push(file);
  }
  await e2e.host.api.closeProject();
}

/** The viewer's picture is frame `n` of clip `own`, and far from the same frame of every other clip. */
async function showsFrameOf(own: number, n: number): Promise<void> {
  const shown = (await e2e.page.evaluate(viewerPixelsScript(n))) as { width: number; height: number; b64: string };
  assert.equal(shown.width, W);
  const pixels = Buffer.from(shown.b64, 'base64');
  const mine = meanAbsDiff(pixels, decodeFrameRgb(clips[own]!, n, W, H));
  assert.ok(mine < 3, `project ${own} frame ${n}: mean abs diff ${mine.toFixed(2)} from its own clip`);
  for (const [i, c] of clips.entries()) {
    if (i === own) continue;
    const other = meanAbsDiff(pixels, decodeFrameRgb(c, n, W, H));
    assert.ok(other > 10 * Math.max(mine, 1), `project ${own} frame ${n} is not clip ${i}'s (${other.toFixed(2)} vs ${mine.toFixed(2)})`);
  }
}

/** The newest timeline-strip URL the page loaded carries the open project's media revision. */
async function stripIsOwn(): Promise<void> {
  const rev = (await e2e.project()).mediaRev;
  assert.ok(rev);
  await waitFor('the strip of the open project', async () => {
    const urls = (await e2e.page.evaluate(
      "performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('thumbnails.png'))",
    )) as string[];
    return urls.length > 0 && decodeURIComponent(urls.at(-1)!).includes(rev);
  });
}

async function openInPage(file: string): Promise<void> {
  await e2e.page.locator('#open-path').fill(file);
  await e2e.page.getByRole('button', { name: 'Open', exact: true }).click();
  await e2e.page.getByTestId('frame-number').waitFor({ timeout: 30_000 });
  await waitFor(`${path.basename(file)} open`, async () => (await e2e.host.api.project())?.path === file);
}

test('the start screen says the working size a typed video gets, before the project exists', async () => {
  await e2e.page.goto(e2e.server.url);
  await e2e.page.locator('#video-path').fill(clips[0]!);
  await e2e.page.locator('#short-side').fill(String(H));
  await waitFor('the working size', async () => /128×64 → working size 128×64 · nothing cropped/.test((await e2e.page.getByTestId('new-project-plan').textContent().catch(() => '')) ?? ''));
  await e2e.page.locator('#short-side').fill('');
  await e2e.page.locator('#video-path').fill(path.join(e2e.tmp, 'not-a-video'));
  await waitFor('no plan for a path that is not a video', async () => (await e2e.page.getByTestId('new-project-plan').count()) === 0);
});

test('three projects opened in turn, each closed mid-decode: every picture is its own project\'s', async () => {
  await e2e.page.goto(e2e.server.url);
  for (let round = 0; round < 2; round++) {
    for (const [i, file] of projects.entries()) {
      await openInPage(file);
      await showsFrameOf(i, await e2e.frameShown());
      await stripIsOwn();
      // A frame decoded now, its picture checked; then a far seek whose decode is still running
      // when the project closes (the next project must never get that picture).
      const f = 3 + 5 * i + round;
      await e2e.page.keyboard.press('Home');
      for (let k = 0; k < f; k++) await e2e.page.keyboard.press('ArrowRight');
      await waitFor(`frame ${f}`, async () => (await e2e.frameShown()) === f);
      await showsFrameOf(i, f);
      if (i === 1 && round === 1) await e2e.shot('second');
      await e2e.page.keyboard.press('End');
      await e2e.page.getByRole('button', { name: 'Close', exact: true }).click();
      await e2e.page.locator('#open-path').waitFor();
    }
  }
  // Back in each project once more: the playhead it was left on shows that project's picture.
  for (const [i, file] of projects.entries()) {
    await openInPage(file);
    await showsFrameOf(i, await e2e.frameShown());
    await e2e.page.getByRole('button', { name: 'Close', exact: true }).click();
    await e2e.page.locator('#open-path').waitFor();
  }
});
