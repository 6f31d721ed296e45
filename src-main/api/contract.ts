// The one typed API between the UI and the services. Electron's preload and the browser-mode
// WebSocket bridge both implement `RerenderApi`; main validates every call's arguments against
// `requestSchemas` before a service sees them. No Node or Electron imports here: the renderer
// bundles this module.
import { z } from 'zod';
import { FARM_STAGES, type FarmStage } from '../farm/stages.ts';

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

/**
 * A frame's render: made from the current key frames and settings ('rendered'), made before they
 * changed ('stale'), none ('missing'), or about to be (re)written by a running propagation ('rendering').
 */
export type RenderState = 'rendered' | 'stale' | 'missing' | 'rendering';
/** Frames start..end (inclusive) in one state. */
export interface RenderSpan {
  start: number;
  end: number;
  state: RenderState;
}
/** The project's undo history: `steps` oldest first, the first `position` of them done. */
export interface EditHistoryInfo {
  steps: Array<{ label: string; at: string }>;
  position: number;
  /** The step Undo would undo / Redo would redo ("Add key frame 12"), or null. */
  undo: string | null;
  redo: string | null;
}

export interface RenderStatus {
  counts: Record<RenderState, number>;
  /** In frame order, covering every frame, neighbours never in the same state. */
  spans: RenderSpan[];
}

