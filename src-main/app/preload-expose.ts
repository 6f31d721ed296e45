import type { ElectronPreloadLike } from './electron-types.ts';
import { createPreloadApi } from './preload-api.ts';

export const EXPOSED_KEY = 'rerender';

export function exposeApi(electron: ElectronPreloadLike): void {
  electron.contextBridge.exposeInMainWorld(EXPOSED_KEY, createPreloadApi(electron.ipcRenderer, electron.webUtils));
}
