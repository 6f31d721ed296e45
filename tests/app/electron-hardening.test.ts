// The Electron security checklist beyond the main window's options: web permissions denied, every
// web contents guarded (not just the main window), and the fuses set in the packaged binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startShell } from '../../src-main/app/shell.ts';
import { guardWebContents } from '../../src-main/app/web-contents-guard.ts';
import { isPermissionAllowed } from '../../src-main/app/permissions.ts';
import { FakeHost, FakeWebContents, FakeWindow, fakeElectron, type FakeElectron } from './fakes.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const APP = 'rerender://app/index.html';

async function started(): Promise<FakeElectron> {
  const electron = fakeElectron(new FakeHost());
  await startShell(electron, { rendererDir: '/nonexistent', preloadPath: '/p/preload.cjs', servicesEntry: '/s/services-process.js' }, 'linux');
  return electron;
}

test('permission requests and checks are denied, except a clipboard write from our own page', async () => {
  const { session } = await started();
  const s = session.defaultSession;
  assert.ok(s.requestHandler && s.checkHandler && s.deviceHandler, 'all three handlers installed');
  const request = (permission: string, requestingUrl: string): boolean => {
    let granted: boolean | null = null;
    s.requestHandler!({}, permission, (g) => void (granted = g), { requestingUrl, isMainFrame: true });
    assert.notEqual(granted, null, `${permission}: callback answered`);
    return granted!;
  };
  for (const p of ['media', 'notifications', 'geolocation', 'midi', 'midiSysex', 'pointerLock', 'fullscreen', 'openExternal', 'clipboard-read', 'display-capture', 'window-management', 'unknown']) {
    assert.equal(request(p, APP), false, `request ${p}`);
    assert.equal(s.checkHandler!({}, p, 'rerender://app', { requestingUrl: APP }), false, `check ${p}`);
  }
  for (const p of ['hid', 'serial', 'usb']) assert.equal(s.checkHandler!({}, p, 'rerender://app', {}), false, `check ${p}`);
  assert.equal(request('clipboard-sanitized-write', APP), true);
  assert.equal(s.checkHandler!({}, 'clipboard-sanitized-write', 'rerender://app', {}), true, 'origin alone');
  for (const foreign of ['https://evil.example/', 'file:///tmp/x.html', 'rerender://media/frame/1.png', 'rerender://evil@app/']) {
    assert.equal(request('clipboard-sanitized-write', foreign), false, foreign);
    assert.equal(s.checkHandler!({}, 'clipboard-sanitized-write', 'rerender://app', { requestingUrl: foreign }), false, `check ${foreign}`);
  }
  assert.equal(s.deviceHandler!({ deviceType: 'usb', origin: 'rerender://app' }), false);
  assert.equal(isPermissionAllowed('clipboard-sanitized-write', undefined), false);
});

test('every web contents is guarded: the guard is registered before the first window, and covers new ones', async () => {
  const electron = await started();
  const guardAt = electron.timeline.indexOf('app.on web-contents-created');
  assert.ok(guardAt >= 0, 'web-contents-created handler registered');
  assert.ok(guardAt < electron.timeline.indexOf('window'), `guard before the window: ${electron.timeline.join(', ')}`);
  assert.ok(FakeWindow.all[0]?.webContents.openHandler, 'main window guarded through the app-wide handler');

  // Any other web contents (a popup or webview a compromised renderer got created) gets the same guard.
  const other = new FakeWebContents();
  for (const l of electron.appListeners.get('web-contents-created') ?? []) l({}, other);
  for (const contents of [other, FakeWindow.all[0]!.webContents]) {
    assert.equal(contents.openHandler?.({ url: 'https://example.com/' }).action, 'deny');
    assert.equal(contents.openHandler?.({ url: APP }).action, 'deny', 'no new windows, even of our own page');
    for (const event of ['will-navigate', 'will-redirect'] as const) {
      for (const off of ['https://evil.example/', 'file:///etc/passwd', 'rerender://media/frame/source/1.png', 'rerender://evil@app/', 'javascript:alert(1)', 'not a url']) {
        assert.equal(contents.fire(event, off), true, `${event} ${off} blocked`);
      }
      assert.equal(contents.fire(event, 'rerender://app/index.html#/project'), false, `${event} within the app allowed`);
    }
    assert.equal(contents.fire('will-attach-webview', { nodeIntegration: true }, { src: 'https://evil.example/' }), true, 'webview refused');
  }
});

