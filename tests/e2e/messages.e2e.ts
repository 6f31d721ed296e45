// Artist-facing messages end to end, in browser mode against the real services host: the device
// line before any job runs, the CPU note once per project with its details toggle, estimates by
// the job buttons, a job whose total stays fixed, the crop of the working size, and a header on
// one line from 1024 px wide. Screenshots go to test-artifacts/e2e/messages-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { JobInfo } from '../../src-main/api/contract.ts';
import { clipSession, createProjectInPage, waitFor } from './support.ts';

// 16:9 at a 64 px working size snaps to 128×64 (2:1): 8 of 72 rows are cut away (11%).
const W = 128;
const H = 72;
const FRAMES = 16;

const e2e = clipSession({ name: 'messages', width: W, height: H, frames: FRAMES, file: 'wide.mp4', setUp });

/** Every test here starts in a 1280×720 window. */
async function setUp(): Promise<void> {
  await e2e.page.setViewportSize({ width: 1280, height: 720 });
}

test('the device and precision are shown before any job runs', async () => {
  await e2e.page.goto(e2e.server.url);
  await createProjectInPage(e2e.page, e2e.clip, path.join(e2e.tmp, 'wide.rrproj'), 64);
  const line = e2e.page.getByTestId('device-line');
  await waitFor('the device line', async () => (await line.getAttribute('data-device-kind')) !== 'checking');
  const text = (await line.textContent()) ?? '';
  assert.match(text, /^(CPU · fp(16|32)|GPU: .+ · fp(16|32)|device unknown)$/);
  assert.deepEqual((await e2e.host.api.listJobs()).filter((j) => j.kind === 'translate' || j.kind === 'propagate'), [], 'no job has run');
  const outlook = await e2e.host.api.jobOutlook();
  assert.equal(text, outlook.device.label);
});

test('the CPU note shows once per project, one line, with the remedy behind details', async () => {
  const { device } = await e2e.host.api.jobOutlook();
  const notes = e2e.page.getByTestId('device-note');
  if (device.note === null) {
    // A machine whose GPU is used: nothing to say.
    assert.equal(await notes.count(), 0);
    return;
  }
  await notes.waitFor();
  assert.equal(await notes.count(), 1);
  const summary = e2e.page.getByTestId('device-note-text').locator('summary');
  assert.equal(await summary.textContent(), device.note);
  const details = e2e.page.getByTestId('device-note-text-details');
  assert.equal(await details.isVisible(), false, 'details start folded');
  await summary.click();
  assert.equal(await details.isVisible(), true);
  assert.match((await details.textContent()) ?? '', /CUDA|WebGPU|GPU/);
  await e2e.shot('device-note-details');
  await summary.click();
  assert.equal(await details.isVisible(), false);
});

test('the crop of the working size is said in the header and shown on demand', async () => {
  const p = await e2e.project();
  assert.deepEqual(p.workingCrop, { left: 0, right: 0, top: 4, bottom: 4 });
  const info = e2e.page.getByTestId('crop-info');
  assert.equal(await info.textContent(), 'crops 4 px top and bottom, 11%');
  await info.click();
  const diagram = e2e.page.getByTestId('crop-diagram');
  await diagram.waitFor();
  const box = await diagram.boundingBox();
  assert.ok(box);
  // The diagram has the source's shape (16:9), not the working size's (2:1).
  assert.ok(Math.abs(box.width / box.height - W / H) < 0.03, `diagram ${box.width}×${box.height}`);
  await e2e.shot('crop');
  await info.click();
  assert.equal(await diagram.count(), 0);
});

test('estimates by the buttons; a propagation keeps one total; notes stay out of job rows', async (t) => {
  const caps = await e2e.host.api.capabilities();
  if (!caps.propagate.available) {
    t.skip(`propagation unavailable: ${caps.propagate.message ?? ''}`);
    return;
  }
  const red = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=red:size=128x64', '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', 'pipe:1']);
  await e2e.host.api.addKeyframe(0);
  await e2e.host.api.importKeyframeImage(0, new Uint8Array(red));
  const estimate = e2e.page.getByTestId('propagate-estimate');
  await waitFor('the first-run estimate', async () => (await estimate.textContent().catch(() => '')) === 'first run: estimate after a few frames');

  const seen: JobInfo[] = [];
  const off = e2e.host.api.on('job', (j) => { if (j.kind === 'propagate') seen.push(j); });
  await e2e.page.getByRole('button', { name: 'Propagate', exact: true }).click();
  await waitFor('propagation done', async () => (await e2e.host.api.listJobs()).some((j) => j.kind === 'propagate' && j.status !== 'running' && j.status !== 'queued'), 120_000);
  off();
  const job = (await e2e.host.api.listJobs()).find((j) => j.kind === 'propagate');
  assert.equal(job?.status, 'done', job?.error ?? '');
  assert.deepEqual([...new Set(seen.map((j) => j.total))], [FRAMES], 'the total is known from the start and never changes');
  const row = e2e.page.locator('[data-testid="job"][data-job-kind="propagate"][data-job-status="done"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('job-progress').textContent(), `${FRAMES}/${FRAMES}`);
  assert.equal(await e2e.page.getByTestId('device-note').count() <= 1, true, 'the device note is not repeated per job');
  const rowBox = await row.boundingBox();
  assert.ok(rowBox && rowBox.height < 100, `a compact job row (${rowBox?.height} px)`);

  // Every render now stale: the estimate comes from the job just timed on this machine.
  await e2e.host.api.updateSettings({ propagation: { patchSize: 7 } });
  await waitFor('a measured estimate', async () => /^(under a minute|about .+) on the (CPU|GPU)$/.test((await estimate.textContent().catch(() => '')) ?? ''));
  await e2e.shot('1280');
});

test('the header stays on one line at 1024, 1280 and 1920 px wide', async () => {
  for (const [width, height] of [[1024, 700], [1280, 720], [1920, 1080]] as const) {
    await e2e.page.setViewportSize({ width, height });
    await new Promise((r) => setTimeout(r, 200));
    const header = e2e.page.locator('header.topbar');
    const box = await header.boundingBox();
    assert.ok(box);
    assert.ok(box.height <= 56, `header ${box.height} px high at ${width}`);
    // Every button of the toolbar on the one row, inside the window.
    const buttons = await header.locator('.actions button:visible').all();
    assert.ok(buttons.length >= 3);
    const tops = new Set<number>();
    for (const b of buttons) {
      const bb = await b.boundingBox();
      assert.ok(bb);
      tops.add(Math.round(bb.y + bb.height / 2));
      assert.ok(bb.x + bb.width <= width, `a button overflows at ${width}`);
      assert.ok(bb.height < 40, `a button wraps at ${width} (${bb.height} px high)`);
    }
    assert.ok(Math.max(...tops) - Math.min(...tops) <= 2, `buttons on one row at ${width}: ${[...tops].join(', ')}`);
    const device = await e2e.page.getByTestId('device-line').boundingBox();
    assert.ok(device && device.y >= box.y && device.y + device.height <= box.y + box.height, `device line inside the header at ${width}`);
    await e2e.shot(String(width));
  }
  await e2e.page.setViewportSize({ width: 1280, height: 720 });
});
