// The one typed API between the UI and the services. Electron's preload and the browser-mode
// WebSocket bridge both implement `RerenderApi`; main validates every call's arguments against
// `requestSchemas` before a service sees them. No Node or Electron imports here: the renderer
// bundles this module.
import { z } from 'zod';

/** An exact rational (frame rates, time bases). Never a float. */
export const rationalSchema = z.object({ num: z.number().int(), den: z.number().int().positive() });
export type Rational = z.infer<typeof rationalSchema>;

export const cropSchema = z.object({
  left: z.number().int().nonnegative(),
  right: z.number().int().nonnegative(),
  top: z.number().int().nonnegative(),
  bottom: z.number().int().nonnegative(),
});
export type Crop = z.infer<typeof cropSchema>;

export type KeyframeState = 'none' | 'edited' | 'translated' | 'stale';

export interface KeyframeInfo {
  frame: number;
  state: KeyframeState;
  hasMask: boolean;
  prompt: string | null;
  updatedAt: string;
}

export interface SourceInfo {
  path: string;
  linked: boolean;
  width: number;
  height: number;
  fps: Rational;
  frameCount: number;
  hasAudio: boolean;
  /** What probing found at creation and worked around (dropped frames, frames that do not decode). */
  warnings?: string[];
}

export interface WorkingSize {
  width: number;
  height: number;
}

export interface ProjectSummary {
  path: string;
  name: string;
  source: SourceInfo;
  working: WorkingSize;
  keyframes: KeyframeInfo[];
  /**
   * Frames that start a new shot (sorted, 0 < c < frameCount); empty when the video has none or
   * they were not looked for yet (a project made before they were stored finds them at its first
   * propagation). Optional only for older callers and fixtures.
   */
  shotCuts?: number[];
  renderedFrames: number;
  settings: Record<string, unknown>;
  /** Size of a source-resolution export: the source minus the artist's crop, made even (export dialog). */
  exportSize?: WorkingSize;
  /**
   * Changes with the project, its video's content, the working size and each open: media URLs
   * carry it so the browser never shows one project's cached picture in another. The host always
   * sets it (optional only for older callers and fixtures).
   */
  mediaRev?: string;
}

export type JobKind = 'propagate' | 'translate' | 'export' | 'thumbnails';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobInfo {
  id: string;
  kind: JobKind;
  status: JobStatus;
  done: number;
  total: number;
  etaSeconds: number | null;
  device: string | null;
  note: string | null;
  error: string | null;
  output: string | null;
}

/** Which engines this build can run now, and why not when it cannot. */
export interface Capabilities {
  ffmpeg: { available: boolean; message: string | null };
  propagate: { available: boolean; message: string | null };
  translate: { available: boolean; message: string | null };
}

/** What a file picker shows: files of one kind (directories are always listed). */
export const fileFilterSchema = z.enum(['video', 'project', 'image', 'model', 'any']);
export type FileFilter = z.infer<typeof fileFilterSchema>;

/** File extensions (lower case, no dot) each filter accepts; 'any' accepts every file. Shared by the services' browser, the native dialogs and the drop zone. */
export const FILE_FILTER_EXTENSIONS: Record<Exclude<FileFilter, 'any'>, readonly string[]> = {
  video: ['mp4', 'mov', 'mkv', 'avi', 'webm', 'm4v', 'mpg', 'mpeg', 'wmv', 'flv', 'ts', 'mts', 'm2ts', '3gp', 'ogv', 'gif'],
  project: ['rrproj'],
  image: ['png', 'jpg', 'jpeg', 'webp', 'bmp', 'tif', 'tiff'],
  model: ['safetensors'],
};

/** Whether a file name has one of the filter's extensions. */
export function nameMatchesFilter(name: string, filter: FileFilter): boolean {
  if (filter === 'any') return true;
  const dot = name.lastIndexOf('.');
  return dot > 0 && FILE_FILTER_EXTENSIONS[filter].includes(name.slice(dot + 1).toLowerCase());
}

export interface DirectoryEntry {
  name: string;
  /** Absolute path on the services' machine. */
  path: string;
  kind: 'dir' | 'file';
  /** Bytes; null for a directory. */
  size: number | null;
  /** ISO 8601. */
  modifiedAt: string;
  /** Whether choosing this entry answers the filter (a file of the kind, or a folder that is a diffusers model). */
  matches: boolean;
}

export interface DirectoryListing {
  path: string;
  parent: string | null;
  entries: DirectoryEntry[];
  /** Places to start from: home, the data folder, and on Linux `/`, `/media`, `/mnt` where present. */
  roots: string[];
  /** True when the folder held more entries than a listing returns. */
  truncated: boolean;
}

const frameArg = z.number().int().nonnegative();
const pngBytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected the bytes of a PNG image');

