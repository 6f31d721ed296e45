// The file browser's path box: what a typed path means. A folder is opened; a file that answers
// the filter is chosen. Which of the two it is, only the services know (their machine, their
// disk), so the box asks listDirectory and reads its typed error.
import { nameMatchesFilter, type FileFilter } from '../../src-main/api/contract.ts';
import { baseName } from './file-browser.ts';
import type { PickMode } from './file-browser.ts';

/** POSIX `/…`, a Windows drive `C:\…` (or `C:/…`), or a UNC `\\host\…`. */
export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

export type PathCheck = { kind: 'list'; path: string } | { kind: 'error'; message: string };

/** Before any request: an empty box does nothing (null); a relative path is refused here. */
export function checkTypedPath(typed: string): PathCheck | null {
  const p = typed.trim();
  if (p === '') return null;
  if (!isAbsolutePath(p)) return { kind: 'error', message: `'${p}' is not an absolute path: start it with / (or a drive such as C:\\).` };
  return { kind: 'list', path: p };
}

export type ListFailure = 'choose' | 'choose-if-parent-exists' | 'show';

/**
 * After listDirectory refused the typed path (`code` from the services): a file of the filter's
 * kind is chosen; when saving, a new file's name is chosen as long as its folder exists; anything
 * else is shown in the browser.
 */
export function onListFailure(code: unknown, path: string, filter: FileFilter, mode: PickMode): ListFailure {
  if (!nameMatchesFilter(baseName(path), filter)) return 'show';
  if (code === 'NOT_A_DIRECTORY') return 'choose';
  if (code === 'NOT_FOUND' && mode === 'save') return 'choose-if-parent-exists';
  return 'show';
}
