// The file-browser modal: folders and matching files on the services' machine (listDirectory),
// with breadcrumbs, the roots, double-click to enter, and the keyboard (arrows, Enter, Escape,
// Backspace for the parent folder). Used wherever Electron's native dialog is not available.
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { FileFilter, RerenderApi } from '../../src-main/api/contract.ts';
import {
  activate,
  baseName,
  breadcrumbs,
  browserReducer,
  chooseTarget,
  dirName,
  formatSize,
  initialBrowserState,
  keyToBrowserAction,
  type PickMode,
} from '../lib/file-browser.ts';
import { checkTypedPath, onListFailure } from '../lib/path-entry.ts';

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const FILTER_LABEL: Record<FileFilter, string> = {
  video: 'Videos',
  project: 'Rerender projects (.rrproj)',
  image: 'Images',
  model: 'Models (.safetensors, diffusers folders)',
  config: 'Rerender configs (.json)',
  any: 'All files',
};

export interface FileBrowserProps {
  api: Pick<RerenderApi, 'listDirectory'>;
  title: string;
  filter: FileFilter;
  mode: PickMode;
  /** A path to start next to (its folder is shown; in save mode its name is proposed). */
  suggested?: string;
  onChoose(path: string): void;
  onCancel(): void;
}

export function FileBrowser({ api, title, filter, mode, suggested, onChoose, onCancel }: FileBrowserProps) {
  const [state, dispatch] = useReducer(browserReducer, initialBrowserState(filter, mode, mode === 'save' && suggested ? baseName(suggested) : ''));
  const listRef = useRef<HTMLUListElement | null>(null);
  const seq = useRef(0);
  // The path box follows the folder shown until the artist types in it.
  const [typedPath, setTypedPath] = useState('');

  const load = useCallback(
    async (dir: string | null, selectName?: string, fallback = false) => {
      const id = ++seq.current;
      dispatch({ type: 'loading' });
      try {
        const listing = await api.listDirectory(dir, filter);
        if (id === seq.current) dispatch({ type: 'loaded', listing, ...(selectName !== undefined ? { selectName } : {}) });
      } catch (err) {
        if (id !== seq.current) return;
        // A suggested folder that is gone: start at the services' default instead.
        if (fallback) return void load(null);
        dispatch({ type: 'failed', error: errorMessage(err) });
      }
    },
    [api, filter],
  );

  useEffect(() => {
    void load(suggested ? dirName(suggested) : null, suggested ? baseName(suggested) : undefined, suggested !== undefined);
    listRef.current?.focus();
    // Only the first folder comes from the props; navigation happens through `load`.
  }, []);

  const shownPath = state.listing?.path;
  useEffect(() => {
    if (shownPath !== undefined) setTypedPath(shownPath);
  }, [shownPath]);

  /** Enter in the path box: open the folder, or choose the file, that was typed. */
  const goToTyped = async () => {
    const check = checkTypedPath(typedPath);
    if (!check) return;
    if (check.kind === 'error') return dispatch({ type: 'failed', error: check.message });
    const id = ++seq.current;
    dispatch({ type: 'loading' });
    try {
      const listing = await api.listDirectory(check.path, filter);
      if (id === seq.current) dispatch({ type: 'loaded', listing });
    } catch (err) {
      if (id !== seq.current) return;
      // Choosing a folder: a typed path that is not one is only an error to show.
      const next = mode === 'folder' ? 'show' : onListFailure((err as { code?: unknown }).code, check.path, filter, mode);
      if (next === 'choose') return onChoose(check.path);
      if (next === 'choose-if-parent-exists') {
        try {
          await api.listDirectory(dirName(check.path), filter);
          if (id === seq.current) return onChoose(check.path);
          return;
        } catch {
          // The folder is missing too: the first error says what was typed wrong.
        }
      }
      if (id === seq.current) dispatch({ type: 'failed', error: errorMessage(err) });
    }
  };

  useEffect(() => {
    listRef.current?.querySelector('[aria-selected="true"]')?.scrollIntoView?.({ block: 'nearest' });
  }, [state.selected, state.listing]);

  const listing = state.listing;
  const target = chooseTarget(state);
  const run = (index?: number) => {
    const a = activate(state, index);
    if (a?.kind === 'enter') void load(a.path);
    else if (a?.kind === 'choose') onChoose(a.path);
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    const inText = e.target instanceof HTMLInputElement;
    const key = keyToBrowserAction(e.key, inText);
    if (!key) return;
    e.preventDefault();
    // The editor's own shortcuts (arrows step frames) must not see keys meant for this dialog.
    e.stopPropagation();
    switch (key) {
      case 'up':
        return dispatch({ type: 'move', delta: -1 });
      case 'down':
        return dispatch({ type: 'move', delta: 1 });
      case 'first':
        return dispatch({ type: 'move', delta: -Infinity });
      case 'last':
        return dispatch({ type: 'move', delta: Infinity });
      case 'activate':
        // In folder mode Enter opens the selected folder; only the button chooses the one shown.
        if (inText && mode !== 'folder') return target ? onChoose(target) : undefined;
        return run();
      case 'cancel':
        return onCancel();
      case 'parent':
        if (listing?.parent) void load(listing.parent, baseName(listing.path));
        return;
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div className="modal file-browser" role="dialog" aria-modal="true" aria-label={title} data-testid="file-browser" onKeyDown={onKeyDown}>
        <header className="modal-head">
          <h2>{title}</h2>
          <button className="icon" onClick={onCancel} aria-label="Close">
            ×
          </button>
        </header>
        <div className="fb-path">
          <input
            id="fb-path"
            aria-label="Folder or file path"
            placeholder="Type a path and press Enter"
            value={typedPath}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => setTypedPath(e.target.value)}
            onKeyDown={(e) => {
              if (e.key !== 'Enter') return;
              // Enter here means "go to this path", not the dialog's "choose the selection".
              e.preventDefault();
              e.stopPropagation();
              void goToTyped();
            }}
          />
        </div>
        <div className="fb-body">
          <nav className="fb-roots" aria-label="Places">
            {(listing?.roots ?? []).map((r) => (
              <button key={r} className={listing?.path === r ? 'fb-root active' : 'fb-root'} title={r} onClick={() => void load(r)}>
                {r === '/' ? '/ (root)' : baseName(r) || r}
              </button>
            ))}
          </nav>
          <div className="fb-main">
            <div className="fb-crumbs" data-testid="fb-crumbs">
              <button className="small" disabled={!listing?.parent} onClick={() => listing?.parent && void load(listing.parent, baseName(listing.path))} title="Parent folder (Backspace)" aria-label="Parent folder">
                ↑
              </button>
              {listing &&
                breadcrumbs(listing.path).map((c, i, all) => (
                  <span key={c.path} className="fb-crumb">
                    <button className="link-inline" onClick={() => void load(c.path)} disabled={i === all.length - 1}>
                      {c.label}
                    </button>
                    {i > 0 && i < all.length - 1 && <span className="muted">/</span>}
                  </span>
                ))}
            </div>
            <ul className="fb-list" role="listbox" aria-label="Files" tabIndex={0} ref={listRef} data-testid="fb-list" aria-busy={state.loading}>
              {listing?.entries.length === 0 && <li className="muted fb-empty">No folders or {FILTER_LABEL[filter].toLowerCase()} here.</li>}
              {listing?.entries.map((e, i) => (
                <li
                  key={e.path}
                  role="option"
                  aria-selected={i === state.selected}
                  className={`fb-entry ${e.kind}${i === state.selected ? ' selected' : ''}${e.matches ? ' matches' : ''}`}
                  data-name={e.name}
                  onClick={() => dispatch({ type: 'select', index: i })}
                  onDoubleClick={() => run(i)}
                >
                  <span className="fb-icon" aria-hidden="true">
                    {e.kind === 'dir' ? (e.matches ? '◆' : '▸') : '•'}
                  </span>
                  <span className="fb-name">{e.name}</span>
                  <span className="fb-size muted">{formatSize(e.size)}</span>
                </li>
              ))}
            </ul>
            {listing?.truncated && <p className="muted small">This folder holds more entries than are shown.</p>}
            {state.error && (
              <p className="field-error" role="alert">
                {state.error}
              </p>
            )}
          </div>
        </div>
        <footer className="fb-foot">
          {mode === 'save' && (
            <label className="fb-name-field">
              File name
              <input id="fb-file-name" value={state.fileName} spellCheck={false} onChange={(e) => dispatch({ type: 'name', value: e.target.value })} />
            </label>
          )}
          <span className="muted small fb-filter">{FILTER_LABEL[filter]}</span>
          <div className="button-row end">
            <button onClick={onCancel}>Cancel</button>
            <button className="primary" disabled={target === null} onClick={() => target && onChoose(target)} title={target ?? undefined}>
              {mode === 'save' ? 'Save here' : mode === 'folder' ? 'Choose this folder' : 'Choose'}
            </button>
          </div>
        </footer>
      </div>
    </div>
  );
}
