import { describe, expect, it } from 'vitest';
import { act } from 'react';
import type { JobInfo, ProjectSummary, RerenderApi, StartJobRequest } from '../../src-main/api/contract.ts';
import { ExportDialog } from '../../src-renderer/components/ExportDialog.tsx';
import type { Services } from '../../src-renderer/components/App.tsx';
import { render, rerender } from './render-harness.ts';

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

describe('export dialog: render status and getting the file', () => {
  const status = (rendered: number, stale: number, missing: number, rendering = 0) => ({
    counts: { rendered, stale, missing, rendering },
    spans: [],
  });
  const withKey = { ...project, keyframes: [{ frame: 0, state: 'edited' as const, hasMask: false, prompt: null, updatedAt: 't' }] };
  const propagation: JobInfo = { ...job, id: 'p1', kind: 'propagate', status: 'running', done: 3, total: 24 };

  it('says how many frames are out of date or not rendered, and offers both ways out', async () => {
    const requests: StartJobRequest[] = [];
    const el = render(<ExportDialog services={services(requests, [], false)} project={{ ...withKey, renderStatus: status(10, 9, 5) }} jobs={[]} onClose={() => {}} />);
    const warning = el.querySelector('[data-testid="export-warning"]')!;
    expect(warning.textContent).toContain('9 frames out of date');
    expect(warning.textContent).toContain('5 frames not rendered yet');
    expect(warning.textContent).toContain('Export anyway writes the old renders for the 9 frames out of date');
    expect(warning.textContent).toContain('the source picture');
    // No plain "Export": the artist picks one of the two.
    expect(button(el, 'Export')).toBeUndefined();
    await act(async () => el.querySelector<HTMLButtonElement>('[data-testid="export-propagate-first"]')!.click());
    expect(requests.at(-1)).toMatchObject({ kind: 'export', propagateFirst: true, overwrite: false });
    // The output exists: the question keeps the chosen way.
    await act(async () => el.querySelector<HTMLButtonElement>('[data-testid="export-replace"]')!.click());
    expect(requests.at(-1)).toMatchObject({ propagateFirst: true, overwrite: true });
  });

  it('"Export anyway" sends a plain export', async () => {
    const requests: StartJobRequest[] = [];
    const el = render(<ExportDialog services={services(requests, [])} project={{ ...withKey, renderStatus: status(20, 4, 0) }} jobs={[]} onClose={() => {}} />);
    await act(async () => el.querySelector<HTMLButtonElement>('[data-testid="export-anyway"]')!.click());
    expect(requests).toEqual([{ kind: 'export', outPath: '/p/clip-rerendered.mp4', size: 'source', crf: 18, audio: true, overwrite: false }]);
  });

  it('while a propagation runs it offers only to export when it finishes', () => {
    const el = render(<ExportDialog services={services([], [])} project={{ ...withKey, renderStatus: status(4, 0, 0, 20) }} jobs={[propagation]} onClose={() => {}} />);
    const warning = el.querySelector('[data-testid="export-warning"]')!;
    expect(warning.textContent).toContain('A propagation is running: 20 frames still to render.');
    expect(el.querySelector('[data-testid="export-anyway"]')).toBeNull();
    expect(el.querySelector('[data-testid="export-propagate-first"]')!.textContent).toBe('Export when the propagation finishes');
  });

  it('with nothing to propagate, "Propagate first" is disabled and says why', () => {
    const el = render(<ExportDialog services={services([], [])} project={{ ...project, renderStatus: status(0, 0, 24) }} jobs={[]} onClose={() => {}} />);
    const b = el.querySelector<HTMLButtonElement>('[data-testid="export-propagate-first"]')!;
    expect(b.disabled).toBe(true);
    expect(b.title).toContain('key frame');
  });

  it('everything up to date: no warning', () => {
    const el = render(<ExportDialog services={services([], [])} project={{ ...withKey, renderStatus: status(24, 0, 0) }} jobs={[]} onClose={() => {}} />);
    expect(el.querySelector('[data-testid="export-warning"]')).toBeNull();
    expect(button(el, 'Export')).toBeDefined();
  });

  it('browser mode: a finished export gets a download link and a player; Electron keeps "Reveal file"', async () => {
    const requests: StartJobRequest[] = [];
    const svc = services(requests, []);
    const api = svc.connection.api as unknown as { startJob: (r: StartJobRequest) => Promise<JobInfo> };
    api.startJob = async (r) => {
      requests.push(r);
      return job;
    };
    const done: JobInfo = { ...job, status: 'done', done: 24, output: '/p/out file.mp4' };
    const el = render(<ExportDialog services={svc} project={project} jobs={[done]} onClose={() => {}} />);
    await act(async () => button(el, 'Export').click());
    rerender(<ExportDialog services={svc} project={project} jobs={[done]} onClose={() => {}} />);
    const link = el.querySelector<HTMLAnchorElement>('[data-testid="export-download"]')!;
    expect(link.getAttribute('href')).toBe('/exports/j1?download=1');
    expect(link.getAttribute('download')).toBe('out file.mp4');
    expect(el.querySelector<HTMLVideoElement>('[data-testid="export-player"]')!.getAttribute('src')).toBe('/exports/j1');
    // No file manager to reveal it in: the button says where the file is.
    const where = el.querySelector<HTMLButtonElement>('[data-testid="reveal-file"]')!;
    expect(where.textContent).toBe('Where is it?');
    await act(async () => where.click());
    expect(el.querySelector('[data-testid="export-path-shown"]')!.textContent).toContain('/p/out file.mp4');
  });

  it('Electron: "Reveal file", no download link', async () => {
    const svc = services([], []);
    const api = svc.connection.api as unknown as { startJob: () => Promise<JobInfo> };
    api.startJob = async () => job;
    const electron = { ...svc, connection: { ...svc.connection, mode: 'electron' as const } };
    const done: JobInfo = { ...job, status: 'done', done: 24, output: '/p/o.mp4' };
    const el = render(<ExportDialog services={electron} project={project} jobs={[done]} onClose={() => {}} />);
    await act(async () => button(el, 'Export').click());
    expect(el.querySelector('[data-testid="reveal-file"]')!.textContent).toBe('Reveal file');
    expect(el.querySelector('[data-testid="export-download"]')).toBeNull();
  });
});
