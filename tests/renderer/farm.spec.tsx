import { describe, expect, it } from 'vitest';
import { act } from 'react';
import type { FarmSettingsInfo, FarmWorkerInfo, FarmWorkersInfo, RerenderApi } from '../../src-main/api/contract.ts';
import type { Services } from '../../src-renderer/components/App.tsx';
import { FarmDialog } from '../../src-renderer/components/FarmDialog.tsx';
import { FarmWorkers } from '../../src-renderer/components/FarmWorkers.tsx';
import { currentText, farmRequest, heartbeatText, initialForm, redisToSend, sortWorkers, toggleStage } from '../../src-renderer/lib/farm.ts';
import { render } from './render-harness.ts';

const worker = (name: string, o: Partial<FarmWorkerInfo> = {}): FarmWorkerInfo => ({
  name, host: 'box', device: 'CUDA (NVIDIA H200)', concurrency: 1, current: [], secondsSinceHeartbeat: 3.4, alive: true, done: 0, ...o,
});

function type(input: HTMLInputElement, value: string) {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
  act(() => {
    setter.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

const settle = () => act(async () => new Promise((r) => setTimeout(r, 0)));

describe('farm form logic', () => {
  it('starts from what the project needs, or Propagate', () => {
    expect(initialForm({ redis: 'redis://:***@h:6379', store: '/mnt/s', needed: ['translate', 'propagate'] })).toEqual({ stages: ['translate', 'propagate'], redis: 'redis://:***@h:6379', store: '/mnt/s', exportPath: '' });
    expect(initialForm({ redis: null, store: null, needed: [] })).toEqual({ stages: ['propagate'], redis: '', store: '', exportPath: '' });
  });

  it('keeps the stages in run order', () => {
    expect(toggleStage(['export'], 'translate', true)).toEqual(['translate', 'export']);
    expect(toggleStage(['translate', 'propagate'], 'translate', false)).toEqual(['propagate']);
  });

  it('never sends the redacted address back: null means the remembered one', () => {
    const shown = 'redis://:***@farm:6379/';
    expect(redisToSend(shown, shown)).toBeNull();
    expect(redisToSend('  ', shown)).toBeNull();
    expect(redisToSend('redis://:new@farm:6379', shown)).toBe('redis://:new@farm:6379');
    expect(redisToSend('redis://farm', null)).toBe('redis://farm');
  });

  it('says in one line what is missing', () => {
    const ok = { stages: ['propagate' as const], redis: 'redis://farm:6379', store: '/mnt/farm', exportPath: '' };
    expect(farmRequest(ok, null)).toEqual({ request: { stages: ['propagate'], redisUrl: 'redis://farm:6379', store: '/mnt/farm' } });
    expect(farmRequest({ ...ok, stages: [] }, null)).toEqual({ problem: 'Tick at least one step to run on the farm.' });
    expect(farmRequest({ ...ok, redis: '' }, null)).toEqual({ problem: "Enter the farm's address (redis://host:6379)." });
    expect(farmRequest({ ...ok, redis: '' }, 'redis://farm/')).toEqual({ request: { stages: ['propagate'], redisUrl: null, store: '/mnt/farm' } });
    expect(farmRequest({ ...ok, redis: 'http://farm' }, null)).toHaveProperty('problem', 'The farm’s address starts with redis:// or rediss:// (secure).');
    expect(farmRequest({ ...ok, store: 'farm' }, null)).toHaveProperty('problem');
    expect(farmRequest({ ...ok, store: 'D:\\farm' }, null)).toHaveProperty('request');
    // The video's path goes only with the export stage, and must be a full path to an MP4.
    const exporting = { ...ok, stages: ['propagate' as const, 'export' as const] };
    expect(farmRequest({ ...exporting, exportPath: ' /videos/shot.mp4 ' }, null)).toEqual({ request: { stages: ['propagate', 'export'], redisUrl: 'redis://farm:6379', store: '/mnt/farm', exportPath: '/videos/shot.mp4' } });
    expect(farmRequest({ ...ok, exportPath: '/videos/shot.mp4' }, null)).toEqual({ request: { stages: ['propagate'], redisUrl: 'redis://farm:6379', store: '/mnt/farm' } });
    expect(farmRequest({ ...exporting, exportPath: 'shot.mp4' }, null)).toHaveProperty('problem', 'The video must be a full path (starting with / or a drive letter).');
    expect(farmRequest({ ...exporting, exportPath: '/videos/shot.mov' }, null)).toHaveProperty('problem', 'The video is an MP4: end its name with .mp4.');
  });

  it('reads a worker plainly', () => {
    expect(heartbeatText(0.2)).toBe('just now');
    expect(heartbeatText(3.7)).toBe('3 s ago');
    expect(heartbeatText(125)).toBe('2 min ago');
    expect(heartbeatText(7300)).toBe('2 h ago');
    expect(currentText(worker('a'))).toBe('idle');
    expect(currentText(worker('a', { current: [{ project: 'shot', frames: '0-4' }, { project: 'b', frames: '5-9' }] }))).toBe('shot: frames 0-4 · b: frames 5-9');
    expect(currentText(worker('a', { alive: false, current: [{ project: 'shot', frames: '0-4' }] }))).toBe('—');
    expect(sortWorkers([worker('b', { alive: false }), worker('c'), worker('a')]).map((w) => w.name)).toEqual(['a', 'c', 'b']);
  });
});

describe('workers list', () => {
  it('shows each worker and asks again while shown; a farm that cannot be reached says so', async () => {
    const asked: Array<string | null> = [];
    let answer: FarmWorkersInfo | Error = { workers: [worker('gpu2', { current: [{ project: 'shot', frames: '5-11' }] }), worker('gpu1', { alive: false, secondsSinceHeartbeat: 90 })], etaSeconds: 12 };
    const api = { farmWorkers: async (url: string | null) => (asked.push(url), answer instanceof Error ? Promise.reject(answer) : answer) } as Pick<RerenderApi, 'farmWorkers'>;
    const el = render(<FarmWorkers api={api} redisUrl={null} everyMs={20} />);
    await settle();
    const rows = [...el.querySelectorAll('[data-testid="farm-worker"]')].map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent));
    expect(rows).toEqual([
      ['gpu2', 'CUDA (NVIDIA H200)', 'shot: frames 5-11', '3 s ago', 'alive'],
      ['gpu1', 'CUDA (NVIDIA H200)', '—', '1 min ago', 'gone'],
    ]);
    expect(el.textContent).toContain('1 working · farm ETA 12s');
    answer = Object.assign(new Error('cannot reach Redis at redis://farm:6379: connect ECONNREFUSED'), { code: 'REDIS_UNAVAILABLE' });
    await act(async () => new Promise((r) => setTimeout(r, 60)));
    expect(asked.length).toBeGreaterThan(1);
    expect(asked.every((u) => u === null)).toBe(true);
    expect(el.querySelector('[data-testid="farm-workers-problem"]')).not.toBeNull();
  });
});

describe('farm dialog', () => {
  function setup(settings: FarmSettingsInfo, fail?: Error) {
    const calls: unknown[][] = [];
    let closed = 0;
    const api = new Proxy({}, {
      get: (_t, name) => async (...args: unknown[]) => {
        calls.push([name, ...args]);
        if (name === 'farmSettings') return settings;
        if (name === 'farmSubmit' && fail) throw fail;
        if (name === 'farmWorkers') return { workers: [], etaSeconds: null };
        return undefined;
      },
    }) as RerenderApi;
    const services: Services = { connection: { api, mediaUrl: (r) => `/media/${r}`, mode: 'browser', onDisconnect: () => {}, fileToPath: async () => '' }, run: (p) => p, setProject: () => {} };
    const project = { path: '/p/shot.rrproj', name: 'shot', source: { path: '/v.mp4', linked: true, width: 64, height: 48, fps: { num: 25, den: 1 }, frameCount: 12, hasAudio: false }, working: { width: 64, height: 48 }, keyframes: [], renderedFrames: 0, settings: {} };
    const el = render(<FarmDialog services={services} project={project} jobs={[]} onClose={() => void closed++} />);
    return { el, calls, closed: () => closed };
  }

  it('ticks what the project needs, keeps the saved password out of the request, and closes once submitted', async () => {
    const { el, calls, closed } = setup({ redis: 'redis://:***@farm:6379/', store: '/mnt/farm', needed: ['translate', 'propagate'] });
    await settle();
    const box = (s: string) => el.querySelector<HTMLInputElement>(`[data-testid="farm-stage-${s}"]`)!;
    expect([box('translate').checked, box('propagate').checked, box('export').checked]).toEqual([true, true, false]);
    expect(el.querySelector<HTMLInputElement>('#farm-redis')!.value).toBe('redis://:***@farm:6379/');
    expect(el.textContent).toContain('The saved password is used');
    act(() => box('translate').click());
    await act(async () => el.querySelector<HTMLButtonElement>('[data-testid="farm-submit"]')!.click());
    expect(calls.find((c) => c[0] === 'farmSubmit')).toEqual(['farmSubmit', { stages: ['propagate'], redisUrl: null, store: '/mnt/farm' }]);
    expect(closed()).toBe(1);
  });

  it('shows a problem in one line and stays open', async () => {
    const { el, calls, closed } = setup({ redis: null, store: null, needed: ['propagate'] }, Object.assign(new Error('cannot reach Redis at redis://farm:6379/: ECONNREFUSED'), { code: 'REDIS_UNAVAILABLE' }));
    await settle();
    const submit = () => act(async () => el.querySelector<HTMLButtonElement>('[data-testid="farm-submit"]')!.click());
    await submit();
    expect(el.querySelector('[data-testid="farm-problem"]')?.textContent).toBe("Enter the farm's address (redis://host:6379).");
    expect(calls.some((c) => c[0] === 'farmSubmit')).toBe(false);
    type(el.querySelector<HTMLInputElement>('#farm-redis')!, 'redis://farm:6379');
    type(el.querySelector<HTMLInputElement>('#farm-store')!, '/mnt/farm');
    await submit();
    expect(calls.filter((c) => c[0] === 'farmSubmit')).toHaveLength(1);
    expect(el.querySelector('[data-testid="farm-problem"]')).not.toBeNull();
    expect(closed()).toBe(0);
  });
});
