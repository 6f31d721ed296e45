// State of the file-browser modal: the folder shown (a listing from the services), the selected
// row, and, when saving, the typed file name. Pure: the component dispatches, this decides.
// Paths are the services' (browser mode may run on a remote box), so they are split and joined
// with that machine's separator, never the browser's.
import { FILE_FILTER_EXTENSIONS, type DirectoryEntry, type DirectoryListing, type FileFilter } from '../../src-main/api/contract.ts';

/** 'folder': the folder shown is the answer ("Choose this folder"); its files are listed only to show what is there. */
export type PickMode = 'open' | 'save' | 'folder';

export interface BrowserState {
  filter: FileFilter;
  mode: PickMode;
  listing: DirectoryListing | null;
  /** Index into listing.entries; -1 when nothing is selected. */
  selected: number;
  /** The file name typed in save mode. */
  fileName: string;
  loading: boolean;
  error: string | null;
}

export type BrowserAction =
  | { type: 'loading' }
  | { type: 'loaded'; listing: DirectoryListing; selectName?: string }
  | { type: 'failed'; error: string }
  | { type: 'move'; delta: number }
  | { type: 'select'; index: number }
  | { type: 'name'; value: string };

export function initialBrowserState(filter: FileFilter, mode: PickMode, fileName = ''): BrowserState {
  return { filter, mode, listing: null, selected: -1, fileName, loading: true, error: null };
}

export function browserReducer(state: BrowserState, action: BrowserAction): BrowserState {
  switch (action.type) {
    case 'loading':
      return { ...state, loading: true, error: null };
    case 'loaded': {
      const i = action.selectName === undefined ? -1 : action.listing.entries.findIndex((e) => e.name === action.selectName);
      return { ...state, listing: action.listing, selected: i >= 0 ? i : action.listing.entries.length > 0 ? 0 : -1, loading: false, error: null };
    }
    case 'failed':
      // The folder shown stays: a failed step leaves the artist where they were.
      return { ...state, loading: false, error: action.error };
    case 'move': {
      const n = state.listing?.entries.length ?? 0;
      if (n === 0) return state;
      const from = state.selected < 0 ? (action.delta > 0 ? -1 : n) : state.selected;
      return selectIndex(state, Math.min(n - 1, Math.max(0, from + action.delta)));
    }
    case 'select':
      return selectIndex(state, action.index);
    case 'name':
      return { ...state, fileName: action.value };
  }
}

function selectIndex(state: BrowserState, index: number): BrowserState {
  const entry = state.listing?.entries[index];
  if (!entry) return state;
  // Picking an existing file while saving proposes its name (overwrite is the artist's choice).
  const fileName = state.mode === 'save' && entry.kind === 'file' ? entry.name : state.fileName;
  return { ...state, selected: index, fileName };
}

export function selectedEntry(state: BrowserState): DirectoryEntry | null {
  return state.listing?.entries[state.selected] ?? null;
}

export type Activation = { kind: 'enter'; path: string } | { kind: 'choose'; path: string } | null;

/** Double-click or Enter on a row: a folder is entered, a file is chosen (not when choosing a folder). */
export function activate(state: BrowserState, index = state.selected): Activation {
  const entry = state.listing?.entries[index];
  if (!entry) return null;
  if (entry.kind === 'dir') return { kind: 'enter', path: entry.path };
  if (state.mode === 'folder') return null;
  return { kind: 'choose', path: entry.path };
}

/**
 * What the Choose button returns, or null when it cannot: in save mode the typed name in the
 * shown folder (with the filter's extension added); in folder mode the folder shown; otherwise
 * the selected file, or the selected folder when it answers the filter (a diffusers model folder).
 */
export function chooseTarget(state: BrowserState): string | null {
  const listing = state.listing;
  if (!listing) return null;
  if (state.mode === 'folder') return listing.path;
  if (state.mode === 'save') {
    const name = withExtension(state.fileName.trim(), state.filter);
    if (name === '' || /[\\/\0]/.test(name)) return null;
    return joinPath(listing.path, name);
  }
  const entry = selectedEntry(state);
  if (!entry) return null;
  return entry.kind === 'file' || entry.matches ? entry.path : null;
}

export function withExtension(name: string, filter: FileFilter): string {
  if (name === '' || filter === 'any') return name;
  const exts = FILE_FILTER_EXTENSIONS[filter];
  const dot = name.lastIndexOf('.');
  if (dot > 0 && exts.includes(name.slice(dot + 1).toLowerCase())) return name;
  return `${name}.${exts[0]}`;
}

/** The separator the services' paths use: Windows paths have a drive or a UNC prefix. */
export function separatorOf(p: string): '/' | '\\' {
  return /^[A-Za-z]:\\|^\\\\/.test(p) ? '\\' : '/';
}

export function joinPath(dir: string, name: string): string {
  const sep = separatorOf(dir);
  return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
}

export function dirName(p: string): string {
  const sep = separatorOf(p);
  const i = p.lastIndexOf(sep);
  if (i < 0) return p;
  if (i === 0) return sep;
  const head = p.slice(0, i);
  return /^[A-Za-z]:$/.test(head) ? `${head}\\` : head;
}

export function baseName(p: string): string {
  return p.split(/[\\/]/).filter(Boolean).pop() ?? p;
}

export interface Crumb {
  label: string;
  path: string;
}

/** `/home/me/clips` → `/`, `home`, `me`, `clips`, each with the path it opens. */
export function breadcrumbs(p: string): Crumb[] {
  const sep = separatorOf(p);
  const parts = p.split(sep).filter(Boolean);
  if (sep === '\\') {
    const [drive, ...rest] = parts;
    if (!drive) return [];
    const crumbs: Crumb[] = [{ label: drive, path: `${drive}\\` }];
    rest.forEach((part, i) => crumbs.push({ label: part, path: `${drive}\\${rest.slice(0, i + 1).join('\\')}` }));
    return crumbs;
  }
  const crumbs: Crumb[] = [{ label: '/', path: '/' }];
  parts.forEach((part, i) => crumbs.push({ label: part, path: `/${parts.slice(0, i + 1).join('/')}` }));
  return crumbs;
}

export type BrowserKey = 'up' | 'down' | 'first' | 'last' | 'activate' | 'cancel' | 'parent';

/** The modal's keys; `inText` is true while the file-name field has the focus (it keeps its own editing keys). */
export function keyToBrowserAction(key: string, inText: boolean): BrowserKey | null {
  switch (key) {
    case 'ArrowUp':
      return 'up';
    case 'ArrowDown':
      return 'down';
    case 'Home':
      return inText ? null : 'first';
    case 'End':
      return inText ? null : 'last';
    case 'Enter':
      return 'activate';
    case 'Escape':
      return 'cancel';
    case 'Backspace':
      return inText ? null : 'parent';
    default:
      return null;
  }
}

/** "12.3 MB" for a file size. */
export function formatSize(bytes: number | null): string {
  if (bytes === null) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** A project file next to the video, with the video's name: `/a/clip.mp4` → `/a/clip.rrproj`. */
export function suggestProjectPath(videoPath: string): string {
  const t = videoPath.trim();
  if (t === '') return '';
  const dir = dirName(t);
  const name = baseName(t);
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  return dir === t ? `${stem}.rrproj` : joinPath(dir, `${stem}.rrproj`);
}
