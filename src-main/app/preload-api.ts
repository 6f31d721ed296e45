// The renderer's whole view of the app: RerenderApi over ipcRenderer.invoke, one method per
// request in the contract, plus `on` for pushed events and `pathForFile` for dropped files.
// Nothing else is exposed.
import type { EventName, RequestName, RerenderApi } from '../api/contract.ts';
import type { IpcRendererLike, WebUtilsLike } from './electron-types.ts';
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
  undo: 1, redo: 1, historyGoTo: 1,
  listJobs: 1, revealFile: 1, listDirectory: 1, pickFile: 1,
  loadConfigFile: 1,
  jobOutlook: 1, planProject: 1,
  farmSettings: 1, farmSubmit: 1, farmWorkers: 1,
  planKeyframes: 1, applyKeyframePlan: 1, exportKeyframeSources: 1, previewKeyframeFolder: 1, importKeyframeFolder: 1, importKeyframeImageFile: 1,
} as const satisfies Record<RequestName, 1>;

export const REQUEST_NAMES = Object.keys(REQUESTS) as RequestName[];
const EVENTS: readonly EventName[] = ['job', 'project'];

/** The bridge's one extra: a dropped File's path on disk (Electron no longer puts it on File). */
export interface DesktopFiles {
  pathForFile(file: unknown): string;
}

export function createPreloadApi(ipc: IpcRendererLike, webUtils?: WebUtilsLike): RerenderApi & Partial<DesktopFiles> {
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
  if (webUtils) {
    // Only the path string crosses back; an empty string (not a file from disk) is an error here.
    api.pathForFile = (file: unknown) => {
      const p = webUtils.getPathForFile(file);
      if (typeof p !== 'string' || p === '') throw new Error('this file has no path on disk');
      return p;
    };
  }
  return Object.freeze(api) as unknown as RerenderApi & Partial<DesktopFiles>;
}
