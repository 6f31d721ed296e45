// The `pickFile` request in Electron: main answers it with the native open/save dialog, using the
// same extensions as the services' file browser. Model folders (diffusers) cannot be picked
// alongside files by the Windows and Linux dialogs, so there `model` is left to the renderer's
// own browser (the NO_NATIVE_PICKER code says so).
import path from 'node:path';
import type { FileFilter } from '../api/contract.ts';
import { FILTER_EXTENSIONS } from '../api/file-browser.ts';
import { CodedError } from '../errors.ts';
import type { ElectronMainLike } from './electron-types.ts';

export class PickFileError extends CodedError<'NO_NATIVE_PICKER'> {}

const LABELS: Record<FileFilter, string> = {
  video: 'Video',
  project: 'Rerender project',
  image: 'Image',
  model: 'Model (.safetensors)',
  config: 'Rerender config (.json)',
  any: 'All files',
};

export function dialogFilters(filter: FileFilter): Array<{ name: string; extensions: string[] }> {
  const all = { name: 'All files', extensions: ['*'] };
  return filter === 'any' ? [all] : [{ name: LABELS[filter], extensions: [...FILTER_EXTENSIONS[filter]] }, all];
}

/** The chosen path, or null when the user cancelled. */
export async function pickFileNative(
  dialog: ElectronMainLike['dialog'],
  platform: NodeJS.Platform,
  filter: FileFilter,
  mode: 'open' | 'save',
  suggested?: string,
): Promise<string | null> {
  const filters = dialogFilters(filter);
  if (mode === 'save') {
    let defaultPath = suggested;
    // A save dialog proposes a file name with the filter's extension.
    if (defaultPath && filter !== 'any' && !path.extname(defaultPath)) defaultPath = `${defaultPath}.${FILTER_EXTENSIONS[filter][0]}`;
    const r = await dialog.showSaveDialog({ title: `Save ${LABELS[filter].toLowerCase()} as`, ...(defaultPath ? { defaultPath } : {}), filters });
    return r.canceled || !r.filePath ? null : r.filePath;
  }
  const properties = ['openFile'];
  if (filter === 'model') {
    if (platform !== 'darwin') throw new PickFileError('NO_NATIVE_PICKER', 'Models can be folders, which this system\'s file dialog cannot pick with files: use the file browser.');
    properties.push('openDirectory');
  }
  const r = await dialog.showOpenDialog({ title: `Choose ${LABELS[filter].toLowerCase()}`, ...(suggested ? { defaultPath: suggested } : {}), properties, filters });
  const chosen = r.filePaths[0];
  return r.canceled || !chosen ? null : chosen;
}
