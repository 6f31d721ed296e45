// Project undo/redo in the editor: which history a shortcut goes to, and the words shown for it.
import type { EditHistoryInfo } from '../../src-main/api/contract.ts';

export type HistoryDirection = 'undo' | 'redo';

/**
 * In the mask painter, Ctrl+Z first takes back the painter's own strokes (they make one project
 * step between them); once it has none left, the project's history continues.
 */
export function historyRoute(inMaskPainter: boolean, painterCan: boolean): 'painter' | 'project' {
  return inMaskPainter && painterCan ? 'painter' : 'project';
}

/** The label of the step an undo or redo would apply, or null. */
export function nextStep(history: EditHistoryInfo | undefined, dir: HistoryDirection): string | null {
  return history?.[dir] ?? null;
}

/** "Undid: Add key frame 12". */
export function historyToast(dir: HistoryDirection, label: string): string {
  return `${dir === 'undo' ? 'Undid' : 'Redid'}: ${label}`;
}

/** The shortcut's modifier as the artist's keyboard names it. */
export function modKey(platform: string): string {
  return /mac|iphone|ipad/i.test(platform) ? '⌘' : 'Ctrl';
}

/** The tooltip of the Undo / Redo button: what it would do, and its shortcut. */
export function historyButtonTitle(dir: HistoryDirection, label: string | null, mod = 'Ctrl'): string {
  const keys = dir === 'undo' ? `${mod}+Z` : `${mod}+Shift+Z`;
  if (label === null) return dir === 'undo' ? 'Nothing to undo' : 'Nothing to redo';
  return `${dir === 'undo' ? 'Undo' : 'Redo'}: ${label} (${keys})`;
}
