// Messages between main and the services utility process. Main only forwards: every request,
// media read and event goes through these few shapes (structured clone keeps Uint8Arrays).
import type { EventName, RerenderApi, WireError } from '../api/contract.ts';
import type { MessagePortLike } from './electron-types.ts';
import { fromWireError, toWireError } from './ipc-envelope.ts';

export interface MediaRequest {
  range?: string;
  ifNoneMatch?: string;
}

export interface MediaReply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

export type ToServices =
  | { type: 'call'; id: number; name: string; args: unknown[] }
  | { type: 'media'; id: number; route: string; req: MediaRequest };

export type FromServices =
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: WireError }
  | { type: 'event'; event: EventName; payload: unknown };

/** The part of an ApiHost the services process serves. */
export interface ServedHost {
  api: Pick<RerenderApi, 'on'>;
  call(name: string, args: unknown[]): Promise<unknown>;
  media(route: string, req: MediaRequest): Promise<MediaReply>;
}

function isToServices(m: unknown): m is ToServices {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  if (typeof r.id !== 'number') return false;
  if (r.type === 'call') return typeof r.name === 'string' && Array.isArray(r.args);
  if (r.type === 'media') return typeof r.route === 'string' && typeof r.req === 'object' && r.req !== null;
  return false;
}

/** Child side: answers main's messages with the host, and pushes the host's events. Returns a disposer. */
export function serveHost(host: ServedHost, port: MessagePortLike): () => void {
  const events: EventName[] = ['job', 'project'];
  const unsubscribe = events.map((event) => host.api.on(event, (payload) => port.postMessage({ type: 'event', event, payload } satisfies FromServices)));
  port.on('message', (raw) => {
    // Electron's parentPort delivers a MessageEvent ({ data }); the UtilityProcess side delivers the value itself.
    const msg = typeof raw === 'object' && raw !== null && 'data' in raw && !('type' in raw) ? (raw as { data: unknown }).data : raw;
    if (!isToServices(msg)) return;
    const work = msg.type === 'call' ? host.call(msg.name, msg.args) : host.media(msg.route, msg.req);
    work.then(
      (value) => port.postMessage({ type: 'result', id: msg.id, ok: true, value } satisfies FromServices),
      (err: unknown) => port.postMessage({ type: 'result', id: msg.id, ok: false, error: toWireError(err) } satisfies FromServices),
    );
  });
  return () => unsubscribe.forEach((off) => off());
}

export interface ServicesClient {
  call(name: string, args: unknown[]): Promise<unknown>;
  media(route: string, req: MediaRequest): Promise<MediaReply>;
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void;
  /** Fails every pending request (the process exited). */
  fail(message: string): void;
}

/** Main side: correlates requests and replies over the utility process's port. */
export function createServicesClient(port: MessagePortLike): ServicesClient {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  port.on('message', (raw) => {
    const msg = raw as FromServices;
    if (typeof msg !== 'object' || msg === null) return;
    if (msg.type === 'event') {
      for (const l of listeners) l(msg.event, msg.payload);
    } else if (msg.type === 'result') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(fromWireError(msg.error));
    }
  });
  const send = (m: { type: 'call'; name: string; args: unknown[] } | { type: 'media'; route: string; req: MediaRequest }): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      port.postMessage({ ...m, id });
    });
  return {
    call: (name, args) => send({ type: 'call', name, args }),
    media: (route, req) => send({ type: 'media', route, req }) as Promise<MediaReply>,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    fail(message) {
      for (const p of pending.values()) p.reject(fromWireError({ code: 'SERVICES_EXITED', message }));
      pending.clear();
    },
  };
}
