import { describe, expect, it, vi } from 'vitest';
import { act } from 'react';
import type { DirectoryListing, FileFilter } from '../../src-main/api/contract.ts';
import { FileBrowser } from '../../src-renderer/components/FileBrowser.tsx';
import { checkTypedPath, isAbsolutePath, onListFailure } from '../../src-renderer/lib/path-entry.ts';
import type { PickMode } from '../../src-renderer/lib/file-browser.ts';
import { render } from './render-harness.ts';

function listing(path: string): DirectoryListing {
  return { path, parent: path === '/' ? null : '/', entries: [], roots: ['/'], truncated: false };
}

function coded(code: string, message: string) {
  return Object.assign(new Error(message), { code });
}

/** A fake listDirectory over a few folders and files, recording each call. */
function fakeApi(dirs: string[], files: string[]) {
  const listDirectory = vi.fn(async (dir: string | null, _filter: FileFilter) => {
    const d = dir ?? '/home';
    if (dirs.includes(d)) return listing(d);
    if (files.includes(d)) throw coded('NOT_A_DIRECTORY', `'${d}' is a file, not a folder.`);
    throw coded('NOT_FOUND', `The folder '${d}' does not exist.`);
  });
  return { listDirectory };
}

async function flush() {
  await act(async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  });
}

async function mount(api: ReturnType<typeof fakeApi>, filter: FileFilter, mode: PickMode = 'open') {
  const onChoose = vi.fn();
  const el = render(<FileBrowser api={api} title="Pick" filter={filter} mode={mode} onChoose={onChoose} onCancel={() => {}} />);
  await flush();
  return { el, onChoose, box: el.querySelector<HTMLInputElement>('input[aria-label="Folder or file path"]')! };
}

async function typeAndEnter(box: HTMLInputElement, value: string) {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
  act(() => {
    setter.call(box, value);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  });
  act(() => void box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })));
  await flush();
}

describe('file browser path box', () => {
  it('shows the folder on screen, and Enter on a typed folder lists it', async () => {
    const api = fakeApi(['/home', '/data/clips'], []);
    const { box, el, onChoose } = await mount(api, 'video');
    expect(box.value).toBe('/home');
    await typeAndEnter(box, '  /data/clips ');
    expect(api.listDirectory).toHaveBeenLastCalledWith('/data/clips', 'video');
    expect(box.value).toBe('/data/clips');
    expect(el.querySelector('[data-testid="fb-crumbs"]')!.textContent).toContain('clips');
    expect(onChoose).not.toHaveBeenCalled();
  });

  it('picks a typed file that matches the filter', async () => {
    const api = fakeApi(['/home'], ['/data/clip.MP4']);
    const { box, onChoose } = await mount(api, 'video');
    await typeAndEnter(box, '/data/clip.MP4');
    expect(onChoose).toHaveBeenCalledWith('/data/clip.MP4');
  });

  it('shows the services error for a file of another kind or a missing folder, without choosing', async () => {
    const api = fakeApi(['/home'], ['/data/notes.txt']);
    const { box, el, onChoose } = await mount(api, 'video');
    await typeAndEnter(box, '/data/notes.txt');
    expect(el.querySelector('[role="alert"]')!.textContent).toBe("'/data/notes.txt' is a file, not a folder.");
    await typeAndEnter(box, '/nowhere');
    expect(el.querySelector('[role="alert"]')!.textContent).toBe("The folder '/nowhere' does not exist.");
    expect(onChoose).not.toHaveBeenCalled();
  });

  it('refuses a relative path without asking the services', async () => {
    const api = fakeApi(['/home'], []);
    const { box, el } = await mount(api, 'any');
    const calls = api.listDirectory.mock.calls.length;
    await typeAndEnter(box, 'clips/day1');
    expect(api.listDirectory.mock.calls.length).toBe(calls);
    expect(el.querySelector('[role="alert"]')!.textContent).toMatch(/not an absolute path/);
  });

  it('when saving, picks a new file in an existing folder but not in a missing one', async () => {
    const api = fakeApi(['/home', '/out'], []);
    const { box, el, onChoose } = await mount(api, 'project', 'save');
    await typeAndEnter(box, '/gone/new.rrproj');
    expect(onChoose).not.toHaveBeenCalled();
    expect(el.querySelector('[role="alert"]')!.textContent).toMatch(/does not exist/);
    await typeAndEnter(box, '/out/new.rrproj');
    expect(onChoose).toHaveBeenCalledWith('/out/new.rrproj');
  });
});

describe('typed path rules', () => {
  it('knows absolute paths on both systems', () => {
    for (const p of ['/', '/a/b', 'C:\\x', 'd:/y', '\\\\host\\share']) expect(isAbsolutePath(p)).toBe(true);
    for (const p of ['a/b', '.', '~/x', 'C:x']) expect(isAbsolutePath(p)).toBe(false);
    expect(checkTypedPath('   ')).toBeNull();
  });

  it('chooses only files of the filter kind', () => {
    expect(onListFailure('NOT_A_DIRECTORY', '/a/m.safetensors', 'model', 'open')).toBe('choose');
    expect(onListFailure('NOT_A_DIRECTORY', '/a/m.txt', 'model', 'open')).toBe('show');
    expect(onListFailure('NOT_FOUND', '/a/m.safetensors', 'model', 'open')).toBe('show');
    expect(onListFailure('NOT_FOUND', '/a/p.rrproj', 'project', 'save')).toBe('choose-if-parent-exists');
    expect(onListFailure('ACCESS_DENIED', '/a/p.rrproj', 'project', 'open')).toBe('show');
  });
});
