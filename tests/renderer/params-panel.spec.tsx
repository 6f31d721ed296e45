import { beforeEach, describe, expect, it } from 'vitest';
import { act } from 'react';
import type { ConfigFileResult, ProjectSummary, RerenderApi } from '../../src-main/api/contract.ts';
import { defaultSettings } from '../../src-main/project/settings.ts';
import { ParamsPanel, randomSeed } from '../../src-renderer/components/ParamsPanel.tsx';
import { PickerContext } from '../../src-renderer/components/FilePicker.tsx';
import type { Services } from '../../src-renderer/components/App.tsx';
import { render, rerender } from './render-harness.ts';

const base = {
  path: '/p/clip.rrproj',
  name: 'clip',
  source: { path: '/v.mp4', linked: true, width: 128, height: 64, fps: { num: 24, den: 1 }, frameCount: 24, hasAudio: false },
  working: { width: 128, height: 64 },
  keyframes: [],
  renderedFrames: 0,
} satisfies Omit<ProjectSummary, 'settings'>;

function summary(settings: Record<string, unknown>): ProjectSummary {
  return { ...base, settings };
}

const CONFIG: ConfigFileResult = {
  path: '/cfg/van_gogh_man.json',
  name: 'van_gogh_man',
  settings: { prompt: 'a man in van gogh painting', crossFrame: { adaPeriod: [0.8, 1] } },
  applied: ['prompt', 'crossFrame.adaPeriod'],
  ignored: ['Its file paths (input, output, work folder): the project keeps its own video and files.'],
};

let calls: unknown[][];

function services(): Services {
  const api = {
    updateSettings: async (patch: Record<string, unknown>) => (calls.push(['updateSettings', patch]), summary(defaultSettings() as never)),
    loadConfigFile: async (file: string) => (calls.push(['loadConfigFile', file]), CONFIG),
  } as unknown as RerenderApi;
  return { connection: { api, mediaUrl: (r) => `/media/${r}`, mode: 'browser', onDisconnect: () => {}, fileToPath: async () => '' }, run: (p) => p, setProject: () => {} };
}

function panel(settings: Record<string, unknown>) {
  return (
    <PickerContext.Provider value={async (filter) => (filter === 'config' ? '/cfg/van_gogh_man.json' : null)}>
      <ParamsPanel services={services()} project={summary(settings)} capabilities={null} update={async (r) => await r} />
    </PickerContext.Provider>
  );
}

