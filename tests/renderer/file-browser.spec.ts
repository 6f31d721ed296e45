import { describe, expect, it } from 'vitest';
import type { DirectoryEntry, DirectoryListing } from '../../src-main/api/contract.ts';
import {
  activate, breadcrumbs, browserReducer, chooseTarget, dirName, initialBrowserState, joinPath, keyToBrowserAction, suggestProjectPath, withExtension,
  type BrowserState,
} from '../../src-renderer/lib/file-browser.ts';
import { chooseDroppedVideo, dragDepth, percent } from '../../src-renderer/lib/file-drop.ts';
import { formatFrameTime, frameStartMsRounded } from '../../src-renderer/lib/frames.ts';

const entry = (dir: string, name: string, kind: 'dir' | 'file', matches = kind === 'file'): DirectoryEntry => ({
  name, path: `${dir}/${name}`, kind, size: kind === 'file' ? 10 : null, modifiedAt: '2024-01-01T00:00:00.000Z', matches,
});

function listing(dir: string, names: Array<[string, 'dir' | 'file', boolean?]>): DirectoryListing {
  return { path: dir, parent: dir === '/' ? null : dirName(dir), entries: names.map(([n, k, m]) => entry(dir, n, k, m)), roots: ['/home/me', '/'], truncated: false };
}

const home = listing('/home/me', [['clips', 'dir'], ['models', 'dir'], ['a.mp4', 'file'], ['b.mp4', 'file']]);

function loaded(state: BrowserState, l: DirectoryListing, selectName?: string): BrowserState {
  return browserReducer(browserReducer(state, { type: 'loading' }), { type: 'loaded', listing: l, ...(selectName ? { selectName } : {}) });
}

describe('file browser state', () => {
  it('selects the first row on load, or the folder it came back from', () => {
    const s = loaded(initialBrowserState('video', 'open'), home);
    expect(s.loading).toBe(false);
    expect(s.selected).toBe(0);
    expect(loaded(s, home, 'models').selected).toBe(1);
    expect(loaded(s, listing('/empty', [])).selected).toBe(-1);
  });

  it('arrows move within the list, Home/End jump, and a failed load keeps the folder shown', () => {
    let s = loaded(initialBrowserState('video', 'open'), home);
    s = browserReducer(s, { type: 'move', delta: -1 });
    expect(s.selected).toBe(0);
    s = browserReducer(s, { type: 'move', delta: 1 });
    s = browserReducer(s, { type: 'move', delta: 1 });
    expect(s.selected).toBe(2);
    expect(browserReducer(s, { type: 'move', delta: Infinity }).selected).toBe(3);
    expect(browserReducer(s, { type: 'move', delta: -Infinity }).selected).toBe(0);
    const failed = browserReducer(browserReducer(s, { type: 'loading' }), { type: 'failed', error: 'No permission' });
    expect(failed.listing).toBe(home);
    expect(failed.selected).toBe(2);
    expect(failed.error).toBe('No permission');
  });

  it('Enter/double-click enters a folder and chooses a file; Choose needs a match', () => {
    const s = loaded(initialBrowserState('video', 'open'), home);
    expect(activate(s)).toEqual({ kind: 'enter', path: '/home/me/clips' });
    expect(activate(s, 3)).toEqual({ kind: 'choose', path: '/home/me/b.mp4' });
    expect(chooseTarget(s)).toBeNull(); // a plain folder is not a video
    expect(chooseTarget(browserReducer(s, { type: 'select', index: 2 }))).toBe('/home/me/a.mp4');
    const models = loaded(initialBrowserState('model', 'open'), listing('/m', [['sd15', 'dir', true], ['misc', 'dir', false]]));
    expect(chooseTarget(models)).toBe('/m/sd15');
    expect(activate(models)).toEqual({ kind: 'enter', path: '/m/sd15' });
    expect(chooseTarget(browserReducer(models, { type: 'select', index: 1 }))).toBeNull();
  });

  it('save mode joins the typed name with the folder and adds the extension', () => {
    let s = loaded(initialBrowserState('project', 'save', 'shot'), listing('/p', [['old.rrproj', 'file']]));
    expect(chooseTarget(s)).toBe('/p/shot.rrproj');
    s = browserReducer(s, { type: 'select', index: 0 });
    expect(s.fileName).toBe('old.rrproj');
    s = browserReducer(s, { type: 'name', value: 'a/b' });
    expect(chooseTarget(s)).toBeNull();
    expect(chooseTarget(browserReducer(s, { type: 'name', value: '  ' }))).toBeNull();
    expect(withExtension('x.RRPROJ', 'project')).toBe('x.RRPROJ');
    expect(withExtension('x', 'any')).toBe('x');
  });

  it('keys: arrows, Enter, Escape, Backspace (not while typing a name)', () => {
    expect(keyToBrowserAction('ArrowDown', false)).toBe('down');
    expect(keyToBrowserAction('ArrowUp', true)).toBe('up');
    expect(keyToBrowserAction('Enter', false)).toBe('activate');
    expect(keyToBrowserAction('Escape', true)).toBe('cancel');
    expect(keyToBrowserAction('Backspace', false)).toBe('parent');
    expect(keyToBrowserAction('Backspace', true)).toBeNull();
    expect(keyToBrowserAction('a', false)).toBeNull();
  });

  it('paths use the services\' separator', () => {
    expect(breadcrumbs('/home/me/clips')).toEqual([
      { label: '/', path: '/' }, { label: 'home', path: '/home' }, { label: 'me', path: '/home/me' }, { label: 'clips', path: '/home/me/clips' },
    ]);
    expect(breadcrumbs('/')).toEqual([{ label: '/', path: '/' }]);
    expect(breadcrumbs('C:\\Users\\me')).toEqual([{ label: 'C:', path: 'C:\\' }, { label: 'Users', path: 'C:\\Users' }, { label: 'me', path: 'C:\\Users\\me' }]);
    expect(joinPath('/', 'a')).toBe('/a');
    expect(joinPath('C:\\Users', 'a.mp4')).toBe('C:\\Users\\a.mp4');
    expect(dirName('/a.mp4')).toBe('/');
    expect(dirName('C:\\a.mp4')).toBe('C:\\');
    expect(suggestProjectPath('/v/my.clip.mp4')).toBe('/v/my.clip.rrproj');
    expect(suggestProjectPath('D:\\v\\clip.mov')).toBe('D:\\v\\clip.rrproj');
    expect(suggestProjectPath('')).toBe('');
  });
});

