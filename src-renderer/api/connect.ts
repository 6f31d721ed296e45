// Finds the API: Electron's preload puts it on window.rerender; in browser mode we talk to the
// server we were loaded from. Media URLs differ accordingly.
import type { RerenderApi } from '../../src-main/api/contract.ts';
import { createWsApi } from './ws-client.ts';

export interface Connection {
  api: RerenderApi;
  /** URL of a media route (see mediaRoutes); `version` busts the cache after an edit. */
  mediaUrl(route: string, version?: string | number): string;
  mode: 'electron' | 'browser';
  onDisconnect(listener: () => void): void;
}

declare global {
  interface Window {
    rerender?: RerenderApi;
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
    };
  }
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = createWsApi(new WebSocket(`${proto}//${location.host}/api`));
  return { api: ws.api, mediaUrl: (route, v) => withVersion(`/media/${route}`, v), mode: 'browser', onDisconnect: ws.onDisconnect };
}