function typeInto(input: HTMLInputElement, value: string) {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
  act(() => {
    setter.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

function choose(select: HTMLSelectElement, value: string) {
  const setter = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value')!.set!;
  act(() => {
    setter.call(select, value);
    select.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

const button = (el: HTMLElement, name: string) => [...el.querySelectorAll('button')].find((b) => b.textContent === name || b.getAttribute('aria-label') === name);
const settings = () => defaultSettings() as unknown as Record<string, unknown>;

beforeEach(() => {
  calls = [];
  localStorage.clear();
});

describe('parameters panel', () => {
  it('shows plain labels with a help line under each control, in sections with Advanced folded', () => {
    const el = render(panel(settings()));
    const sections = [...el.querySelectorAll('details.settings-group')] as HTMLDetailsElement[];
    expect(sections.map((s) => s.querySelector('summary')!.firstChild!.textContent!.trim())).toEqual(['Look', 'Key frames', 'Consistency', 'Propagation', 'Advanced']);
    expect(sections.map((s) => s.open)).toEqual([true, true, false, false, false]);
    const passes = el.querySelector<HTMLInputElement>('#setting-propagation-searchVoteIters')!;
    expect(el.querySelector('label[for="setting-propagation-searchVoteIters"]')?.textContent).toBe('Refinement passes');
    // The help is tied to the input, so a screen reader or keyboard focus finds it too.
    expect(document.getElementById(passes.getAttribute('aria-describedby')!)?.textContent).toBe('More passes give cleaner frames but take longer.');
    expect(el.textContent).not.toMatch(/Search vote iters|Extra pass3x3|Uniformity/);
    // One Seed, with its dice.
    expect(el.querySelectorAll('[data-setting$="seed"]').length).toBe(1);
    expect(button(el, 'New seed')).toBeTruthy();
  });

  it('shows fractions as percent with a slider, and saves the typed value in stored units', async () => {
    const el = render(panel(settings()));
    const strength = el.querySelector<HTMLInputElement>('#setting-strength')!;
    expect(strength.value).toBe('75');
    expect(el.querySelector<HTMLInputElement>('input[aria-label="How much it changes slider"]')?.value).toBe('75');
    typeInto(strength, '140');
    expect(el.querySelector('[data-setting="strength"] .field-error')?.textContent).toBe('How much it changes must be at most 100%');
    typeInto(strength, '40');
    await act(async () => strength.dispatchEvent(new FocusEvent('focusout', { bubbles: true })));
    expect(calls).toEqual([['updateSettings', { strength: 0.4 }]]);
  });

  it('resets a control to its default and rolls a new seed', async () => {
    const el = render(panel({ ...settings(), steps: 30 }));
    expect(button(el, 'Reset Guidance to default')).toBeUndefined();
    expect(button(el, 'Reset Follow the prompt to default')).toBeUndefined();
    await act(async () => button(el, 'Reset Detail steps to default')!.click());
    await act(async () => button(el, 'New seed')!.click());
    expect(calls[0]).toEqual(['updateSettings', { steps: 20 }]);
    const seed = (calls[1]![1] as { seed: number }).seed;
    expect(Number.isInteger(seed) && seed >= 0 && seed < 1_000_000).toBe(true);
    expect(randomSeed(() => 0.123456789)).toBe(123456);
  });

  it('applies a preset as one update after showing what it changes, then names it', async () => {
    const el = render(panel(settings()));
    expect(el.querySelector('[data-testid="preset-label"]')?.textContent).toBe('Preset: none');
    choose(el.querySelector<HTMLSelectElement>('select[aria-label="Apply a preset"]')!, 'fast-preview');
    const changes = [...el.querySelectorAll('[data-testid="preset-changes"] li')].map((li) => li.textContent);
    expect(changes).toEqual(['Detail steps: 20 steps → 12 steps', 'Refinement passes: 12 passes → 6 passes', 'Motion tracking: Fine → Fast']);
    expect(calls).toEqual([]);
    await act(async () => button(el, 'Apply')!.click());
    expect(calls).toEqual([['updateSettings', { steps: 12, propagation: { searchVoteIters: 6, patchMatchIters: 1, flowMethod: 'dis-fast', extraPass3x3: false } }]]);
    expect(el.querySelector('[data-testid="preset-confirm"]')).toBeNull();
    const applied = { ...settings(), steps: 12, propagation: { ...(settings().propagation as object), searchVoteIters: 6, flowMethod: 'dis-fast' } };
    rerender(panel(applied));
    expect(el.querySelector('[data-testid="preset-label"]')?.textContent).toBe('Preset: Fast preview');
    rerender(panel({ ...applied, steps: 14 }));
    expect(el.querySelector('[data-testid="preset-label"]')?.textContent).toBe('Preset: Fast preview (modified)');
  });

  it('loads a config file through the picker, shows what it leaves out, and applies its settings at once', async () => {
    const el = render(panel(settings()));
    await act(async () => button(el, 'Load config…')!.click());
    expect(calls).toEqual([['loadConfigFile', '/cfg/van_gogh_man.json']]);
    // Its colour-match period is the default already: only the prompt changes.
    expect([...el.querySelectorAll('[data-testid="preset-changes"] li')].map((li) => li.textContent)).toEqual(['Prompt: (empty) → “a man in van gogh painting”']);
    expect(el.querySelector('[data-testid="preset-ignored"]')?.textContent).toContain('the project keeps its own video');
    await act(async () => button(el, 'Apply')!.click());
    expect(calls[1]).toEqual(['updateSettings', CONFIG.settings]);
  });
});
