import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPC_CHANNEL, IPC_EVENT_CHANNEL, requestSchemas, type RerenderApi } from '../../src-main/api/contract.ts';
import type { IpcRendererLike } from '../../src-main/app/electron-types.ts';
import { exposeApi } from '../../src-main/app/preload-expose.ts';
import * as preloadApi from '../../src-main/app/preload-api.ts';

test('the preload uses the contract\'s channel names', () => {
  assert.equal(preloadApi.IPC_CHANNEL, IPC_CHANNEL);
  assert.equal(preloadApi.IPC_EVENT_CHANNEL, IPC_EVENT_CHANNEL);
});

function fakeIpc(reply: (channel: string, args: unknown[]) => unknown) {
  const listeners = new Set<(e: unknown, ...a: unknown[]) => void>();
  const invoked: unknown[][] = [];
  const ipc: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      invoked.push([channel, ...args]);
      return reply(channel, args);
    },
    on: (channel, l) => {
      assert.equal(channel, IPC_EVENT_CHANNEL);
      listeners.add(l);
    },
    removeListener: (_c, l) => listeners.delete(l),
  };
  return { ipc, invoked, push: (msg: unknown) => listeners.forEach((l) => l({}, msg)), count: () => listeners.size };
}

function expose(ipc: IpcRendererLike): { keys: string[]; api: RerenderApi } {
  const exposed: Array<[string, unknown]> = [];
  exposeApi({ contextBridge: { exposeInMainWorld: (k, v) => void exposed.push([k, v]) }, ipcRenderer: ipc });
  assert.equal(exposed.length, 1, 'exactly one object is exposed');
  const [key, api] = exposed[0]!;
  return { keys: [key], api: api as RerenderApi };
}

test('the preload exposes exactly the API methods under window.rerender', () => {
  const { ipc } = fakeIpc(() => ({ ok: true, value: null }));
  const { keys, api } = expose(ipc);
  assert.deepEqual(keys, ['rerender']);
  assert.deepEqual(Object.keys(api).sort(), [...Object.keys(requestSchemas), 'on'].sort());
  for (const v of Object.values(api)) assert.equal(typeof v, 'function');
  assert.equal(Object.isFrozen(api), true);
});

test('requests go through one channel and typed errors are re-thrown', async () => {
  const f = fakeIpc((_c, args) =>
    args[0] === 'cancelJob' ? { ok: false, error: { code: 'JOB_NOT_FOUND', message: 'no job x' } } : { ok: true, value: { got: args } },
  );
  const { api } = expose(f.ipc);
  assert.deepEqual(await api.addKeyframe(7), { got: ['addKeyframe', 7] });
  assert.deepEqual(f.invoked[0], [IPC_CHANNEL, 'addKeyframe', 7]);
  await assert.rejects(api.cancelJob('x'), (err: Error & { code?: string }) => err.code === 'JOB_NOT_FOUND' && err.message === 'no job x');
});

test('on() delivers only its event and unsubscribes', () => {
  const f = fakeIpc(() => ({ ok: true, value: null }));
  const { api } = expose(f.ipc);
  const jobs: unknown[] = [];
  const off = api.on('job', (j) => jobs.push(j));
  f.push({ event: 'project', payload: { path: 'p' } });
  f.push({ event: 'job', payload: { id: 'a' } });
  assert.deepEqual(jobs, [{ id: 'a' }]);
  off();
  assert.equal(f.count(), 0);
  f.push({ event: 'job', payload: { id: 'b' } });
  assert.equal(jobs.length, 1);
  assert.throws(() => api.on('nope' as 'job', () => {}));
});

test('with webUtils, the bridge adds only pathForFile, which returns the dropped file\'s path', () => {
  const { ipc } = fakeIpc(() => ({ ok: true, value: null }));
  const exposed: Array<[string, unknown]> = [];
  const file = { name: 'clip.mp4' };
  exposeApi({
    contextBridge: { exposeInMainWorld: (k, v) => void exposed.push([k, v]) },
    ipcRenderer: ipc,
    webUtils: { getPathForFile: (f) => (f === file ? '/home/me/clip.mp4' : '') },
  });
  assert.equal(exposed.length, 1);
  const api = exposed[0]![1] as Record<string, unknown> & { pathForFile(f: unknown): string };
  assert.deepEqual(Object.keys(api).sort(), [...Object.keys(requestSchemas), 'on', 'pathForFile'].sort());
  assert.equal(api.pathForFile(file), '/home/me/clip.mp4');
  assert.throws(() => api.pathForFile({ name: 'made-in-page.mp4' }), /no path on disk/);
});