test('the navigation guard reads the target from event.url first (Electron 45), else the deprecated argument', () => {
  const contents = new FakeWebContents();
  guardWebContents(contents);
  const [nav] = contents.listeners.get('will-navigate') ?? [];
  assert.ok(nav);
  let prevented = 0;
  const ev = (url?: string) => ({ preventDefault: () => void prevented++, ...(url === undefined ? {} : { url }) });
  nav(ev('https://evil.example/'), APP); // event.url wins over a benign-looking argument
  assert.equal(prevented, 1);
  nav(ev(), 'https://evil.example/');
  assert.equal(prevented, 2);
  nav(ev(), APP);
  nav(ev(APP), undefined);
  assert.equal(prevented, 2);
  nav(ev(), undefined); // no target at all: refused
  assert.equal(prevented, 3);
});

/** The `electronFuses:` block of electron-builder.yml as key → value (flat `  key: value` lines). */
function fusesBlock(yml: string): Map<string, string> {
  const lines = yml.split(/\r?\n/);
  const start = lines.findIndex((l) => /^electronFuses:\s*(#.*)?$/.test(l));
  assert.ok(start >= 0, 'electron-builder.yml has a top-level electronFuses block');
  assert.equal(lines.filter((l) => /^electronFuses:/.test(l)).length, 1, 'only one electronFuses block');
  const out = new Map<string, string>();
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const m = /^ {2}([A-Za-z][A-Za-z0-9]*):\s*(\S+)\s*(#.*)?$/.exec(line);
    if (!m) {
      assert.match(line, /^\S/, `unexpected line inside electronFuses: ${line}`);
      break;
    }
    assert.ok(!out.has(m[1]!), `duplicate fuse ${m[1]}`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

test('electron-builder.yml flips the security fuses', () => {
  const fuses = fusesBlock(readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8'));
  const want: Record<string, string> = {
    runAsNode: 'false',
    enableCookieEncryption: 'true',
    enableNodeOptionsEnvironmentVariable: 'false',
    enableNodeCliInspectArguments: 'false',
    enableEmbeddedAsarIntegrityValidation: 'true',
    onlyLoadAppFromAsar: 'true',
    loadBrowserProcessSpecificV8Snapshot: 'false',
    grantFileProtocolExtraPrivileges: 'false',
  };
  assert.deepEqual(Object.fromEntries(fuses), want);
  // The key names are electron-builder's own (a misspelt key fails its schema check at build time).
  const scheme = path.join(ROOT, 'node_modules', 'app-builder-lib', 'scheme.json');
  if (existsSync(scheme)) {
    const known = (JSON.parse(readFileSync(scheme, 'utf8')) as { definitions: Record<string, { properties?: Record<string, unknown> }> })
      .definitions['FuseOptionsV1']?.properties ?? {};
    for (const key of fuses.keys()) assert.ok(Object.hasOwn(known, key), `${key} is an electron-builder fuse option`);
  }
});

test('the fuses parser rejects what it cannot read (so the test above can fail)', () => {
  assert.throws(() => fusesBlock('asar: true\n'), /has a top-level electronFuses block/);
  assert.throws(() => fusesBlock('electronFuses:\n  runAsNode: false\n    nested: 1\n'), /unexpected line/);
  assert.deepEqual(Object.fromEntries(fusesBlock('electronFuses:\n  runAsNode: true # c\n\nlinux:\n  x: 1\n')), { runAsNode: 'true' });
});
