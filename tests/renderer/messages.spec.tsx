// Artist-facing messages: one short line per problem, the technical part behind "details"; the
// crop of the working size in words; the device note once per project; estimates by the buttons.
import { afterEach, describe, expect, it } from 'vitest';
import { act } from 'react';
import type { Capabilities, JobInfo, JobOutlook, ProjectSummary, RerenderApi } from '../../src-main/api/contract.ts';
import { CODE_LINES, errorToMessage, splitMessage } from '../../src-renderer/lib/messages.ts';
import { cropText, keptRegion } from '../../src-renderer/lib/crop.ts';
import { Reason } from '../../src-renderer/components/Reason.tsx';
import { JobRow, JobsPanel } from '../../src-renderer/components/JobsPanel.tsx';
import { DeviceLine, DeviceNote } from '../../src-renderer/components/DeviceLine.tsx';
import type { Services } from '../../src-renderer/components/App.tsx';
import { NewProjectDialog } from '../../src-renderer/components/NewProjectDialog.tsx';
import { render } from './render-harness.ts';

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('message mapping', () => {
  it('maps service errors by code to a plain line, with the raw message in details', () => {
    const raw = 'Failed to load addon rerender_propagate.node: run `npm run build:native` (node-gyp, a C++17 compiler and OpenCV 4 are needed)';
    const m = errorToMessage(coded(raw, 'ADDON_MISSING'));
    expect(m.line).toBe(CODE_LINES.ADDON_MISSING);
    expect(m.details).toBe(`${raw} (ADDON_MISSING)`);
    expect(errorToMessage(coded('No project is open: create or open one first.', 'NO_PROJECT')).line).toBe('Open or create a project first.');
  });

  it('keeps a short message written for the artist, and splits a paragraph', () => {
    expect(errorToMessage(coded('A project file name must end in .rrproj (got \'x.txt\').', 'INVALID_ARGUMENT'))).toEqual({ line: 'A project file name must end in .rrproj (got \'x.txt\').', details: null });
    const long = 'CUDA is not used: its GPU add-on is not installed. Running on WebGPU instead. To use an NVIDIA GPU, install the NVIDIA driver, CUDA 12 and cuDNN 9, then the engine\'s CUDA add-on.';
    const s = splitMessage(long);
    expect(s.line).toBe('CUDA is not used: its GPU add-on is not installed.');
    expect(s.details).toBe(long);
    expect(splitMessage('Short and plain.')).toEqual({ line: 'Short and plain.', details: null });
    const lines = splitMessage('Key-frame translation needs a model:\n  - no checkpoint set');
    expect(lines.line).toBe('Key-frame translation needs a model:');
    // An unknown code without more to say needs no toggle.
    expect(errorToMessage(coded('Something odd.', 'WEIRD'))).toEqual({ line: 'Something odd.', details: null });
    expect(errorToMessage('plain string').line).toBe('plain string');
  });

  it('never shows a line longer than a short sentence', () => {
    const m = splitMessage('x'.repeat(400));
    expect(m.line.length).toBeLessThanOrEqual(110);
    expect(m.details).toHaveLength(400);
  });
});

describe('crop text', () => {
  it('says what the working size cuts away, in pixels and per cent of the side', () => {
    expect(cropText({ width: 720, height: 528 }, { left: 0, right: 0, top: 28, bottom: 28 })).toBe('crops 28 px top and bottom, 11%');
    expect(cropText({ width: 1920, height: 1080 }, { left: 0, right: 0, top: 0, bottom: 0 })).toBeNull();
    expect(cropText({ width: 640, height: 480 }, { left: 3, right: 4, top: 0, bottom: 0 })).toBe('crops 3 px left, 4 px right, 1%');
    expect(cropText({ width: 1000, height: 500 }, { left: 2, right: 2, top: 0, bottom: 1 })).toBe('crops 1 px bottom, under 1%; 2 px left and right, under 1%');
    expect(keptRegion({ width: 100, height: 50 }, { left: 10, right: 10, top: 5, bottom: 5 })).toEqual({ x: 0.1, y: 0.1, w: 0.8, h: 0.8 });
  });
});

describe('Reason', () => {
  it('shows one line and unfolds the details on a click; multi-line text keeps its old shape', () => {
    const el = render(<Reason text="Propagation is not available." details="Failed to load addon: run npm run build:native" testId="r" />);
    const details = el.querySelector('details')!;
    expect(el.querySelector('summary')!.textContent).toBe('Propagation is not available.');
    expect(details.open).toBe(false);
    act(() => el.querySelector('summary')!.click());
    expect(details.open).toBe(true);
    expect(el.querySelector('[data-testid="r-details"]')!.textContent).toContain('build:native');
  });

  it('keeps the text of a multi-line reason whole (first line shown)', () => {
    const text = 'Needs a model:\n  - no checkpoint\nSet it in Parameters.';
    const el = render(<Reason text={text} prefix="Translate unavailable: " testId="t" />);
    expect(el.querySelector('[data-testid="t"]')!.textContent).toBe(`Translate unavailable: ${text}`);
    expect(el.querySelector('summary')!.textContent).toBe('Translate unavailable: Needs a model:');
  });
});