export interface ProjectSummary {
  path: string;
  name: string;
  source: SourceInfo;
  working: WorkingSize;
  /** Source pixels the working size cuts away on each side (optional only for older callers and fixtures). */
  workingCrop?: Crop;
  keyframes: KeyframeInfo[];
  /**
   * Frames that start a new shot (sorted, 0 < c < frameCount); empty when the video has none or
   * they were not looked for yet (a project made before they were stored finds them at its first
   * propagation). Optional only for older callers and fixtures.
   */
  shotCuts?: number[];
  /** Frames with a stored render, fresh or stale: `renderStatus` says which are up to date. */
  renderedFrames: number;
  /** Per-frame render status, run-length coded (optional only for older callers and fixtures). */
  renderStatus?: RenderStatus;
  /** The undo/redo history kept in the project (optional only for older callers and fixtures). */
  history?: EditHistoryInfo;
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

/**
 * 'proxy': the working-size preview frames made in the background (instant scrubbing and playback).
 * 'farm': work submitted to the render farm, its results stored as they arrive (farm-job.ts).
 */
export type JobKind = 'propagate' | 'translate' | 'export' | 'thumbnails' | 'proxy' | 'farm';
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

/** Where key-frame translation would run: probed once per services process after a project opens. */
export interface DeviceStatus {
  kind: 'gpu' | 'cpu' | 'unknown';
  /** "GPU: NVIDIA H200 · fp16", "CPU · fp32", "device unknown". */
  label: string;
  precision: 'fp16' | 'fp32' | null;
  /** One short line for the artist when a GPU was looked for but is not used, else null. */
  note: string | null;
  /** The technical reasons and remedies behind `note` or an unknown device (a details toggle). */
  details: string | null;
}

/** How long a job would take, before it starts: from timings of earlier jobs on this machine. */
export interface JobEstimate {
  seconds: number | null;
  /** "about 4 min on the CPU", "first run: estimate after a few frames". */
  text: string;
}

/** The device and the estimates shown before any job runs (messages feature). */
export interface JobOutlook {
  device: DeviceStatus;
  translate: JobEstimate;
  propagate: JobEstimate;
}

/** What a new project from a video would keep of it (shown before it is created). */
export interface ProjectPlan {
  source: WorkingSize;
  working: WorkingSize;
  /** Source pixels cut away on each side to reach the working aspect (and the artist's crop). */
  crop: Crop;
}

/** What a file picker shows: files of one kind (directories are always listed). */
export const fileFilterSchema = z.enum(['video', 'project', 'image', 'model', 'config', 'any']);
export type FileFilter = z.infer<typeof fileFilterSchema>;

/** File extensions (lower case, no dot) each filter accepts; 'any' accepts every file. Shared by the services' browser, the native dialogs and the drop zone. */
export const FILE_FILTER_EXTENSIONS: Record<Exclude<FileFilter, 'any'>, readonly string[]> = {
  video: ['mp4', 'mov', 'mkv', 'avi', 'webm', 'm4v', 'mpg', 'mpeg', 'wmv', 'flv', 'ts', 'mts', 'm2ts', '3gp', 'ogv', 'gif'],
  project: ['rrproj'],
  image: ['png', 'jpg', 'jpeg', 'webp', 'bmp', 'tif', 'tiff'],
  model: ['safetensors'],
  /** An official Rerender_A_Video config (or ours) to load into the settings. */
  config: ['json'],
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

// The EbSynth workflow: batch key frames, their source pictures out for painting, painted frames back.
/** Key frames every N frames, or where the picture changes most (gaps between min and max frames); both restart at shot cuts. */
export const keyframePlanSchema = z.union([
  z.object({ every: z.number().int().min(1).max(1_000_000) }),
  z.object({ auto: z.object({ min: z.number().int().min(1).max(100_000), max: z.number().int().min(2).max(1_000_000) }) }),
]);
export type KeyframePlanChoice = z.infer<typeof keyframePlanSchema>;
/** 'replace': the plan's frames become the key frames; 'add': they join the existing ones. */
export const keyframePlanModeSchema = z.enum(['replace', 'add']);
export type KeyframePlanMode = z.infer<typeof keyframePlanModeSchema>;

export interface KeyframePlanPreview {
  /** The key frames after applying, sorted. */
  frames: number[];
  added: number[];
  /** Key frames that would go ('replace' only), with what the artist made on them. */
  removed: Array<{ frame: number; edits: Array<'image' | 'mask' | 'prompt'> }>;
  shotCuts: number[];
}

export interface KeyframeExportInfo {
  dir: string;
  files: string[];
  frames: number[];
  width: number;
  height: number;
}

export interface KeyframeFolderPreview {
  dir: string;
  /** Painted frames matched to key frames; `thumbnail` a small PNG data URL, `problem` why it cannot be imported. */
  items: Array<{ name: string; frame: number; isNew: boolean; thumbnail: string | null; problem: string | null }>;
  skipped: Array<{ name: string; reason: string }>;
}

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
  /** Undo / redo one step of the project's edit history (a no-op when there is none). */
  undo: z.tuple([]),
  redo: z.tuple([]),
  /** Undo or redo until `position` steps of EditHistoryInfo.steps are done (the history list). */
  historyGoTo: z.tuple([z.number().int().nonnegative()]),
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
        /**
         * Propagate first (or follow the propagation already running), then export: the export job
         * starts at once, waits, and is cancelled if the propagation does not finish. Without it an
         * export is refused (PROPAGATION_RUNNING) while a propagation runs.
         */
        propagateFirst: z.boolean().optional(),
      }),
    ]),
  ]),
  cancelJob: z.tuple([z.string().min(1)]),
  listJobs: z.tuple([]),
  revealFile: z.tuple([z.string().min(1)]),
  /** A folder's contents on the services' machine; null = a sensible start (the last folder used, or home). */
  listDirectory: z.tuple([z.string().min(1).nullable(), fileFilterSchema]),
  /** What a key-frame plan would make (nothing changes). */
  planKeyframes: z.tuple([keyframePlanSchema, keyframePlanModeSchema]),
  /** Applies a plan as one undo step; key frames with edits go only with dropEdits (else WOULD_DROP_EDITS). */
  applyKeyframePlan: z.tuple([keyframePlanSchema, keyframePlanModeSchema, z.object({ dropEdits: z.boolean().optional() })]),
  /**
   * The key frames' source pictures as numbered PNGs (00012.png) at full source size in a folder;
   * OUTPUT_EXISTS unless overwrite. `frames`: only those key frames (the editor exports in steps,
   * for progress and stopping); `checkOnly`: refuse or accept the folder, writing nothing.
   */
  exportKeyframeSources: z.tuple([
    z.string().min(1),
    z.object({ overwrite: z.boolean().optional(), frames: z.array(frameArg).max(100_000).optional(), checkOnly: z.boolean().optional() }),
  ]),
  /** Which painted frames in a folder match which key frames, each read (nothing changes). */
  previewKeyframeFolder: z.tuple([z.string().min(1), z.object({ addMissing: z.boolean().optional() })]),
  /** Imports them all or none, as one undo step. */
  importKeyframeFolder: z.tuple([z.string().min(1), z.object({ addMissing: z.boolean().optional() })]),
  /** A key frame's edited image from a file on the services' machine (the in-app file browser's choice). */
  importKeyframeImageFile: z.tuple([frameArg, z.string().min(1)]),
  /** A native file dialog (Electron). Resolves to the chosen path, or null when cancelled; elsewhere rejects with NO_NATIVE_PICKER. */
  /** Reads a config JSON (official Rerender or ours) into a settings patch; applies nothing (see ConfigFileResult). */
  loadConfigFile: z.tuple([z.string().min(1)]),
  /** The device and job estimates; waits for the (once per process) device probe. */
  jobOutlook: z.tuple([]),
  /** The working size and crop a new project from this video would get (probes the video). */
  planProject: z.tuple([z.string().min(1), z.number().int().min(64).max(4096).optional()]),
  /** The remembered farm connection and the stages the open project still needs (the farm dialog). */
  farmSettings: z.tuple([]),
  /**
   * Submits the open project to the farm and starts a 'farm' job that stores its results as they
   * arrive. `redisUrl` null: the remembered one (its password never comes back to the UI).
   */
  farmSubmit: z.tuple([
    z.object({
      stages: z.array(z.enum(FARM_STAGES)).min(1).max(FARM_STAGES.length),
      redisUrl: z.string().min(1).max(4096).nullable(),
      store: z.string().min(1).max(4096),
      /** Where the export stage writes the video (absolute); absent: beside the project. */
      exportPath: z.string().min(1).max(4096).optional(),
    }),
  ]),
  /** The farm's workers (name, device, current job, last heartbeat); `redisUrl` null: the remembered one. */
  farmWorkers: z.tuple([z.string().min(1).max(4096).nullable()]),
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
  undo: ProjectSummary;
  redo: ProjectSummary;
  historyGoTo: ProjectSummary;
  startJob: JobInfo;
  cancelJob: JobInfo;
  listJobs: JobInfo[];
  revealFile: void;
  listDirectory: DirectoryListing;
  planKeyframes: KeyframePlanPreview;
  applyKeyframePlan: ProjectSummary;
  exportKeyframeSources: KeyframeExportInfo;
  previewKeyframeFolder: KeyframeFolderPreview;
  importKeyframeFolder: ProjectSummary;
  importKeyframeImageFile: ProjectSummary;
  pickFile: string | null;
  loadConfigFile: ConfigFileResult;
  jobOutlook: JobOutlook;
  planProject: ProjectPlan;
  farmSettings: FarmSettingsInfo;
  farmSubmit: JobInfo;
  farmWorkers: FarmWorkersInfo;
}

