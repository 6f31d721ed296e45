// RerenderApi over browser mode's WebSocket (/api). Same methods and errors as the Electron
// preload; requests made before the socket opens wait for it.
import type { EventName, Events, RequestName, RerenderApi } from '../../src-main/api/contract.ts';
import { decodeWire, encodeWire, type ServerMessage } from '../../src-main/serve/wire.ts';

export const REQUEST_NAMES: readonly RequestName[] = [
  'capabilities', 'recentProjects', 'createProject', 'openProject', 'closeProject', 'project', 'updateSettings',
  'addKeyframe', 'removeKeyframe', 'moveKeyframe', 'importKeyframeImage', 'clearKeyframeImage', 'setKeyframeMask',
  'setKeyframePrompt', 'startJob', 'cancelJob', 'listJobs', 'revealFile', 'listDirectory', 'pickFile',
  'undo', 'redo', 'historyGoTo',
  'loadConfigFile',
  'jobOutlook', 'planProject',
  'farmSettings', 'farmSubmit', 'farmWorkers',
  'planKeyframes', 'applyKeyframePlan', 'exportKeyframeSources', 'previewKeyframeFolder', 'importKeyframeFolder', 'importKeyframeImageFile',
];

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error', l: () => void): void;
  addEventListener(type: 'message', l: (e: { data: unknown }) => void): void;
}

export interface WsApi {
  api: RerenderApi;
  /** Subscribes to connection loss (the server stopped). */
  onDisconnect(listener: () => void): void;
}

export function createWsApi(socket: SocketLike): WsApi {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners: { [E in EventName]: Set<(p: Events[E]) => void> } = { job: new Set(), project: new Set() };
  const disconnects = new Set<() => void>();
  let closed = false;
  const opened = new Promise<void>((resolve) => {
    if (socket.readyState === 1) resolve();
    else socket.addEventListener('open', () => resolve());
  });
  socket.addEventListener('message', (e) => {
    let msg: ServerMessage;
    try {
      msg = decodeWire(String(e.data)) as ServerMessage;
    } catch {
      return;
    }
    if ('event' in msg) {
      for (const l of listeners[msg.event] ?? []) (l as (p: unknown) => void)(msg.payload);
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
  });
  socket.addEventListener('close', () => {
    closed = true;
    for (const p of pending.values()) p.reject(Object.assign(new Error('lost the connection to the Rerender Studio server'), { code: 'DISCONNECTED' }));
    pending.clear();
    disconnects.forEach((l) => l());
  });

  const api: Record<string, unknown> = {};
  for (const method of REQUEST_NAMES) {
    api[method] = async (...args: unknown[]) => {
      await opened;
      if (closed) throw Object.assign(new Error('not connected to the Rerender Studio server'), { code: 'DISCONNECTED' });
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        socket.send(encodeWire({ id, method, args }));
      });
    };
  }
  api.on = <E extends EventName>(event: E, listener: (p: Events[E]) => void) => {
    const set = listeners[event] as Set<(p: Events[E]) => void>;
    set.add(listener);
    return () => void set.delete(listener);
  };
  return { api: api as unknown as RerenderApi, onDisconnect: (l) => void disconnects.add(l) };
}
