// One way to ask for a path, whatever runs the editor: Electron's native dialog when main can
// show it, else (browser mode, a folder, or a model folder off macOS) the in-app file browser.
import { createContext, useCallback, useContext, useState, type ReactNode } from 'react';
import type { FileFilter } from '../../src-main/api/contract.ts';
import type { Connection } from '../api/connect.ts';
import type { PickMode } from '../lib/file-browser.ts';
import { FileBrowser } from './FileBrowser.tsx';

/** Resolves to the chosen path, or null when the artist cancelled. */
export type PickFile = (filter: FileFilter, mode: PickMode, suggested?: string, title?: string) => Promise<string | null>;

const noPicker: PickFile = () => Promise.reject(Object.assign(new Error('No file picker here: type the path.'), { code: 'NO_PICKER' }));

/** The picker in effect; App provides the real one (tests may provide their own). */
export const PickerContext = createContext<PickFile>(noPicker);

export function usePickFile(): PickFile {
  return useContext(PickerContext);
}

const TITLES: Record<FileFilter, Record<Exclude<PickMode, 'folder'>, string>> = {
  video: { open: 'Choose a video', save: 'Save the video as' },
  project: { open: 'Open a project', save: 'Save the project as' },
  image: { open: 'Choose an image', save: 'Save the image as' },
  model: { open: 'Choose a model', save: 'Save the model as' },
  config: { open: 'Choose a Rerender config', save: 'Save the config as' },
  any: { open: 'Choose a file', save: 'Save as' },
};

interface Pending {
  filter: FileFilter;
  mode: PickMode;
  suggested: string | undefined;
  title: string;
  resolve(path: string | null): void;
}

export function FilePickerProvider({ connection, children }: { connection: Connection; children: ReactNode }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const pick = useCallback<PickFile>(
    async (filter, mode, suggested, title) => {
      const s = suggested?.trim() ? suggested.trim() : undefined;
      // The native dialog is asked for files only: a folder is always chosen in the app's browser.
      if (connection.mode === 'electron' && mode !== 'folder') {
        try {
          return await (s ? connection.api.pickFile(filter, mode, s) : connection.api.pickFile(filter, mode));
        } catch (err) {
          if ((err as { code?: unknown }).code !== 'NO_NATIVE_PICKER') throw err;
        }
      }
      return new Promise<string | null>((resolve) => setPending({ filter, mode, suggested: s, title: title ?? (mode === 'folder' ? 'Choose a folder' : TITLES[filter][mode]), resolve }));
    },
    [connection],
  );
  const close = (path: string | null) => {
    pending?.resolve(path);
    setPending(null);
  };
  return (
    <PickerContext.Provider value={pick}>
      {children}
      {pending && (
        <FileBrowser
          api={connection.api}
          title={pending.title}
          filter={pending.filter}
          mode={pending.mode}
          {...(pending.suggested ? { suggested: pending.suggested } : {})}
          onChoose={(p) => close(p)}
          onCancel={() => close(null)}
        />
      )}
    </PickerContext.Provider>
  );
}
