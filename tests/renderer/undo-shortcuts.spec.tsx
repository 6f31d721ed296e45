// Project undo/redo in the editor: the keys (Backspace deletes nothing), which history Ctrl+Z goes
// to, the words shown, and the History panel calling the services.
import { describe, expect, it } from 'vitest';
import { act } from 'react';
import type { EditHistoryInfo, ProjectSummary, RerenderApi } from '../../src-main/api/contract.ts';
import { HistoryPanel, useProjectHistory } from '../../src-renderer/components/HistoryPanel.tsx';
import { historyButtonTitle, historyRoute, historyToast, modKey } from '../../src-renderer/lib/project-history.ts';
import { actionForKey, isTypingTarget } from '../../src-renderer/lib/shortcuts.ts';
import { render } from './render-harness.ts';

const key = (k: string, mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) =>
  actionForKey({ key: k, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, ...mods });

describe('undo shortcuts', () => {
  it('Ctrl/Cmd+Z undoes; Ctrl/Cmd+Shift+Z and Ctrl+Y redo', () => {
    expect(key('z', { ctrlKey: true })).toBe('undo');
    expect(key('z', { metaKey: true })).toBe('undo');
    expect(key('Z', { ctrlKey: true, shiftKey: true })).toBe('redo');
    expect(key('z', { metaKey: true, shiftKey: true })).toBe('redo');
    expect(key('y', { ctrlKey: true })).toBe('redo');
    expect(key('z', { ctrlKey: true, altKey: true })).toBeNull();
    expect(key('z')).toBeNull();
  });
  it('Delete removes the key frame; Backspace does nothing', () => {
    expect(key('Delete')).toBe('remove-keyframe');
    expect(key('Backspace')).toBeNull();
  });
  it('keys typed into text fields are not shortcuts', () => {
    const area = document.createElement('textarea');
    const text = document.createElement('input');
    const box = document.createElement('input');
    box.type = 'checkbox';
    expect(isTypingTarget(area)).toBe(true);
    expect(isTypingTarget(text)).toBe(true);
    expect(isTypingTarget(box)).toBe(false);
    expect(isTypingTarget(document.body)).toBe(false);
  });
  it('in the mask painter its own strokes come first, then the project', () => {
    expect(historyRoute(true, true)).toBe('painter');
    expect(historyRoute(true, false)).toBe('project');
    expect(historyRoute(false, true)).toBe('project');
  });
  it('says what it did and would do', () => {
    expect(historyToast('undo', 'Add key frame 12')).toBe('Undid: Add key frame 12');
    expect(historyToast('redo', 'Move key frame 12 → 20')).toBe('Redid: Move key frame 12 → 20');
    expect(historyButtonTitle('undo', 'Add key frame 12')).toBe('Undo: Add key frame 12 (Ctrl+Z)');
    expect(historyButtonTitle('redo', 'Change prompt', '⌘')).toBe('Redo: Change prompt (⌘+Shift+Z)');
    expect(historyButtonTitle('undo', null)).toBe('Nothing to undo');
    expect(modKey('MacIntel')).toBe('⌘');
    expect(modKey('Linux x86_64')).toBe('Ctrl');
  });
});

const history: EditHistoryInfo = {
  steps: [
    { label: 'Add key frame 12', at: '2026-01-01T10:00:00.000Z' },
    { label: 'Change steps 20 → 30', at: '2026-01-01T10:01:00.000Z' },
    { label: 'Delete key frame 12', at: '2026-01-01T10:02:00.000Z' },
  ],
  position: 2,
  undo: 'Change steps 20 → 30',
  redo: 'Delete key frame 12',
};

const project = {
  path: '/p/clip.rrproj',
  name: 'clip',
  source: { path: '/v.mp4', linked: true, width: 64, height: 48, fps: { num: 24, den: 1 }, frameCount: 24, hasAudio: false },
  working: { width: 64, height: 48 },
  keyframes: [],
  renderedFrames: 0,
  settings: {},
  history,
} satisfies ProjectSummary;

function Harness({ api, update }: { api: RerenderApi; update: (r: Promise<ProjectSummary>) => Promise<ProjectSummary | undefined> }) {
  return <HistoryPanel history={useProjectHistory(api, project, update)} />;
}

describe('HistoryPanel', () => {
  it('undo and redo buttons name the step, call the services and say what was undone', async () => {
    const calls: string[] = [];
    const after: ProjectSummary = { ...project, history: { ...history, position: 1, undo: 'Add key frame 12', redo: 'Change steps 20 → 30' } };
    const api = {
      undo: () => (calls.push('undo'), Promise.resolve(after)),
      redo: () => (calls.push('redo'), Promise.resolve(after)),
      historyGoTo: (n: number) => (calls.push(`goTo ${n}`), Promise.resolve(after)),
    } as unknown as RerenderApi;
    const el = render(<Harness api={api} update={(r) => r} />);
    const undo = el.querySelector<HTMLButtonElement>('[data-testid="undo-button"]')!;
    expect(undo.title).toBe('Undo: Change steps 20 → 30 (Ctrl+Z)');
    expect(el.querySelector<HTMLButtonElement>('[data-testid="redo-button"]')!.title).toBe('Redo: Delete key frame 12 (Ctrl+Shift+Z)');
    await act(async () => undo.click());
    expect(calls).toEqual(['undo']);
    expect(el.querySelector('[data-testid="history-toast"]')?.textContent).toBe('Undid: Change steps 20 → 30');

    act(() => el.querySelector<HTMLButtonElement>('[data-testid="history-toggle"]')!.click());
    const items = [...el.querySelectorAll('[data-testid="history-list"] li')];
    expect(items.map((li) => li.className)).toEqual(['done', 'done', 'current', 'undone']);
    expect(items[3]!.textContent).toContain('Delete key frame 12');
    await act(async () => items[1]!.querySelector('button')!.click());
    expect(calls).toEqual(['undo', 'goTo 1']);
  });

  it('with nothing to undo the buttons are off', () => {
    const empty = { ...project, history: { steps: [], position: 0, undo: null, redo: null } };
    function Empty() {
      return <HistoryPanel history={useProjectHistory({} as RerenderApi, empty, (r) => r)} />;
    }
    const el = render(<Empty />);
    expect(el.querySelector<HTMLButtonElement>('[data-testid="undo-button"]')!.disabled).toBe(true);
    expect(el.querySelector<HTMLButtonElement>('[data-testid="redo-button"]')!.disabled).toBe(true);
    expect(el.querySelector<HTMLButtonElement>('[data-testid="undo-button"]')!.title).toBe('Nothing to undo');
  });
});
