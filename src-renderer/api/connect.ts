// Finds the API: Electron's preload puts it on window.rerender; in browser mode we talk to the
// server we were loaded from. Media URLs differ accordingly.
import type { RerenderApi } from '../../src-main/api/contract.ts';
import { uploadFile, type UploadProgress } from './upload.ts';
import { createWsApi } from './ws-client.ts';

export interface Connection {
  api: RerenderApi;
  /** URL of a media route (see mediaRoutes); `version` busts the cache after an edit. */
  mediaUrl(route: string, version?: string | number): string;
  mode: 'electron' | 'browser';
  onDisconnect(listener: () => void): void;
  /**
   * A path the services can open for a file dropped on the page: in Electron the file's own
   * path; in browser mode the file is uploaded first (with progress) and the stored path returned.
   */
  fileToPath(file: File, onProgress: (p: UploadProgress) => void, signal?: AbortSignal): Promise<string>;
}

declare global {
  interface Window {
    rerender?: RerenderApi & { pathForFile?(file: File): string };
  }
}

function withVersion(url: string, version?: string | number): string {
  return version === undefined ? url : `${url}?v=${encodeURIComponent(String(version))}`;
}

export function connect(): Connection {
  if (window.rerender) {
    return {
      api: window.rerender,
      mediaUrl: (route, v) => withVersion(`rerender://media/${route}`, v),
      mode: 'electron',
      onDisconnect: () => {},
      fileToPath: async (file) => {
        const p = window.rerender?.pathForFile?.(file);
        if (!p) throw Object.assign(new Error(`'${file.name}' is not a file on this computer`), { code: 'NOT_FOUND' });
        return p;
      },
    };
  }
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = createWsApi(new WebSocket(`${proto}//${location.host}/api`));
  return { api: ws.api, mediaUrl: (route, v) => withVersion(`/media/${route}`, v), mode: 'browser', onDisconnect: ws.onDisconnect, fileToPath: uploadFile };
}
