// The EbSynth workflow end to end, in browser mode against the real services host: key frames
// every N frames through the "Key frames…" dialog (an edited key frame it would remove is listed,
// and kept until confirmed), the key frames' source pictures exported to a folder chosen in the
// file browser (sizes and pixels checked against an ffmpeg decode at full size), painted (colour
// inverted) with ffmpeg, and the folder imported with its preview (current vs painted, skipped
// files); the key frames' pictures then checked through the media route. Screenshots:
// test-artifacts/e2e/ebsynth-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decode } from 'fast-png';
import { clipSession, decodeFrameRgb, httpGet, meanAbsDiff, waitFor } from './support.ts';

// The source is twice the working size, so "full source resolution" is not the working size.
const W = 256;
const H = 128;
const FRAMES = 16;

const e2e = clipSession({ name: 'ebsynth', width: W, height: H, frames: FRAMES, setUp });

function rgbOf(png: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  const img = decode(png);
  const ch = img.channels;
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Number(img.data[i * ch + c]);
  return { width: img.width, height: img.height, rgb };
}

/** Types `target` in the in-app file browser's path box and presses Enter. */
async function typeInBrowser(target: string): Promise<void> {
  const browser = e2e.page.getByTestId('file-browser');
  // Typed once the first folder is shown (its path would replace what was typed).
  await waitFor('the browser', async () => (await browser.getByTestId('fb-list').getAttribute('aria-busy')) === 'false');
  await browser.locator('#fb-path').fill(target);
  await browser.locator('#fb-path').press('Enter');
}

/** Chooses `dir` in the in-app file browser's folder mode: typed in the path box, then "Choose this folder". */
async function chooseFolder(dir: string, screenshot?: string): Promise<void> {
  const browser = e2e.page.getByTestId('file-browser');
  await typeInBrowser(dir);
  await waitFor(`the browser to show ${dir}`, async () => (await browser.locator('#fb-path').inputValue()) === dir && (await browser.getByTestId('fb-list').getAttribute('aria-busy')) === 'false');
  if (screenshot) await e2e.shot(screenshot);
  await browser.getByRole('button', { name: 'Choose this folder' }).click();
}

/** The project, made through the services, open in the page. */
async function setUp(): Promise<void> {
  await e2e.host.api.createProject({ videoPath: e2e.clip, projectPath: path.join(e2e.tmp, 'clip.rrproj'), shortSide: 64 });
  await e2e.page.goto(e2e.server.origin);
  await e2e.page.getByTestId('frame-number').waitFor({ timeout: 60_000 });
}

test('key frames every N frames through the dialog; an edited key frame is never dropped silently', async () => {
  const p0 = await e2e.project();
  assert.deepEqual([p0.working.width, p0.working.height], [W / 2, H / 2]);
  await e2e.host.api.addKeyframe(3);
  await e2e.host.api.setKeyframePrompt(3, 'a watercolour');
  await e2e.page.getByTestId('keyframe-batch-open').click();
  const dialog = e2e.page.getByTestId('keyframe-batch');
  await dialog.getByRole('radio', { name: 'Every' }).check();
  await dialog.getByLabel('Frames between key frames').fill('6');
  let summary = '';
  await waitFor('the preview', async () => /^3 key frames \(3 new, 1 removed\)$/.test((summary = (await dialog.getByTestId('kf-batch-summary').textContent()) ?? ''))).catch((e: Error) => {
    throw new Error(`${e.message}: the dialog says '${summary}'`);
  });
  assert.match((await dialog.getByTestId('kf-batch-lost').textContent()) ?? '', /Frame 3: prompt/);
  assert.equal(await dialog.getByTestId('kf-mini-timeline').locator('.kf-mini-mark').count(), 4, 'three new markers and the removed one');
  assert.equal(await dialog.getByTestId('kf-batch-apply').isDisabled(), true, 'not before the removal is confirmed');
  await e2e.shot('dialog');
  await dialog.getByRole('checkbox', { name: /Remove them anyway/ }).check();
  await dialog.getByTestId('kf-batch-apply').click();
  await dialog.waitFor({ state: 'detached' });
  assert.deepEqual((await e2e.project()).keyframes.map((k) => k.frame), [0, 6, 12]);
  await waitFor('the list', async () => (await e2e.page.getByTestId('keyframe-list').locator('.kf-item').count()) === 3);
  // The batch is one undo step.
  await e2e.host.api.undo();
  assert.deepEqual((await e2e.project()).keyframes.map((k) => [k.frame, k.prompt]), [[3, 'a watercolour']]);
  await e2e.host.api.redo();
  assert.deepEqual((await e2e.project()).keyframes.map((k) => k.frame), [0, 6, 12]);
});

