import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPC_CHANNEL, IPC_EVENT_CHANNEL, requestSchemas } from '../../src-main/api/contract.ts';
import { APP_ENTRY_URL, isAppUrl } from '../../src-main/app/app-origin.ts';
import { createRequestHandler } from '../../src-main/app/ipc-guard.ts';
import { createWindowOptions } from '../../src-main/app/window-options.ts';
import { registerScheme, startShell } from '../../src-main/app/shell.ts';
import { FakeHost, FakeWindow, fakeElectron } from './fakes.ts';

const appFrame = { senderFrame: { url: 'rerender://app/index.html' } };

test('window options isolate the renderer', () => {
  const o = createWindowOptions('/x/preload.cjs');
  assert.equal(o.webPreferences.contextIsolation, true);
  assert.equal(o.webPreferences.sandbox, true);
  assert.equal(o.webPreferences.nodeIntegration, false);
  assert.equal(o.webPreferences.nodeIntegrationInWorker, false);
  assert.equal(o.webPreferences.webSecurity, true);
  assert.equal(o.webPreferences.webviewTag, false);
  assert.equal(o.webPreferences.preload, '/x/preload.cjs');
});

test('isAppUrl accepts only rerender://app', () => {
  assert.equal(isAppUrl('rerender://app/index.html'), true);
  assert.equal(isAppUrl('rerender://app/'), true);
  assert.equal(isAppUrl('rerender://media/frame/source/1.png'), false);
  assert.equal(isAppUrl('https://app/index.html'), false);
  assert.equal(isAppUrl('file:///index.html'), false);
  assert.equal(isAppUrl('rerender://evil@app/'), false);
  assert.equal(isAppUrl('rerender://app.evil.com/'), false);
  assert.equal(isAppUrl(undefined), false);
  assert.equal(isAppUrl('not a url'), false);
});

test('request handler refuses a foreign frame before forwarding', async () => {
  const forwarded: string[] = [];
  const handle = createRequestHandler({ isTrustedUrl: isAppUrl, forward: async (name) => void forwarded.push(name) });
  for (const frame of [{ senderFrame: { url: 'https://evil.example/' } }, { senderFrame: { url: 'file:///tmp/x.html' } }, { senderFrame: null }]) {
    const r = await handle(frame, 'listJobs');
    assert.deepEqual(r, { ok: false, error: { code: 'FORBIDDEN', message: 'request refused: the sender is not the Rerender Studio window' } });
  }
  assert.deepEqual(forwarded, []);
});

test('request handler rejects bad arguments and unknown requests before forwarding', async () => {
  const forwarded: string[] = [];
  const handle = createRequestHandler({ isTrustedUrl: isAppUrl, forward: async (name) => void forwarded.push(name) });
  const bad: Array<[string, unknown[]]> = [
    ['addKeyframe', [-1]],
    ['addKeyframe', [1.5]],
    ['addKeyframe', ['3']],
    ['addKeyframe', [1, 2]],
    ['importKeyframeImage', [1, [1, 2, 3]]],
    ['startJob', [{ kind: 'export' }]],
    ['openProject', ['']],
  ];
  for (const [name, args] of bad) {
    const r = (await handle(appFrame, name, ...args)) as { ok: boolean; error?: { code: string; message: string } };
    assert.equal(r.ok, false, `${name} ${JSON.stringify(args)}`);
    assert.equal(r.error?.code, 'INVALID_ARGUMENT');
    assert.match(r.error?.message ?? '', new RegExp(`^${name}:`));
  }
  for (const name of ['__proto__', 'constructor', 'toString', 'deleteEverything', 42]) {
    const r = (await handle(appFrame, name)) as { ok: boolean; error?: { code: string } };
    assert.equal(r.error?.code, 'UNKNOWN_REQUEST');
  }
  assert.deepEqual(forwarded, []);
});

test('request handler forwards validated calls and carries error codes back', async () => {
  const handle = createRequestHandler({
    isTrustedUrl: isAppUrl,
    forward: async (name, args) => {
      if (name === 'removeKeyframe') throw Object.assign(new Error('no key frame at 9'), { code: 'NOT_A_KEYFRAME' });
      return { name, args };
    },
  });
  assert.deepEqual(await handle(appFrame, 'addKeyframe', 4), { ok: true, value: { name: 'addKeyframe', args: [4] } });
  assert.deepEqual(await handle(appFrame, 'removeKeyframe', 9), { ok: false, error: { code: 'NOT_A_KEYFRAME', message: 'no key frame at 9' } });
});