const project = {
  path: '/p/messages.rrproj',
  name: 'messages',
  source: { path: '/v.mp4', linked: true, width: 256, height: 192, fps: { num: 24, den: 1 }, frameCount: 24, hasAudio: false },
  working: { width: 256, height: 192 },
  keyframes: [{ frame: 0, state: 'edited', hasMask: false, prompt: null, updatedAt: '2026-01-01T00:00:00Z' }],
  renderedFrames: 0,
  settings: {},
} satisfies ProjectSummary;

const outlook: JobOutlook = {
  device: { kind: 'cpu', label: 'CPU · fp32', precision: 'fp32', note: 'Running on the CPU: translation will be slow', details: 'CUDA is not used: its GPU add-on is not installed.\ncuda: run `npm rebuild onnxruntime-node`' },
  translate: { seconds: null, text: 'first run: estimate after a few frames' },
  propagate: { seconds: 240, text: 'about 4 min on the CPU' },
};

const caps: Capabilities = { ffmpeg: { available: true, message: null }, propagate: { available: true, message: null }, translate: { available: false, message: 'no model' } };

function services(): Services {
  const api = new Proxy({}, { get: () => async () => undefined }) as RerenderApi;
  return { connection: { api, mediaUrl: (r) => `/media/${r}`, mode: 'browser', onDisconnect: () => {}, fileToPath: async () => '' }, run: (p) => p, setProject: () => {} };
}

describe('device line, note and estimates', () => {
  afterEach(() => localStorage.clear());

  it('shows the device before any job, and the CPU note once per project until dismissed', () => {
    const line = render(<DeviceLine outlook={outlook} />);
    expect(line.textContent).toBe('CPU · fp32');
    expect(render(<DeviceLine outlook={null} />).textContent).toBe('checking the device…');
    const el = render(<JobsPanel services={services()} project={project} jobs={[]} capabilities={caps} outlook={outlook} />);
    expect(el.querySelectorAll('[data-testid="device-note"]').length).toBe(1);
    expect(el.querySelector('[data-testid="device-note-text"] summary')!.textContent).toBe('Running on the CPU: translation will be slow');
    expect(el.querySelector('[data-testid="propagate-estimate"]')!.textContent).toBe('about 4 min on the CPU');
    act(() => el.querySelector<HTMLButtonElement>('button[aria-label="Dismiss the device note"]')!.click());
    expect(el.querySelector('[data-testid="device-note"]')).toBeNull();
    // Another mount of the same project: still dismissed. Another project: shown.
    expect(render(<DeviceNote outlook={outlook} projectPath={project.path} />).textContent).toBe('');
    expect(render(<DeviceNote outlook={outlook} projectPath="/p/other.rrproj" />).textContent).toContain('Running on the CPU');
  });

  it('keeps a job row compact: a long note or error is one line with details', () => {
    const long = 'CUDA is not used: its GPU add-on is not installed. Running on WebGPU instead. To use an NVIDIA GPU, install the NVIDIA driver, CUDA 12 and cuDNN 9, then run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`.';
    const job: JobInfo = { id: 'j', kind: 'translate', status: 'failed', done: 1, total: 3, etaSeconds: null, device: 'cpu (float32)', note: long, error: long, output: null };
    const el = render(<ul><JobRow job={job} /></ul>);
    const summaries = [...el.querySelectorAll('summary')].map((s) => s.textContent);
    expect(summaries).toEqual(['⚠ CUDA is not used: its GPU add-on is not installed.', 'CUDA is not used: its GPU add-on is not installed.']);
    expect(el.querySelector('[data-testid="job-progress"]')!.textContent).toBe('1/3');
  });
});

describe('new project dialog', () => {
  it('says what the working size will crop before the project is made', async () => {
    const plan = { source: { width: 720, height: 528 }, working: { width: 704, height: 512 }, crop: { left: 0, right: 0, top: 28, bottom: 28 } };
    const asked: unknown[][] = [];
    const api = new Proxy({}, { get: (_t, name) => async (...args: unknown[]) => (asked.push([name, ...args]), name === 'planProject' ? plan : undefined) }) as RerenderApi;
    const svc: Services = { connection: { api, mediaUrl: (r) => `/media/${r}`, mode: 'browser', onDisconnect: () => {}, fileToPath: async () => '' }, run: (p) => p, setProject: () => {} };
    const el = render(<NewProjectDialog services={svc} videoPath="/v/Megamind.avi" current={project} onClose={() => {}} />);
    await act(async () => {});
    expect(asked).toContainEqual(['planProject', '/v/Megamind.avi']);
    expect(el.ownerDocument.querySelector('[data-testid="new-project-crop"]')?.textContent).toBe(' · crops 28 px top and bottom, 11%');
    expect(el.ownerDocument.querySelector('[data-testid="crop-diagram"]')).not.toBeNull();
  });
});
