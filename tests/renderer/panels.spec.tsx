import { describe, expect, it } from 'vitest';
import { act } from 'react';
import type { Capabilities, JobInfo, ProjectSummary, RerenderApi } from '../../src-main/api/contract.ts';
import { Field } from '../../src-renderer/components/ParamsPanel.tsx';
import { JobsPanel } from '../../src-renderer/components/JobsPanel.tsx';
import { HelpSheet } from '../../src-renderer/components/HelpSheet.tsx';
import type { Services } from '../../src-renderer/components/App.tsx';
import { SHORTCUTS } from '../../src-renderer/lib/shortcuts.ts';
import { render } from './render-harness.ts';


function type(input: HTMLInputElement, value: string) {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
  act(() => {
    setter.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

const project = {
  path: '/p/clip.rerender',
  name: 'clip',
  source: { path: '/v.mp4', linked: true, width: 256, height: 192, fps: { num: 24, den: 1 }, frameCount: 24, hasAudio: true },
  working: { width: 256, height: 192 },
  keyframes: [],
  renderedFrames: 0,
  settings: {},
} satisfies ProjectSummary;

function services(calls: unknown[][]): Services {
  const api = new Proxy({}, { get: (_t, name) => async (...args: unknown[]) => void calls.push([name, ...args]) }) as RerenderApi;
  return { connection: { api, mediaUrl: (r) => `/media/${r}`, mode: 'browser', onDisconnect: () => {}, fileToPath: async () => '' }, run: (p) => p, setProject: () => {} };
}

describe('parameter fields', () => {
  it('shows a validation error and commits nothing for a bad number; commits a good one', async () => {
    const commits: unknown[][] = [];
    const el = render(
      <Field spec={{ path: ['steps'], key: 'steps', label: 'Steps', kind: 'integer', min: 1, max: 150 }} value={20} commit={async (p, v) => (commits.push([p, v]), true)} />,
    );
    const input = el.querySelector('input')!;
    type(input, '2.5');
    expect(el.querySelector('.field-error')?.textContent).toBe('Steps must be a whole number');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    await act(async () => input.dispatchEvent(new FocusEvent('focusout', { bubbles: true })));
    expect(commits).toEqual([]);
    type(input, '30');
    expect(el.querySelector('.field-error')).toBeNull();
    await act(async () => input.dispatchEvent(new FocusEvent('focusout', { bubbles: true })));
    expect(commits).toEqual([[['steps'], 30]]);
  });
});

describe('jobs panel', () => {
  const caps = (available: boolean): Capabilities => ({
    ffmpeg: { available: true, message: null },
    propagate: { available, message: available ? null : 'the propagation addon is not built (run npm run build:native)' },
    translate: { available: false, message: 'no model' },
  });
  const job: JobInfo = { id: 'j1', kind: 'propagate', status: 'running', done: 3, total: 12, etaSeconds: 90, device: 'cpu', note: 'CUDA not available: fell back to CPU', error: null, output: null };

  it('disables Propagate with the reason, shows progress, device note and cancels', async () => {
    const calls: unknown[][] = [];
    const el = render(<JobsPanel services={services(calls)} project={project} jobs={[job]} capabilities={caps(false)} />);
    const button = [...el.querySelectorAll('button')].find((b) => b.textContent === 'Propagate')!;
    expect(button.disabled).toBe(true);
    expect(el.querySelector('[data-testid="propagate-reason"]')?.textContent).toContain('addon is not built');
    expect(el.querySelector('[data-testid="job-progress"]')?.textContent).toBe('3/12');
    expect(el.textContent).toContain('ETA 1m 30s');
    expect(el.querySelector('.job-note.warn')?.textContent).toContain('fell back to CPU');
    const cancel = el.querySelector<HTMLButtonElement>('button[aria-label^="Cancel"]')!;
    await act(async () => cancel.click());
    expect(calls).toEqual([['cancelJob', 'j1']]);
  });
});

describe('help sheet', () => {
  it('lists every shortcut', () => {
    const el = render(<HelpSheet onClose={() => {}} />);
    expect(el.querySelectorAll('tbody tr').length).toBe(SHORTCUTS.length);
    expect(el.textContent).toContain('Add a key frame at the playhead');
  });
});