describe('dropping files', () => {
  it('takes the first video and explains a non-video', () => {
    expect(chooseDroppedVideo([{ name: 'notes.txt' }, { name: 'Clip.MOV' }])).toEqual({ ok: true, file: { name: 'Clip.MOV' } });
    const no = chooseDroppedVideo([{ name: 'paint.png' }]);
    expect(no.ok).toBe(false);
    expect(!no.ok && no.error).toMatch(/'paint.png' is not a video/);
    expect(chooseDroppedVideo([]).ok).toBe(false);
  });

  it('the overlay follows nested enter/leave pairs and clears on drop', () => {
    let d = dragDepth(0, 'enter');
    d = dragDepth(d, 'enter');
    d = dragDepth(d, 'leave');
    expect(d).toBe(1);
    expect(dragDepth(d, 'drop')).toBe(0);
    expect(dragDepth(0, 'leave')).toBe(0);
    expect(percent(1, 3)).toBe(33);
    expect(percent(5, 0)).toBe(0);
  });
});

describe('frame time readout', () => {
  it('rounds the exact start time to the nearest millisecond', () => {
    expect(formatFrameTime(7, { num: 24, den: 1 })).toBe('0:00.292');
    expect(frameStartMsRounded(1, { num: 24, den: 1 })).toBe(42); // 41.67
    expect(frameStartMsRounded(1, { num: 30000, den: 1001 })).toBe(33); // 33.367
    expect(frameStartMsRounded(3, { num: 8, den: 1 })).toBe(375); // exact
    expect(frameStartMsRounded(1, { num: 2000, den: 1 })).toBe(1); // 0.5 rounds up
    expect(formatFrameTime(1439, { num: 24, den: 1 })).toBe('0:59.958');
    // Ten hours into a 29.97 fps clip, still exact: 36000030.733 ms.
    expect(formatFrameTime(1078922, { num: 30000, den: 1001 })).toBe('600:00.031');
  });
});