export type { FarmStage };

/** The farm connection the editor remembers. */
export interface FarmSettingsInfo {
  /** The Redis URL with its password shown as *** (null: none remembered yet). */
  redis: string | null;
  /** The artifact store folder on this machine. */
  store: string | null;
  /** What the open project still needs, in run order: the dialog's default stages. */
  needed: FarmStage[];
}

export interface FarmWorkerInfo {
  name: string;
  host: string;
  device: string;
  concurrency: number;
  /** What it runs now: the project's name and the frames ("12-23"). */
  current: Array<{ project: string; frames: string }>;
  secondsSinceHeartbeat: number;
  alive: boolean;
  /** Jobs it has finished since it started. */
  done: number;
}

export interface FarmWorkersInfo {
  workers: FarmWorkerInfo[];
  /** The farm's own estimate for everything queued; null before a first result. */
  etaSeconds: number | null;
}

/**
 * A config file read for the settings: the patch the renderer applies with one updateSettings
 * (one undo step, after showing `applied`), and what of the file the project cannot take.
 */
export interface ConfigFileResult {
  path: string;
  /** The file's name, for "Preset: …". */
  name: string;
  settings: Record<string, unknown>;
  /** The dotted paths of the settings the file sets ('prompt', 'crossFrame.warpPeriod'); the editor names them. */
  applied: string[];
  /** One plain line per part left out (file paths, key-frame interval, crop…) and why. */
  ignored: string[];
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
  /** The source frame at the working size: a JPEG from the proxy once it holds the frame, a PNG decoded on demand before (Content-Type says which). */
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
