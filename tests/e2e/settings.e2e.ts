// Browser mode, Chromium, real services host: the parameters an artist reads (plain labels, a
// help line under each control, sections), a preset applied as one change, an official Rerender
// config loaded through the in-app file browser, and the one Seed with its dice. Screenshots go to
// test-artifacts/e2e/settings-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import { artistReason } from '../../src-renderer/lib/model-settings.ts';
import { ARTIFACTS, clipSession, fillNewProject, waitFor } from './support.ts';

const W = 128;
const H = 64;
const FRAMES = 16;

const e2e = clipSession({ name: 'settings', width: W, height: H, frames: FRAMES, file: 'work/clip.mp4', setUp });

async function settings(): Promise<Record<string, unknown> & { propagation: Record<string, unknown> }> {
  const p: ProjectSummary | null = await e2e.host.api.project();
  assert.ok(p, 'a project is open');
  return p.settings as Record<string, unknown> & { propagation: Record<string, unknown> };
}

const label = () => e2e.page.getByTestId('preset-label').textContent();

/** The right-hand panel (it scrolls) with `testId` at its top, as the artist sees it. */
async function panelShot(name: string, testId: string, block: 'start' | 'center' = 'start'): Promise<void> {
  await e2e.page.getByTestId(testId).evaluate((el, b) => el.scrollIntoView({ block: b }), block);
  const box = await e2e.page.locator('aside.right-panel').boundingBox();
  assert.ok(box);
  await e2e.page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), clip: box });
}

/** A project made through the start screen, its parameters panel shown, in a 1280×1000 window. */
async function setUp(): Promise<void> {
  await e2e.page.setViewportSize({ width: 1280, height: 1000 });
  await e2e.page.goto(e2e.server.url);
  await fillNewProject(e2e.page, e2e.clip, path.join(e2e.tmp, 'work', 'clip.rrproj'), H);
  await e2e.page.getByRole('button', { name: 'Create project' }).click();
  await e2e.page.getByTestId('params-panel').waitFor({ timeout: 60_000 });
}

test('parameters in plain words: sections, a help line under each control, Advanced folded', async () => {
  const panel = e2e.page.getByTestId('params-panel');
  assert.deepEqual(
    await panel.locator('details.settings-group > summary').evaluateAll((els) => els.map((e) => e.firstChild?.textContent?.trim())),
    ['Look', 'Key frames', 'Consistency', 'Propagation', 'Advanced'],
  );
  assert.equal(await e2e.page.getByTestId('settings-advanced').getAttribute('open'), null);
  assert.equal(await e2e.page.getByTestId('settings-look').getAttribute('open'), '');
  // The help is tied to the control, so keyboard focus and screen readers reach it.
  const steps = e2e.page.locator('#setting-steps');
  assert.equal(await e2e.page.locator(`#${await steps.getAttribute('aria-describedby')}`).textContent(), 'More steps give finer key frames but take longer. 20 suits most.');
  const text = (await panel.textContent()) ?? '';
  for (const jargon of ['Search vote iters', 'Extra pass3x3', 'Uniformity', 'B1']) assert.ok(!text.includes(jargon), jargon);
  await e2e.page.getByTestId('settings-propagation').locator('summary').click();
  assert.ok(await e2e.page.getByText('Refinement passes', { exact: true }).isVisible());
  await panelShot('settings-params', 'settings-look');
  await panelShot('settings-params-propagation', 'settings-propagation');
  await e2e.page.getByTestId('settings-propagation').locator('summary').click();
  await e2e.page.getByTestId('settings-consistency').locator('summary').click();
  await panelShot('settings-params-consistency', 'settings-consistency');
  await e2e.page.getByTestId('settings-consistency').locator('summary').click();
});

test('a preset shows what it changes, applies as one update, and the panel names it', async () => {
  assert.equal(await label(), 'Preset: none');
  await e2e.page.getByLabel('Apply a preset').selectOption('fast-preview');
  const changes = e2e.page.getByTestId('preset-changes').locator('li');
  assert.deepEqual(await changes.allTextContents(), ['Detail steps: 20 steps → 12 steps', 'Refinement passes: 12 passes → 6 passes', 'Motion tracking: Fine → Fast']);
  assert.equal((await settings()).steps, 20, 'nothing is applied before Apply');
  await panelShot('settings-preset-menu', 'preset-menu');
  await e2e.page.getByTestId('preset-confirm').getByRole('button', { name: 'Apply' }).click();
  await waitFor('Fast preview stored', async () => {
    const s = await settings();
    return s.steps === 12 && s.propagation.searchVoteIters === 6 && s.propagation.flowMethod === 'dis-fast';
  });
  await waitFor('the preset named', async () => (await label()) === 'Preset: Fast preview');
  // A change by hand after it: still named, marked modified; the reset puts the default back.
  await e2e.page.locator('#setting-steps').fill('14');
  await e2e.page.locator('#setting-steps').press('Tab');
  await waitFor('modified', async () => (await label()) === 'Preset: Fast preview (modified)');
  await e2e.page.getByRole('button', { name: 'Reset Detail steps to default' }).click();
  await waitFor('steps back to the default', async () => (await settings()).steps === 20);
});

