import { describe, expect, it } from 'vitest';
import { act } from 'react';
import type { Capabilities, JobInfo, ProjectSummary, RerenderApi } from '../../src-main/api/contract.ts';
import type { Services } from '../../src-renderer/components/App.tsx';
import { JobsPanel } from '../../src-renderer/components/JobsPanel.tsx';
import { KeyframePanel } from '../../src-renderer/components/KeyframePanel.tsx';
import { ModelSettings } from '../../src-renderer/components/ModelSettings.tsx';
import { render, rerender } from './render-harness.ts';


function type(el: HTMLInputElement | HTMLTextAreaElement, value: string) {
  const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  act(() => {
    Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, value);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}
async function blur(el: HTMLElement) {
  await act(async () => el.dispatchEvent(new FocusEvent('focusout', { bubbles: true })));
}
const byLabel = (el: HTMLElement, label: string) => el.querySelector<HTMLInputElement>(`[aria-label="${label}"]`)!;
const button = (el: HTMLElement, text: string) => [...el.querySelectorAll('button')].find((b) => b.textContent === text)!;

const caps = (available: boolean, message: string | null = null): Capabilities => ({
  ffmpeg: { available: true, message: null },
  propagate: { available: true, message: null },
  translate: { available, message },
});

function makeProject(settings: Record<string, unknown>, keyframes: ProjectSummary['keyframes'] = []): ProjectSummary {
  return {
    path: '/p/clip.rrproj',
    name: 'clip',
    source: { path: '/v.mp4', linked: true, width: 128, height: 64, fps: { num: 24, den: 1 }, frameCount: 16, hasAudio: false },
    working: { width: 128, height: 64 },
    keyframes,
    renderedFrames: 0,
    settings,
  };
}

function services(calls: unknown[][]): Services {
  const api = new Proxy({}, { get: (_t, name) => async (...args: unknown[]) => void calls.push([name, ...args]) }) as RerenderApi;
  return { connection: { api, mediaUrl: (r) => `/media/${r}`, mode: 'browser', onDisconnect: () => {}, fileToPath: async () => '' }, run: (p) => p, setProject: () => {} };
}

describe('model settings section', () => {
  it('checks paths before saving and saves the checkpoint and ControlNet paths', async () => {
    const saves: unknown[] = [];
    const el = render(<ModelSettings project={makeProject({})} capabilities={caps(false, 'Choose a model')} save={async (p) => (saves.push(p), true)} />);
    const ckpt = el.querySelector<HTMLInputElement>('#model-checkpoint')!;
    type(ckpt, 'models/sd');
    expect(el.querySelector('.field-error')?.textContent).toMatch(/^Checkpoint: give the full path/);
    await blur(ckpt);
    expect(saves).toEqual([]);
    type(ckpt, '/models/tiny-sd');
    expect(el.querySelector('.field-error')).toBeNull();
    await blur(ckpt);
    const cn = el.querySelector<HTMLInputElement>('#model-controlnet')!;
    type(cn, '/models/tiny-controlnet');
    await blur(cn);
    expect(saves).toEqual([{ model: '/models/tiny-sd' }, { controlnetModel: '/models/tiny-controlnet' }]);
    expect(el.querySelector('[data-testid="translate-status"]')?.textContent).toBe('Choose a model');
  });

  it('adds, fills and removes LoRAs, saving only valid lists', async () => {
    const saves: unknown[] = [];
    const el = render(
      <ModelSettings
        project={makeProject({ loras: [{ path: '/l/a.safetensors', weight: 1 }] })}
        capabilities={caps(true)}
        save={async (p) => (saves.push(p), true)}
      />,
    );
    expect(el.querySelector('[data-testid="translate-status"]')?.textContent).toContain('ready');
    await act(async () => button(el, '+ Add LoRA').click());
    const path2 = byLabel(el, 'LoRA 2 path');
    await blur(path2);
    expect(el.querySelector('.lora-error')?.textContent).toBe('LoRA 2 needs a path');
    expect(saves).toEqual([]);
    type(path2, '/l/b.safetensors');
    type(byLabel(el, 'LoRA 2 weight'), '0.4');
    await blur(byLabel(el, 'LoRA 2 weight'));
    expect(saves).toEqual([{ loras: [{ path: '/l/a.safetensors', weight: 1 }, { path: '/l/b.safetensors', weight: 0.4 }] }]);
    await act(async () => byLabel(el, 'Remove LoRA 1').click());
    expect(saves.at(-1)).toEqual({ loras: [{ path: '/l/b.safetensors', weight: 0.4 }] });
  });

  it("keeps what is being typed when the echo of an earlier save arrives", async () => {
    const saves: unknown[] = [];
    const save = async (p: Record<string, unknown>) => (saves.push(p), true);
    const el = render(<ModelSettings project={makeProject({ loras: [] })} capabilities={null} save={save} />);
    await act(async () => button(el, '+ Add LoRA').click());
    type(byLabel(el, 'LoRA 1 path'), '/l/a.safetensors');
    await blur(byLabel(el, 'LoRA 1 path'));
    expect(saves).toEqual([{ loras: [{ path: '/l/a.safetensors', weight: 1 }] }]);
    type(byLabel(el, 'LoRA 1 weight'), '0.5');
    // The services answer the first save while the weight is being typed.
    rerender(<ModelSettings project={makeProject({ loras: [{ path: '/l/a.safetensors', weight: 1 }] })} capabilities={null} save={save} />);
    expect(byLabel(el, 'LoRA 1 weight').value).toBe('0.5');
    await blur(byLabel(el, 'LoRA 1 weight'));
    expect(saves.at(-1)).toEqual({ loras: [{ path: '/l/a.safetensors', weight: 0.5 }] });
    // A change from elsewhere (not an echo) replaces the draft.
    rerender(<ModelSettings project={makeProject({ loras: [{ path: '/l/z.safetensors', weight: 2 }] })} capabilities={null} save={save} />);
    expect(byLabel(el, 'LoRA 1 path').value).toBe('/l/z.safetensors');
    expect(byLabel(el, 'LoRA 1 weight').value).toBe('2');
  });

  it('rejects a low Canny threshold above the high one', async () => {
    const saves: unknown[] = [];
    const el = render(<ModelSettings project={makeProject({ controlnet: { lowThreshold: 50, highThreshold: 100, scale: 0.7 } })} capabilities={null} save={async (p) => (saves.push(p), true)} />);
    const low = el.querySelector<HTMLInputElement>('#canny-low')!;
    type(low, '150');
    await blur(low);
    expect(el.querySelector('[data-testid="canny-settings"] .field-error')?.textContent).toBe('Low threshold must not exceed the high threshold');
    expect(saves).toEqual([]);
    const high = el.querySelector<HTMLInputElement>('#canny-high')!;
    type(high, '200');
    await blur(high);
    expect(saves).toEqual([{ controlnet: { lowThreshold: 150, highThreshold: 200, scale: 0.7 } }]);
  });
});

describe('model settings: precision', () => {
  function choose(select: HTMLSelectElement, value: string) {
    act(() => {
      Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value')!.set!.call(select, value);
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
  }

  it('offers the three precisions in plain words and saves the chosen one in the project settings', async () => {
    const saves: unknown[] = [];
    const el = render(<ModelSettings project={makeProject({})} capabilities={null} save={async (p) => (saves.push(p), true)} />);
    const select = el.querySelector<HTMLSelectElement>('#model-precision')!;
    expect(el.querySelector('label[for="model-precision"]')?.textContent).toMatch(/^Precision/);
    // A project saved before the choice existed shows the default.
    expect(select.value).toBe('auto');
    expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
      ['auto', 'Automatic (half precision where the GPU supports it)'],
      ['fp16', 'Half precision (fp16: faster, less GPU memory)'],
      ['fp32', 'Full precision (fp32: slower, most exact)'],
    ]);
    choose(select, 'fp32');
    await act(async () => {});
    expect(saves).toEqual([{ precision: 'fp32' }]);
    expect(select.value).toBe('fp32');
    // The saved value comes back from the services; choosing it again saves nothing.
    rerender(<ModelSettings project={makeProject({ precision: 'fp32' })} capabilities={null} save={async (p) => (saves.push(p), true)} />);
    choose(select, 'fp32');
    expect(saves).toHaveLength(1);
  });

  it('says when the services refuse the precision', async () => {
    const el = render(<ModelSettings project={makeProject({ precision: 'fp16' })} capabilities={null} save={async () => false} />);
    const select = el.querySelector<HTMLSelectElement>('#model-precision')!;
    expect(select.value).toBe('fp16');
    choose(select, 'auto');
    await act(async () => {});
    expect(el.querySelector('.field-error')?.textContent).toBe('Precision: not saved');
  });
});

describe('model settings: control types and more ControlNets', () => {
  function choose(select: HTMLSelectElement, value: string) {
    act(() => {
      Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value')!.set!.call(select, value);
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
  }

  it('saves the ControlNet\'s control type, and adds, checks and removes more ControlNets', async () => {
    const saves: unknown[] = [];
    const el = render(<ModelSettings project={makeProject({ controlnetModel: '/m/canny' })} capabilities={null} save={async (p) => (saves.push(p), true)} />);
    const kind = el.querySelector<HTMLSelectElement>('#controlnet-kind')!;
    expect(kind.value).toBe('canny');
    expect([...kind.options].map((o) => o.value)).toEqual(['canny', 'hed', 'softedge', 'depth', 'raw']);
    choose(kind, 'hed');
    await act(async () => {});
    expect(saves).toEqual([{ controlnet: { kind: 'hed' } }]);

    await act(async () => button(el, '+ Add ControlNet').click());
    const path2 = byLabel(el, 'ControlNet 2 path');
    type(path2, '/m/canny');
    await blur(path2);
    expect(el.querySelector('[data-testid="extra-controlnets"] .field-error')?.textContent).toBe('ControlNet 2: this ControlNet is already in use');
    type(path2, '/m/depth');
    type(byLabel(el, 'ControlNet 2 scale'), '3');
    await blur(byLabel(el, 'ControlNet 2 scale'));
    expect(el.querySelector('[data-testid="extra-controlnets"] .field-error')?.textContent).toMatch(/ControlNet 2 scale/);
    expect(saves).toHaveLength(1);
    type(byLabel(el, 'ControlNet 2 scale'), '0.5');
    choose(el.querySelector<HTMLSelectElement>('[aria-label="ControlNet 2 control type"]')!, 'depth');
    await act(async () => {});
    expect(saves.at(-1)).toEqual({ extraControlnets: [{ path: '/m/depth', kind: 'depth', scale: 0.5 }] });
    // The services echo the saved list.
    const save = async (p: Record<string, unknown>) => (saves.push(p), true);
    rerender(<ModelSettings project={makeProject({ controlnetModel: '/m/canny', controlnet: { kind: 'hed' }, extraControlnets: [{ path: '/m/depth', kind: 'depth', scale: 0.5 }] })} capabilities={null} save={save} />);
    expect(byLabel(el, 'ControlNet 2 path').value).toBe('/m/depth');
    expect(el.querySelector<HTMLSelectElement>('#controlnet-kind')!.value).toBe('hed');
    await act(async () => button(el, '+ Add ControlNet').click());
    await act(async () => button(el, '+ Add ControlNet').click());
    expect(button(el, '+ Add ControlNet').disabled).toBe(true);
    await act(async () => byLabel(el, 'Remove ControlNet 4').click());
    await act(async () => byLabel(el, 'Remove ControlNet 3').click());
    await act(async () => byLabel(el, 'Remove ControlNet 2').click());
    expect(saves.at(-1)).toEqual({ extraControlnets: [] });
  });
});

describe('translate actions', () => {
  const models = { model: '/m/sd', controlnetModel: '/m/cn', prompt: 'oil painting' };
  const kfs: ProjectSummary['keyframes'] = [
    { frame: 0, state: 'translated', hasMask: false, prompt: null, updatedAt: 'a' },
    { frame: 8, state: 'stale', hasMask: false, prompt: 'a fox', updatedAt: 'b' },
  ];

  it('"Translate all key frames" shows the engine reason while unavailable, and starts a translate job when it is', async () => {
    const calls: unknown[][] = [];
    const project = makeProject(models, kfs);
    const el = render(<JobsPanel services={services(calls)} project={project} jobs={[]} capabilities={caps(false, 'No ONNX runtime for this platform')} />);
    expect(button(el, 'Translate all key frames').disabled).toBe(true);
    expect(el.querySelector('[data-testid="translate-all-reason"]')?.textContent).toBe('No ONNX runtime for this platform');
    expect(el.querySelector('[data-testid="keyframe-states"]')?.textContent).toBe('Key frames: 1 translated · 1 stale');
    rerender(<JobsPanel services={services(calls)} project={project} jobs={[]} capabilities={caps(true)} />);
    expect(el.querySelector('[data-testid="translate-all-reason"]')).toBeNull();
    await act(async () => button(el, 'Translate all key frames').click());
    expect(calls).toEqual([['startJob', { kind: 'translate' }]]);
  });

  it('shows a running translate job with its device and the CPU fallback note', () => {
    const job: JobInfo = { id: 't1', kind: 'translate', status: 'running', done: 5, total: 40, etaSeconds: 12, device: 'cpu', note: 'no GPU found: running on the CPU (slow)', error: null, output: null };
    const el = render(<JobsPanel services={services([])} project={makeProject(models, kfs)} jobs={[job]} capabilities={caps(true)} />);
    expect(button(el, 'Translate all key frames').disabled).toBe(true);
    expect(el.querySelector('[data-testid="translate-all-reason"]')?.textContent).toBe('A translation is already running.');
    const row = el.querySelector('[data-job-kind="translate"]')!;
    expect(row.textContent).toContain('Translate key frames');
    expect(row.textContent).toContain('on cpu');
    expect(row.querySelector('.job-note.warn')?.textContent).toBe('⚠ no GPU found: running on the CPU (slow)');
  });

  it('translates the key frame at the playhead and edits its prompt override', async () => {
    const calls: unknown[][] = [];
    const props = {
      services: services(calls),
      project: makeProject(models, kfs),
      frame: 8,
      capabilities: caps(true),
      jobs: [],
      onSeek: () => {},
      onAdd: () => {},
      onRemove: () => {},
      onEditMask: () => {},
      update: async (p: Promise<ProjectSummary>) => (await p, undefined),
    };
    const el = render(<KeyframePanel {...props} />);
    expect(el.querySelector('[data-testid="keyframe-state"]')?.textContent).toBe('Stale');
    expect(el.querySelector('[data-testid="keyframe-prompt-source"]')?.textContent).toBe('(overrides the project prompt)');
    await act(async () => button(el, 'Translate').click());
    expect(calls).toEqual([['startJob', { kind: 'translate', frames: [8] }]]);
    const prompt = el.querySelector<HTMLTextAreaElement>('#keyframe-prompt')!;
    expect(prompt.value).toBe('a fox');
    type(prompt, 'a red fox');
    await blur(prompt);
    await act(async () => button(el, 'Use the project prompt').click());
    expect(calls.slice(1)).toEqual([['setKeyframePrompt', 8, 'a red fox'], ['setKeyframePrompt', 8, null]]);

    rerender(<KeyframePanel {...props} capabilities={caps(false, 'Set a ControlNet model')} />);
    expect(button(el, 'Translate').disabled).toBe(true);
    expect(el.querySelector('[data-testid="translate-reason"]')?.textContent).toBe('Translate unavailable: Set a ControlNet model');
  });
});
