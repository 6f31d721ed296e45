import { describe, expect, it } from 'vitest';
import { act } from 'react';
import type { JobInfo, ProjectSummary, RerenderApi, StartJobRequest } from '../../src-main/api/contract.ts';
import { ExportDialog } from '../../src-renderer/components/ExportDialog.tsx';
import type { Services } from '../../src-renderer/components/App.tsx';
import { render } from './render-harness.ts';

const project = {
  path: '/p/clip.rrproj',
  name: 'clip',
  source: { path: '/v.mp4', linked: true, width: 1280, height: 960, fps: { num: 24, den: 1 }, frameCount: 24, hasAudio: true },
  working: { width: 256, height: 192 },
  exportSize: { width: 1280, height: 960 },
  keyframes: [],
  renderedFrames: 24,
  settings: {},
} satisfies ProjectSummary;

const job: JobInfo = { id: 'j1', kind: 'export', status: 'running', done: 0, total: 24, etaSeconds: null, device: 'cpu', note: null, error: null, output: null };

/** The services refuse an existing output unless the request says `overwrite`, like job-runner. */
function services(requests: StartJobRequest[], shown: string[], refuseAlways = false): Services {
  const api = {
    startJob: async (req: StartJobRequest) => {
      requests.push(req);
      if (req.kind === 'export' && (refuseAlways || !req.overwrite)) {
        throw Object.assign(new Error(`'clip-rerendered.mp4' already exists; it was not replaced. Choose another file name, or confirm replacing it.`), { code: 'OUTPUT_EXISTS' });
      }
      return job;
    },
  } as unknown as RerenderApi;
  return {
    connection: { api, mediaUrl: (r) => `/media/${r}`, mode: 'browser', onDisconnect: () => {}, fileToPath: async () => '' },
    run: async (p) => {
      try {
        return await p;
      } catch (err) {
        shown.push((err as Error).message);
        return undefined;
      }
    },
    setProject: () => {},
  };
}

const button = (el: HTMLElement, text: string) => [...el.querySelectorAll('button')].find((b) => b.textContent === text)!;

describe('export dialog', () => {
  it('asks "Replace <name>?" for an existing file and retries with overwrite only when confirmed', async () => {
    const requests: StartJobRequest[] = [];
    const shown: string[] = [];
    const el = render(<ExportDialog services={services(requests, shown)} project={project} jobs={[]} onClose={() => {}} />);
    await act(async () => button(el, 'Export').click());
    expect(requests).toEqual([{ kind: 'export', outPath: '/p/clip-rerendered.mp4', size: 'source', crf: 18, audio: true, overwrite: false }]);
    const confirm = el.querySelector('[data-testid="export-confirm"]');
    expect(confirm?.textContent).toContain('Replace clip-rerendered.mp4?');
    expect(confirm?.textContent).toContain("'clip-rerendered.mp4' already exists");
    expect(shown).toEqual([]);

    // Cancel: nothing is sent, the question goes away.
    await act(async () => button(el, 'Cancel').click());
    expect(el.querySelector('[data-testid="export-confirm"]')).toBeNull();
    expect(requests.length).toBe(1);

    await act(async () => button(el, 'Export').click());
    await act(async () => el.querySelector<HTMLButtonElement>('[data-testid="export-replace"]')!.click());
    expect(requests.length).toBe(3);
    expect(requests[2]).toMatchObject({ kind: 'export', outPath: '/p/clip-rerendered.mp4', overwrite: true });
    expect(el.querySelector('[data-testid="export-confirm"]')).toBeNull();
  });

  it('a refusal after confirming (the open project) is shown as an error, not asked again', async () => {
    const requests: StartJobRequest[] = [];
    const shown: string[] = [];
    const el = render(<ExportDialog services={services(requests, shown, true)} project={project} jobs={[]} onClose={() => {}} />);
    await act(async () => button(el, 'Export').click());
    await act(async () => el.querySelector<HTMLButtonElement>('[data-testid="export-replace"]')!.click());
    expect(requests.map((r) => (r as { overwrite?: boolean }).overwrite)).toEqual([false, true]);
    expect(el.querySelector('[data-testid="export-confirm"]')).toBeNull();
    expect(shown).toHaveLength(1);
  });

  it('offers the source resolution (selected) and the working size, with their pixel sizes', async () => {
    const requests: StartJobRequest[] = [];
    const el = render(<ExportDialog services={services(requests, [])} project={project} jobs={[]} onClose={() => {}} />);
    const radios = [...el.querySelectorAll<HTMLInputElement>('#export-size input[type="radio"]')];
    expect(radios.map((r) => [r.value, r.checked])).toEqual([['source', true], ['working', false]]);
    const labels = radios.map((r) => r.closest('label')!.textContent);
    expect(labels[0]).toContain('1280×960');
    expect(labels[1]).toContain('256×192');

    await act(async () => radios[1]!.click());
    expect(radios[1]!.checked).toBe(true);
    await act(async () => button(el, 'Export').click());
    await act(async () => el.querySelector<HTMLButtonElement>('[data-testid="export-replace"]')!.click());
    expect(requests.map((r) => (r as { size?: string }).size)).toEqual(['working', 'working']);
  });

  it('without exportSize from older services the source size is shown, made even', () => {
    const odd = { ...project, exportSize: undefined, source: { ...project.source, width: 721, height: 481 } };
    const el = render(<ExportDialog services={services([], [])} project={odd} jobs={[]} onClose={() => {}} />);
    expect(el.querySelector('#export-size label')!.textContent).toContain('720×480');
  });

  it('the project itself as the output is refused without asking', async () => {
    const requests: StartJobRequest[] = [];
    const el = render(<ExportDialog services={services(requests, [])} project={project} jobs={[]} onClose={() => {}} />);
    const input = el.querySelector<HTMLInputElement>('#export-path')!;
    act(() => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, '/p/clip.rrproj');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(async () => button(el, 'Export').click());
    expect(requests).toEqual([]);
    expect(el.querySelector('.field-error')?.textContent).toContain('open project');
    expect(el.querySelector('[data-testid="export-confirm"]')).toBeNull();
  });
});