test('an official Rerender config loads through the file browser, saying what it applies and leaves out', async () => {
  // The shape of Rerender_A_Video's config/real2sculpture.json (its paths made up).
  const config = {
    input: 'videos/clip.mp4', output: 'videos/clip/blend.mp4', work_dir: 'videos/clip', key_subdir: 'keys', frame_count: 102, interval: 10,
    crop: [0, 180, 0, 0], prompt: 'white ancient Greek sculpture, Venus de Milo', a_prompt: 'RAW photo', n_prompt: 'cgi, 3d', x0_strength: 0.95,
    control_type: 'canny', canny_low: 50, canny_high: 100, control_strength: 0.7, seed: 0, warp_period: [0, 0.1], ada_period: [0.8, 1], freeu_args: [1.1, 1.2, 1.0, 0.2],
  };
  writeFileSync(path.join(e2e.tmp, 'work', 'real2sculpture.json'), JSON.stringify(config, null, 2));
  await e2e.page.getByRole('button', { name: 'Load config…' }).click();
  const browser = e2e.page.getByTestId('file-browser');
  await browser.waitFor();
  // The 'config' filter: the .json is offered, the video is not.
  await browser.locator('li[data-name="real2sculpture.json"]').waitFor();
  assert.equal(await browser.locator('li[data-name="clip.mp4"]').count(), 0);
  await browser.locator('li[data-name="real2sculpture.json"]').dblclick();
  await browser.waitFor({ state: 'detached' });
  const confirm = e2e.page.getByTestId('preset-confirm');
  await confirm.waitFor();
  const changes = (await confirm.getByTestId('preset-changes').locator('li').allTextContents()).join('\n');
  assert.match(changes, /Prompt: \(empty\) → “white ancient Greek sculpture, Venus de Milo, RAW photo”/);
  assert.match(changes, /How much it changes: 75% → 95%/);
  assert.match(changes, /FreeU detail boost: off → on/);
  const ignored = (await confirm.getByTestId('preset-ignored').textContent()) ?? '';
  assert.match(ignored, /file paths/);
  assert.match(ignored, /every 10 frames/);
  assert.match(ignored, /Crop 0, 180, 0, 0 px/);
  await panelShot('settings-config-file', 'preset-menu');
  await confirm.getByRole('button', { name: 'Apply' }).click();
  await waitFor('the config stored', async () => {
    const s = await settings();
    const cross = s.crossFrame as { freeu: { enabled: boolean; b1: number; variant?: string } };
    return s.prompt === 'white ancient Greek sculpture, Venus de Milo, RAW photo' && s.strength === 0.95 && cross.freeu.enabled && cross.freeu.b1 === 1.1 && cross.freeu.variant === 'official';
  });
  await waitFor('the file named', async () => (await label()) === 'Preset: real2sculpture.json');
});

test('one Seed drives every random choice of a run; the dice rolls a new one', async () => {
  assert.equal(await e2e.page.locator('[data-setting$="seed"]').count(), 1, 'one seed control');
  await e2e.page.locator('#setting-seed').fill('1234');
  await e2e.page.locator('#setting-seed').press('Tab');
  await waitFor('seed 1234 stored for both stages', async () => {
    const s = await settings();
    return s.seed === 1234 && s.propagation.seed === 1234;
  });
  await e2e.page.getByRole('button', { name: 'New seed' }).click();
  await waitFor('a new seed stored for both stages', async () => {
    const s = await settings();
    return s.seed !== 1234 && s.propagation.seed === s.seed;
  });
  const seed = String((await settings()).seed);
  await waitFor('the new seed shown', async () => (await e2e.page.locator('#setting-seed').inputValue()) === seed);
  await panelShot('settings-seed', 'settings-look');
});

test('the model status is one short line, with the technical remedy behind "details"', async () => {
  const caps = await e2e.host.api.capabilities();
  const status = e2e.page.getByTestId('translate-status');
  if (caps.translate.available) {
    assert.equal(await status.textContent(), '✓ Translation engine ready');
    return;
  }
  const message = caps.translate.message ?? '';
  const { line, details } = artistReason(message);
  assert.ok(line.length <= 80 && !/https?:|`|rerender /.test(line), line);
  if (details === null) {
    assert.equal(await status.textContent(), line);
    return;
  }
  assert.equal(await status.locator('summary').textContent(), line);
  assert.equal(await e2e.page.getByTestId('translate-status-details').isVisible(), false, 'details start folded');
  await status.locator('summary').click();
  assert.equal(await e2e.page.getByTestId('translate-status-details').textContent(), details);
  await panelShot('settings-model-reason', 'translate-status', 'center');
  await status.locator('summary').click();
});
