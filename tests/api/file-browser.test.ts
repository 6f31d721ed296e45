import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fsError, listDirectory, looksLikeDiffusersFolder, startFolder } from '../../src-main/api/file-browser.ts';
import { createApiHost } from '../../src-main/api/host.ts';

function fixture(): { root: string; home: string; data: string; done(): void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rr-browse-'));
  const home = path.join(root, 'home');
  const data = path.join(root, 'data');
  mkdirSync(home);
  mkdirSync(data);
  const w = (rel: string, bytes = 'x') => {
    mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    writeFileSync(path.join(home, rel), bytes);
  };
  w('clip10.mp4', '0123456789');
  w('clip2.MOV');
  w('notes.txt');
  w('shot.rrproj');
  w('paint.png');
  w('.hidden.mp4');
  w('.cache/x.mp4');
  w('lora.safetensors');
  w('models/sd15/model_index.json', '{}');
  w('models/canny/config.json', '{}');
  w('models/canny/diffusion_pytorch_model.safetensors');
  w('models/empty/readme.md');
  mkdirSync(path.join(home, 'Zeta'));
  symlinkSync(path.join(home, 'gone.mp4'), path.join(home, 'broken.mp4'));
  return { root, home, data, done: () => rmSync(root, { recursive: true, force: true }) };
}

test('lists folders first then matching files, natural order, hidden and broken entries skipped', async () => {
  const f = fixture();
  try {
    const l = await listDirectory(f.home, 'video', { home: f.home, dataDir: f.data, platform: 'linux' });
    assert.equal(l.path, f.home);
    assert.equal(l.parent, f.root);
    assert.equal(l.truncated, false);
    assert.deepEqual(
      l.entries.map((e) => [e.name, e.kind]),
      [['models', 'dir'], ['Zeta', 'dir'], ['clip2.MOV', 'file'], ['clip10.mp4', 'file']],
    );
    const clip = l.entries.find((e) => e.name === 'clip10.mp4');
    assert.equal(clip?.size, 10);
    assert.equal(clip?.path, path.join(f.home, 'clip10.mp4'));
    assert.ok(!Number.isNaN(Date.parse(clip?.modifiedAt ?? '')));
    assert.equal(l.entries[0]?.size, null);
    // Roots: home, the data folder, then the system's places that exist.
    assert.deepEqual(l.roots.slice(0, 3), [f.home, f.data, '/']);
  } finally {
    f.done();
  }
});

test('each filter keeps its own files; model marks diffusers folders', async () => {
  const f = fixture();
  const names = async (dir: string, filter: 'project' | 'image' | 'model' | 'any') =>
    (await listDirectory(dir, filter, { home: f.home, dataDir: f.data })).entries.filter((e) => e.kind === 'file').map((e) => e.name);
  try {
    assert.deepEqual(await names(f.home, 'project'), ['shot.rrproj']);
    assert.deepEqual(await names(f.home, 'image'), ['paint.png']);
    assert.deepEqual(await names(f.home, 'model'), ['lora.safetensors']);
    assert.deepEqual(await names(f.home, 'any'), ['clip2.MOV', 'clip10.mp4', 'lora.safetensors', 'notes.txt', 'paint.png', 'shot.rrproj']);
    const models = await listDirectory(path.join(f.home, 'models'), 'model', { home: f.home, dataDir: f.data });
    assert.deepEqual(models.entries.map((e) => [e.name, e.matches]), [['canny', true], ['empty', false], ['sd15', true]]);
    const video = await listDirectory(path.join(f.home, 'models'), 'video', { home: f.home, dataDir: f.data });
    assert.ok(video.entries.every((e) => !e.matches), 'folders are not choices for a video');
    assert.equal(await looksLikeDiffusersFolder(path.join(f.home, 'Zeta')), false);
  } finally {
    f.done();
  }
});

test('the filesystem root has no parent', async () => {
  const l = await listDirectory('/', 'any', { home: os.tmpdir(), dataDir: os.tmpdir() });
  assert.equal(l.path, '/');
  assert.equal(l.parent, null);
});

test('typed errors: missing, a file, relative, unreadable', async () => {
  const f = fixture();
  const opts = { home: f.home, dataDir: f.data };
  try {
    await assert.rejects(listDirectory(path.join(f.home, 'nope'), 'any', opts), { code: 'NOT_FOUND' });
    await assert.rejects(listDirectory(path.join(f.home, 'notes.txt'), 'any', opts), { code: 'NOT_A_DIRECTORY' });
    await assert.rejects(listDirectory('relative/dir', 'any', opts), { code: 'INVALID_ARGUMENT' });
    const locked = path.join(f.home, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o000);
    try {
      // root reads anything: the permission check only means something for other users.
      if (process.getuid?.() !== 0) await assert.rejects(listDirectory(locked, 'any', opts), { code: 'ACCESS_DENIED' });
    } finally {
      chmodSync(locked, 0o755);
    }
    // The mapping itself, whoever runs the test.
    const errno = (code: string) => Object.assign(new Error(code), { code });
    assert.equal(fsError(errno('EACCES'), '/x').code, 'ACCESS_DENIED');
    assert.equal(fsError(errno('EPERM'), '/x').code, 'ACCESS_DENIED');
    assert.match(fsError(errno('EACCES'), '/x').message, /No permission to read '\/x'/);
  } finally {
    f.done();
  }
});

test('start folder: the last one used if it exists, else home', async () => {
  const f = fixture();
  try {
    assert.equal(await startFolder([null, path.join(f.home, 'gone'), path.join(f.home, 'models')], f.home), path.join(f.home, 'models'));
    assert.equal(await startFolder([path.join(f.home, 'notes.txt'), 'relative'], f.home), f.home);
  } finally {
    f.done();
  }
});

test('host: listDirectory validates its arguments, starts at home, then where it was left', async () => {
  const f = fixture();
  const host = createApiHost({ dataDir: f.data, env: { ...process.env, HOME: f.home } });
  try {
    await assert.rejects(host.call('listDirectory', ['/tmp', 'movies']), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(host.call('listDirectory', ['']), { code: 'INVALID_ARGUMENT' });
    assert.equal((await host.api.listDirectory(null, 'video')).path, f.home);
    await host.api.listDirectory(path.join(f.home, 'models'), 'model');
    assert.equal((await host.api.listDirectory(null, 'video')).path, path.join(f.home, 'models'));
    await assert.rejects(host.api.listDirectory(path.join(f.home, 'nope'), 'any'), { code: 'NOT_FOUND' });
    await assert.rejects(host.api.pickFile('video', 'open'), { code: 'NO_NATIVE_PICKER' });
  } finally {
    await host.dispose();
    f.done();
  }
});