test('shell: privileged scheme, sandboxed window on the app origin, guarded IPC through the services process', async () => {
  const host = new FakeHost();
  const electron = fakeElectron(host);
  registerScheme(electron);
  assert.equal(electron.schemes[0]?.scheme, 'rerender');
  assert.equal(electron.schemes[0]?.privileges.standard, true);
  assert.equal(electron.schemes[0]?.privileges.secure, true);

  const shell = await startShell(electron, { rendererDir: '/nonexistent', preloadPath: '/p/preload.cjs', servicesEntry: '/s/services-process.js' }, 'linux');
  assert.deepEqual(electron.forked, ['/s/services-process.js']);
  const win = FakeWindow.all[0];
  assert.ok(win);
  assert.deepEqual(win.loaded, [APP_ENTRY_URL]);
  assert.equal(win.options.webPreferences.sandbox, true);
  // the app-wide guard (web-contents-created) reached the main window before it loaded anything
  assert.equal(win.webContents.openHandler?.({ url: 'https://evil.example' }).action, 'deny');
  assert.equal(win.webContents.fire('will-navigate', 'https://evil.example'), true);
  assert.equal(win.webContents.fire('will-navigate', 'rerender://app/index.html'), false);

  const handler = electron.handlers.get(IPC_CHANNEL);
  assert.ok(handler);
  host.calls = [];
  assert.equal(((await handler({ senderFrame: { url: 'https://evil.example/' } }, 'listJobs')) as { ok: boolean }).ok, false);
  assert.equal(((await handler(appFrame, 'addKeyframe', -3)) as { ok: boolean }).ok, false);
  assert.deepEqual(host.calls, [], 'nothing reached the host');

  const ok = await handler(appFrame, 'addKeyframe', 5);
  assert.deepEqual(ok, { ok: true, value: { echoed: 'addKeyframe', args: [5] } });
  const bytes = new Uint8Array([137, 80, 78, 71]);
  assert.deepEqual(await handler(appFrame, 'importKeyframeImage', 2, bytes), { ok: true, value: { frame: 2, byteLength: 4, first: 137, isBytes: true } });
  assert.deepEqual(await handler(appFrame, 'openProject', '/nope.rrproj'), {
    ok: false,
    error: { code: 'PROJECT_NOT_FOUND', message: 'no project at /nope.rrproj' },
  });
  // revealFile is done by main itself (a desktop action), not by the services.
  host.calls = [];
  assert.deepEqual(await handler(appFrame, 'revealFile', '/tmp/out.mp4'), { ok: true, value: undefined });
  assert.deepEqual(electron.revealed, ['/tmp/out.mp4']);
  assert.deepEqual(host.calls, []);

  // Events from the services reach the window on the event channel.
  host.emit('job', { id: 'j1', done: 3, total: 10 });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(win.sent, [{ channel: IPC_EVENT_CHANNEL, args: [{ event: 'job', payload: { id: 'j1', done: 3, total: 10 } }] }]);

  // Menu: File/Edit/View/Help, with the recent list from the services.
  const menu = electron.menus.at(-1) ?? [];
  assert.deepEqual(menu.map((m) => m.label), ['File', 'Edit', 'View', 'Help']);
  const file = menu[0]?.submenu ?? [];
  assert.deepEqual(file.filter((i) => i.label).map((i) => i.label), ['New Project…', 'Open Project…', 'Open Recent', 'Export Video…']);
  assert.match(file[2]?.submenu?.[0]?.label ?? '', /a\.rrproj/);
  // Undo in the menu presses the editor's own shortcut.
  const undo = menu[1]?.submenu?.find((i) => i.label === 'Undo');
  undo?.click?.();
  assert.deepEqual(win.inputs[0], { type: 'keyDown', keyCode: 'Z', modifiers: ['control'] });
  assert.equal(undo?.registerAccelerator, false);
  assert.equal(shell.window(), win);
});

test('every contract request is handled by the guard (no request slips past validation)', async () => {
  const seen: string[] = [];
  const handle = createRequestHandler({ isTrustedUrl: isAppUrl, forward: async (name) => void seen.push(name) });
  for (const name of Object.keys(requestSchemas)) {
    const r = (await handle(appFrame, name, { definitely: 'wrong' }, 'x', -1)) as { ok: boolean };
    assert.equal(r.ok, false, name);
  }
  assert.deepEqual(seen, []);
});