test('export the key frames to a folder at full source size, then import the painted folder', async () => {
  const exportDir = path.join(e2e.tmp, 'to-paint');
  mkdirSync(exportDir);
  await e2e.page.getByTestId('keyframe-export-open').click();
  await chooseFolder(exportDir);
  const exp = e2e.page.getByTestId('keyframe-export');
  await exp.getByTestId('keyframe-export-run').click();
  await exp.getByTestId('keyframe-export-done').waitFor({ timeout: 30_000 });
  assert.match((await exp.getByTestId('keyframe-export-done').textContent()) ?? '', /Wrote 3 pictures at 256×128/);
  await e2e.shot('export');
  await exp.getByRole('button', { name: 'Done' }).click();
  assert.deepEqual(readdirSync(exportDir).sort(), ['00000.png', '00006.png', '00012.png']);

  // Again into the same folder: nothing is replaced until the artist says so.
  writeFileSync(path.join(exportDir, '00006.png'), 'mine');
  await e2e.page.getByTestId('keyframe-export-open').click();
  await chooseFolder(exportDir);
  await exp.getByTestId('keyframe-export-run').click();
  await exp.getByTestId('keyframe-export-replace').waitFor();
  assert.match((await exp.getByRole('alert').textContent()) ?? '', /3 of the files are already in/);
  assert.equal(readFileSync(path.join(exportDir, '00006.png'), 'utf8'), 'mine');
  await exp.getByTestId('keyframe-export-replace').click();
  await exp.getByTestId('keyframe-export-done').waitFor({ timeout: 30_000 });
  await exp.getByRole('button', { name: 'Done' }).click();
  for (const n of [0, 6, 12]) {
    const png = rgbOf(readFileSync(path.join(exportDir, `${String(n).padStart(5, '0')}.png`)));
    assert.deepEqual([png.width, png.height], [W, H]);
    const want = decodeFrameRgb(e2e.clip, n, W, H);
    assert.ok(meanAbsDiff(png.rgb, want) < 0.5, `frame ${n}: exported pixels differ from ffmpeg's (${meanAbsDiff(png.rgb, want)})`);
    if (n === 6) assert.ok(meanAbsDiff(png.rgb, decodeFrameRgb(e2e.clip, 7, W, H)) > 1, 'and not some other frame');
  }

  // Painted elsewhere: inverted, renamed the way a painting program might, with strays.
  const painted = path.join(e2e.tmp, 'painted');
  mkdirSync(painted);
  for (const n of [0, 6, 12]) {
    const name = String(n).padStart(5, '0');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', path.join(exportDir, `${name}.png`), '-vf', 'negate', path.join(painted, `shot_${name}_painted.png`)]);
  }
  writeFileSync(path.join(painted, 'notes.txt'), 'done');
  execFileSync('cp', [path.join(painted, 'shot_00006_painted.png'), path.join(painted, '00099.png')]);

  await e2e.page.getByTestId('keyframe-import-open').click();
  await chooseFolder(painted, 'choose-folder');
  const imp = e2e.page.getByTestId('import-folder');
  await waitFor('the import preview', async () => (await imp.getByTestId('import-list').locator('li').count()) === 3, 30_000);
  assert.match((await imp.getByTestId('import-summary').textContent()) ?? '', /^3 key frames will get the painted picture\.$/);
  await imp.getByTestId('import-skipped').locator('summary').click();
  const skipped = (await imp.getByTestId('import-skipped').textContent()) ?? '';
  assert.match(skipped, /00099\.png — frame 99 is past the end of the clip/);
  assert.match(skipped, /notes\.txt — not an image/);
  // Every row shows the picture now and the painted one, loaded.
  await waitFor('the thumbnails', async () => imp.locator('img.kf-import-thumb').evaluateAll((imgs) => imgs.length === 6 && imgs.every((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0)));
  await e2e.shot('import-preview');
  assert.deepEqual((await e2e.project()).keyframes.map((k) => k.state), ['none', 'none', 'none'], 'the preview changes nothing');
  await imp.getByTestId('import-folder-apply').click();
  await imp.waitFor({ state: 'detached', timeout: 30_000 });

  const after = await e2e.project();
  assert.deepEqual(after.keyframes.map((k) => [k.frame, k.state]), [[0, 'edited'], [6, 'edited'], [12, 'edited']]);
  const res = await httpGet(new URL('media/frame/keyframe/6.png', e2e.server.origin).href);
  assert.equal(res.status, 200);
  const got = rgbOf(res.body);
  assert.deepEqual([got.width, got.height], [W / 2, H / 2]);
  // The painted file brought to the working size by ffmpeg on its own (the source needs no crop here).
  const want = new Uint8Array(execFileSync('ffmpeg', ['-v', 'error', '-i', path.join(painted, 'shot_00006_painted.png'), '-vf', `scale=${W / 2}:${H / 2}:flags=bicubic`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 24 }));
  assert.ok(meanAbsDiff(got.rgb, want) < 0.5, `the painted frame 6 landed at the working size (${meanAbsDiff(got.rgb, want)})`);
  assert.ok(meanAbsDiff(got.rgb, new Uint8Array(decodeFrameRgb(e2e.clip, 6, W / 2, H / 2))) > 40, 'and it is the painted picture, not the source');

  // The list shows each key frame's (now painted) picture.
  await waitFor('the list thumbnails', async () => e2e.page.getByTestId('keyframe-list').locator('img.kf-thumb').evaluateAll((imgs) => imgs.length === 3 && imgs.every((i) => (i as unknown as { naturalWidth: number; src: string }).naturalWidth > 0 && (i as unknown as { src: string }).src.includes('/keyframe/'))));
  await e2e.shot('imported');
  await e2e.host.api.undo();
  assert.deepEqual((await e2e.project()).keyframes.map((k) => k.state), ['none', 'none', 'none'], 'the import is one undo step');

  // One picture for the key frame at the playhead (frame 0), chosen in the same file browser.
  await e2e.page.getByTestId('keyframe-import-browse').click();
  await typeInBrowser(path.join(painted, 'shot_00012_painted.png'));
  await waitFor('frame 0 to be edited', async () => (await e2e.project()).keyframes[0]!.state === 'edited');
  assert.deepEqual((await e2e.project()).keyframes.map((k) => k.state), ['edited', 'none', 'none']);
});
