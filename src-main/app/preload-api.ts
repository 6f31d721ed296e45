// The renderer's whole view of the app: RerenderApi over ipcRenderer.invoke, one method per
// request in the contract, plus `on` for pushed events. Nothing else is exposed.
import type { EventName, RequestName, RerenderApi } from '../api/contract.ts';
import type { IpcRendererLike } from './electron-types.ts';
import { fromWireError, type Envelope } from './ipc-envelope.ts';

// Only types come from the contract: importing its values would bundle zod into the sandboxed
// preload. The channel names are repeated here and tests/app/preload.test.ts keeps them equal;
// the `satisfies` check fails to compile when the contract gains or loses a request.
export const IPC_CHANNEL = 'rerender:request';
export const IPC_EVENT_CHANNEL = 'rerender:event';

const REQUESTS = {
  capabilities: 1, recentProjects: 1, createProject: 1, openProject: 1, closeProject: 1, project: 1,
  updateSettings: 1, addKeyframe: 1, removeKeyframe: 1, moveKeyframe: 1, importKeyframeImage: 1,
  clearKeyframeImage: 1, setKeyframeMask: 1, setKeyframePrompt: 1, startJob: 1, cancelJob: 1,
  listJobs: 1, revealFile: 1,
} as const satisfies Record<RequestName, 1>;

export const REQUEST_NAMES = Object.keys(REQUESTS) as RequestName[];
const EVENTS: readonly EventName[] = ['job', 'project'];

export function createPreloadApi(ipc: IpcRendererLike): RerenderApi {
  const api: Record<string, unknown> = {};
  for (const name of REQUEST_NAMES) {
    api[name] = async (...args: unknown[]) => {
      const envelope = (await ipc.invoke(IPC_CHANNEL, name, ...args)) as Envelope;
      if (envelope.ok) return envelope.value;
      throw fromWireError(envelope.error);
    };
  }
  api.on = (event: EventName, listener: (payload: unknown) => void) => {
    if (!EVENTS.includes(event)) throw new Error(`unknown event ${String(event)}`);
    const wrapped = (_e: unknown, ...args: unknown[]) => {
      const msg = args[0] as { event?: unknown; payload?: unknown } | undefined;
      if (msg && msg.event === event) listener(msg.payload);
    };
    ipc.on(IPC_EVENT_CHANNEL, wrapped);
    return () => {
      ipc.removeListener(IPC_EVENT_CHANNEL, wrapped);
    };
  };
  return Object.freeze(api) as unknown as RerenderApi;
}
