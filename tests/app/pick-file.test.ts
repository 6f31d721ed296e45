import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPC_CHANNEL } from '../../src-main/api/contract.ts';
import { startShell } from '../../src-main/app/shell.ts';
import { dialogFilters } from '../../src-main/app/pick-file.ts';
import { FakeHost, fakeElectron } from './fakes.ts';

const appFrame = { senderFrame: { url: 'rerender://app/index.html' } };
const paths = { rendererDir: '/nonexistent', preloadPath: '/p/preload.cjs', servicesEntry: '/s/services-process.js' };

async function shellWithDialogs(platform: NodeJS.Platform) {
  const host = new FakeHost();
  const electron = fakeElectron(host);
  const opened: unknown[] = [];
  const saved: unknown[] = [];
  let answer: { open: { canceled: boolean; filePaths: string[] }; save: { canceled: boolean; filePath?: string } } = {
    open: { canceled: false, filePaths: ['/videos/clip.mp4'] },
    save: { canceled: false, filePath: '/videos/clip.rrproj' },
  };
  electron.dialog.showOpenDialog = async (o) => (opened.push(o), answer.open);
  electron.dialog.showSaveDialog = async (o) => (saved.push(o), answer.save);
  await startShell(electron, paths, platform);
  const handler = electron.handlers.get(IPC_CHANNEL);
  assert.ok(handler);
  host.calls = [];
  return {
    host,
    opened,
    saved,
    call: (...args: unknown[]) => handler(appFrame, 'pickFile', ...args) as Promise<{ ok: boolean; value?: unknown; error?: { code: string } }>,
    setAnswer: (a: typeof answer) => void (answer = a),
  };
}

test('pickFile is answered by main with native dialogs and the filter\'s extensions; the services never see it', async () => {
  const s = await shellWithDialogs('linux');
  assert.deepEqual(await s.call('video', 'open'), { ok: true, value: '/videos/clip.mp4' });
  assert.deepEqual(s.opened[0], {
    title: 'Choose video',
    properties: ['openFile'],
    filters: [{ name: 'Video', extensions: ['mp4', 'mov', 'mkv', 'avi', 'webm', 'm4v', 'mpg', 'mpeg', 'wmv', 'flv', 'ts', 'mts', 'm2ts', '3gp', 'ogv', 'gif'] }, { name: 'All files', extensions: ['*'] }],
  });
  // Save: the suggestion gets the filter's extension.
  assert.deepEqual(await s.call('project', 'save', '/videos/clip'), { ok: true, value: '/videos/clip.rrproj' });
  assert.deepEqual(s.saved[0], { title: 'Save rerender project as', defaultPath: '/videos/clip.rrproj', filters: dialogFilters('project') });
  // Cancelled dialogs answer null.
  s.setAnswer({ open: { canceled: true, filePaths: [] }, save: { canceled: true } });
  assert.deepEqual(await s.call('image', 'open'), { ok: true, value: null });
  assert.deepEqual(await s.call('project', 'save'), { ok: true, value: null });
  // Models may be folders: off macOS that is the in-app browser's job.
  const model = await s.call('model', 'open');
  assert.equal(model.ok, false);
  assert.equal(model.error?.code, 'NO_NATIVE_PICKER');
  // Bad arguments never reach a dialog.
  assert.equal((await s.call('movies', 'open')).ok, false);
  assert.equal((await s.call('video', 'delete')).ok, false);
  assert.equal(s.opened.length, 2);
  assert.deepEqual(s.host.calls, [], 'the services process never saw pickFile');
});

test('pickFile on macOS picks model files or folders', async () => {
  const s = await shellWithDialogs('darwin');
  assert.deepEqual(await s.call('model', 'open'), { ok: true, value: '/videos/clip.mp4' });
  assert.deepEqual((s.opened[0] as { properties: string[] }).properties, ['openFile', 'openDirectory']);
});

test('listDirectory goes to the services like any other request', async () => {
  const host = new FakeHost();
  const electron = fakeElectron(host);
  await startShell(electron, paths, 'linux');
  const handler = electron.handlers.get(IPC_CHANNEL);
  assert.ok(handler);
  host.calls = [];
  assert.deepEqual(await handler(appFrame, 'listDirectory', null, 'video'), { ok: true, value: { echoed: 'listDirectory', args: [null, 'video'] } });
  assert.equal(((await handler(appFrame, 'listDirectory', 'relative-is-checked-by-the-host', 'nope')) as { ok: boolean }).ok, false);
  assert.deepEqual(host.calls, [{ name: 'listDirectory', args: [null, 'video'] }]);
});