/** Arguments of each request, validated in main before any service runs. */
export const requestSchemas = {
  capabilities: z.tuple([]),
  recentProjects: z.tuple([]),
  createProject: z.tuple([
    z.object({
      videoPath: z.string().min(1),
      projectPath: z.string().min(1),
      shortSide: z.number().int().min(64).max(4096).optional(),
      crop: cropSchema.optional(),
    }),
  ]),
  openProject: z.tuple([z.string().min(1)]),
  closeProject: z.tuple([]),
  project: z.tuple([]),
  updateSettings: z.tuple([z.record(z.string(), z.unknown())]),
  addKeyframe: z.tuple([frameArg]),
  removeKeyframe: z.tuple([frameArg]),
  moveKeyframe: z.tuple([frameArg, frameArg]),
  importKeyframeImage: z.tuple([frameArg, pngBytes]),
  clearKeyframeImage: z.tuple([frameArg]),
  setKeyframeMask: z.tuple([frameArg, pngBytes.nullable()]),
  setKeyframePrompt: z.tuple([frameArg, z.string().nullable()]),
  startJob: z.tuple([
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('propagate'), frames: z.tuple([frameArg, frameArg]).optional() }),
      z.object({ kind: z.literal('translate'), frames: z.array(frameArg).optional() }),
      z.object({
        kind: z.literal('export'),
        outPath: z.string().min(1),
        /** 'source' (default): the source's resolution minus the artist's crop; 'working': the working size. */
        size: z.enum(['source', 'working']).optional(),
        crf: z.number().int().min(0).max(51).optional(),
        audio: z.boolean().optional(),
        /**
         * Replace whatever file is at `outPath` (the artist confirmed it). Without it any existing
         * file is refused with OUTPUT_EXISTS, so the UI can ask first. The open project is never replaced.
         */
        overwrite: z.boolean().optional(),
      }),
    ]),
  ]),
  cancelJob: z.tuple([z.string().min(1)]),
  listJobs: z.tuple([]),
  revealFile: z.tuple([z.string().min(1)]),
  /** A folder's contents on the services' machine; null = a sensible start (the last folder used, or home). */
  listDirectory: z.tuple([z.string().min(1).nullable(), fileFilterSchema]),
  /** A native file dialog (Electron). Resolves to the chosen path, or null when cancelled; elsewhere rejects with NO_NATIVE_PICKER. */
  pickFile: z.union([
    z.tuple([fileFilterSchema, z.enum(['open', 'save'])]),
    z.tuple([fileFilterSchema, z.enum(['open', 'save']), z.string().min(1)]),
  ]),
} as const;

export type RequestName = keyof typeof requestSchemas;
export type RequestArgs<N extends RequestName> = z.infer<(typeof requestSchemas)[N]>;
export type StartJobRequest = RequestArgs<'startJob'>[0];

interface Results {
  capabilities: Capabilities;
  recentProjects: string[];
  createProject: ProjectSummary;
  openProject: ProjectSummary;
  closeProject: void;
  project: ProjectSummary | null;
  updateSettings: ProjectSummary;
  addKeyframe: ProjectSummary;
  removeKeyframe: ProjectSummary;
  moveKeyframe: ProjectSummary;
  importKeyframeImage: ProjectSummary;
  clearKeyframeImage: ProjectSummary;
  setKeyframeMask: ProjectSummary;
  setKeyframePrompt: ProjectSummary;
  startJob: JobInfo;
  cancelJob: JobInfo;
  listJobs: JobInfo[];
  revealFile: void;
  listDirectory: DirectoryListing;
  pickFile: string | null;
}

export type RequestResult<N extends RequestName> = Results[N];

/** Events pushed from main to the UI. */
export interface Events {
  job: JobInfo;
  project: ProjectSummary;
}
export type EventName = keyof Events;

export type RerenderApi = {
  [N in RequestName]: (...args: RequestArgs<N>) => Promise<RequestResult<N>>;
} & {
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
};

/** Media routes (Electron protocol `rerender://media/...` or HTTP `/media/...` in browser mode). */
export const mediaRoutes = {
  sourceFrame: (frame: number) => `frame/source/${frame}.png`,
  keyframeImage: (frame: number) => `frame/keyframe/${frame}.png`,
  keyframeMask: (frame: number) => `frame/mask/${frame}.png`,
  renderFrame: (frame: number) => `frame/render/${frame}.png`,
  thumbnails: () => 'thumbnails.png',
} as const;

export const IPC_CHANNEL = 'rerender:request';
export const IPC_EVENT_CHANNEL = 'rerender:event';

/** Error shape that crosses the IPC/WebSocket boundary. */
export interface WireError {
  code: string;
  message: string;
}
