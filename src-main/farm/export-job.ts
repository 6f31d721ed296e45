// A shot's export as a farm job, the parent of the shot's propagation jobs: it runs once all its
// frames exist. The worker has no project file, only artifacts: the source video (by content), a
// manifest listing each frame's render or key-frame image (a JSON artifact, so long lists stay
// out of Redis), and the renders its children return. It runs the very export a local `rerender
// export` runs (studio/export-core.ts) and returns the MP4 as an artifact; the owner then writes
// it where the artist asked, crash-safely.
//   owner:  prepareExportJob (at submit)  →  worker: runExportJob  →  owner: ingestExport
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MediaTools } from '../media/index.ts';
import { prepareOutput, type ReplacePolicy } from '../media/output.ts';
import type { Project } from '../project/index.ts';
import type { UPSAMPLE_METHODS } from '../propagate/upsample.ts';
import { exportChoices, exportFrames, type ExportSourceInfo, type StoredFrame } from '../studio/export-core.ts';
import { checkExportTarget, exportSourceInfo } from '../studio/export.ts';
import { openSource } from '../studio/source.ts';
import { FolderArtifactStore, isFileStore, SHA256_RE } from './artifacts.ts';
import type { ArtifactStore } from './artifacts.ts';
import { FarmError } from './errors.ts';
import { exportJobSchema, exportManifestSchema, exportResultSchema } from './export-schemas.ts';
import type { ExportJobData, ExportJobResult, ExportManifest } from './export-schemas.ts';
import { parseOrThrow, propagateResultSchema } from './schemas.ts';

export { exportJobSchema, exportManifestSchema, exportResultSchema, exportSourceSchema } from './export-schemas.ts';
export type { ExportJobData, ExportJobResult, ExportManifest } from './export-schemas.ts';

export interface ExportJobRequest {
  outPath: string;
  size?: 'source' | 'working';
  upsample?: (typeof UPSAMPLE_METHODS)[number];
  /** Default: the project's export settings, as `rerender export` without flags. */
  crf?: number;
  audio?: boolean;
  /** Checked at submit, so a refused path fails now rather than after the farm's work (default 'videos'). */
  replace?: ReplacePolicy;
}

export interface PrepareExportOptions {
  /** How workers name the store: the folder as the owner sees it (default: a folder store's root) or a served store's URL. */
  storeRef?: string;
  tools?: MediaTools;
  signal?: AbortSignal;
  searchDirs?: readonly string[];
}

/**
 * The owner's side, at submit: the source video, the renders the project holds for frames the farm
 * does not render, and the key-frame images go to the store, the manifest after them. Each frame
 * follows the local export's rule (any render the project holds, else the key frame's image, else
 * the source). `pending` names the frames whose renders come from the farm: 'farm' for those the
 * shot's child jobs will return, or the PNG hash (already in the store) of a render a finished farm
 * job made that the project has not stored yet (a job from an earlier submit, not a child again).
 */
export async function prepareExportJob(
  project: Project,
  store: ArtifactStore,
  req: ExportJobRequest,
  ident: { key: string; name: string },
  shot: { index: number; first: number; last: number },
  pending: ReadonlyMap<number, 'farm' | string>,
  opts: PrepareExportOptions = {},
): Promise<ExportJobData> {
  const { size, method } = exportChoices(req);
  const settings = project.settings();
  await checkExportTarget(project, req.outPath, req.replace ?? 'videos');
  const src = await openSource(project, opts.searchDirs, { ...(opts.tools ? { tools: opts.tools } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  const record = project.source();
  const info = exportSourceInfo({ ...src.probe, startTime: src.probe.startTime ?? { num: 0, den: 1 } }, record.working);
  if (!Number.isSafeInteger(shot.first) || !Number.isSafeInteger(shot.last) || shot.first < 0 || shot.last < shot.first || shot.last >= info.frameCount) {
    throw new FarmError('INVALID_ARGUMENT', `shot ${shot.index} (frames ${shot.first}-${shot.last}) is outside the video's frames 0-${info.frameCount - 1}`);
  }
  // The record's hash is the file's content: a store that has it needs no second copy.
  const video = (await store.has(record.sha256))
    ? record.sha256
    : isFileStore(store) ? await store.putFile(src.path, opts.signal) : await store.put(await readFile(src.path));
  const rendered = new Set(project.renderedFrames());
  const keyImages = new Set(project.listKeyframes(() => '').filter((k) => k.state !== 'none').map((k) => k.frame));
  const frames: ExportManifest['frames'] = [];
  for (let i = shot.first; i <= shot.last; i++) {
    opts.signal?.throwIfAborted();
    const from = pending.get(i);
    const farm = from === 'farm';
    let render: string | null = null;
    if (from !== undefined && !farm) {
      if (!SHA256_RE.test(from)) throw new FarmError('INVALID_ARGUMENT', `the farm's render of frame ${i} is not an artifact hash`);
      if (!(await store.has(from))) throw new FarmError('ARTIFACT_MISSING', `the farm's render of frame ${i} (${from.slice(0, 12)}…) is not in the store`);
      render = from;
    } else if (!farm && rendered.has(i)) {
      render = await store.put(project.getRender(i)!.image);
    }
    const keyframe = keyImages.has(i) ? await store.put(project.getKeyframe(i)!.image!) : null;
    frames.push({ farm, render, keyframe });
  }
  const manifest: ExportManifest = { v: 1, kind: 'export-manifest', first: shot.first, frames };
  parseOrThrow(exportManifestSchema, manifest, 'the export manifest');
  const ext = path.extname(src.path).slice(1).toLowerCase();
  const data: ExportJobData = {
    v: 1,
    kind: 'export',
    project: ident,
    shot: { index: shot.index, first: shot.first, last: shot.last },
    store: opts.storeRef ?? (store instanceof FolderArtifactStore ? store.root : ''),
    video: { hash: video, ext: /^[a-z0-9]{1,10}$/.test(ext) ? ext : 'video' },
    source: info,
    manifest: await store.put(new TextEncoder().encode(JSON.stringify(manifest))),
    request: { size, upsample: method, crf: req.crf ?? settings.export.crf, audio: req.audio ?? settings.export.audio },
    outName: path.basename(req.outPath),
  };
  // What the worker will check, checked here: a bad submission fails now, not on the farm.
  return parseOrThrow(exportJobSchema, data, `the export job of shot ${shot.index}`);
}

export interface RunExportDeps {
  store: ArtifactStore;
  worker: string;
  device: string;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
  /** The renders the shot's propagation jobs returned (their results' frames): frame → PNG hash. */
  childFrames: ReadonlyMap<number, string>;
  tools: MediaTools;
  /** A folder for the job's temporary files (the video's copy, the MP4 before it is stored); removed after. */
  scratchDir: string;
}

/** The worker's side: the shot's MP4 from artifacts only, put in the store; returns its hash. */
export async function runExportJob(job: ExportJobData, deps: RunExportDeps): Promise<ExportJobResult> {
  const started = performance.now();
  const data = parseOrThrow(exportJobSchema, job, 'the export job');
  const { first, last } = data.shot;
  for (const [f, h] of deps.childFrames) {
    if (!Number.isSafeInteger(f) || f < first || f > last) throw new FarmError('BAD_JOB', `a child job returned frame ${String(f)}, which is not in shot ${data.shot.index} (frames ${first}-${last})`);
    if (typeof h !== 'string' || !SHA256_RE.test(h)) throw new FarmError('BAD_JOB', `a child job returned a render of frame ${f} that is not an artifact hash`);
  }
  const manifest = await readManifest(deps.store, data.manifest);
  if (manifest.first !== first || manifest.frames.length !== last - first + 1) {
    throw new FarmError('BAD_JOB', `the export manifest lists frames ${manifest.first}-${manifest.first + manifest.frames.length - 1}, not the shot's ${first}-${last}`);
  }
  const missing = manifest.frames.flatMap((f, n) => (f.farm && !deps.childFrames.has(first + n) ? [first + n] : []));
  if (missing.length > 0) throw new FarmError('JOB_FAILED', `no render came back from the farm for frame(s) ${compactList(missing)} of shot ${data.shot.index}`);

  const info: ExportSourceInfo = data.source;
  const scratch = await mkdtemp(path.join(deps.scratchDir, 'export-'));
  try {
    const videoPath = path.join(scratch, `source.${data.video.ext}`);
    if (isFileStore(deps.store)) await deps.store.getToFile(data.video.hash, videoPath, deps.signal);
    else await writeFile(videoPath, await deps.store.get(data.video.hash));
    const frameOf = async (i: number): Promise<StoredFrame | null> => {
      const m = manifest.frames[i - first]!;
      const render = deps.childFrames.get(i) ?? m.render;
      if (render) return { kind: 'render', png: await deps.store.get(render) };
      if (m.keyframe) return { kind: 'keyframe', png: await deps.store.get(m.keyframe) };
      return null;
    };
    const outPath = path.join(scratch, 'export.mp4');
    const r = await exportFrames(videoPath, info, frameOf, {
      outPath,
      size: data.request.size,
      upsample: data.request.upsample,
      crf: data.request.crf,
      audio: data.request.audio,
      replace: 'never',
      range: { start: first, count: last - first + 1 },
    }, {
      tools: deps.tools,
      ...(deps.signal ? { signal: deps.signal } : {}),
      onProgress: (p) => deps.onProgress?.(p.done, p.total),
    });
    const bytes = (await stat(outPath)).size;
    const mp4 = isFileStore(deps.store) ? await deps.store.putFile(outPath, deps.signal) : await deps.store.put(await readFile(outPath));
    return {
      mp4, bytes, frames: r.frames, width: r.width, height: r.height, worker: deps.worker, device: deps.device, ms: performance.now() - started,
      fromRenders: r.fromRenders, fromKeyframes: r.fromKeyframes, fromSource: r.fromSource, audio: r.audio,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The renders a shot's propagation jobs returned, as runExportJob's `childFrames`: `values` is what
 * BullMQ's job.getChildrenValues() gives (child key → return value). Each value is checked against
 * the propagation result's schema, and two children may not give one frame different renders.
 */
export function childFramesOf(values: Readonly<Record<string, unknown>>): Map<number, string> {
  const frames = new Map<number, string>();
  for (const [key, value] of Object.entries(values)) {
    const r = parseOrThrow(propagateResultSchema, value, `the result of child job ${key.slice(0, 120)}`);
    for (const f of r.frames) {
      const had = frames.get(f.frame);
      if (had !== undefined && had !== f.png) throw new FarmError('BAD_JOB', `two child jobs returned different renders of frame ${f.frame}`);
      frames.set(f.frame, f.png);
    }
  }
  return frames;
}

async function readManifest(store: ArtifactStore, h: string): Promise<ExportManifest> {
  const bytes = await store.get(h);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new FarmError('BAD_JOB', `the export manifest ${h.slice(0, 12)}… is not JSON, so the export was not run`);
  }
  return parseOrThrow(exportManifestSchema, value, 'the export manifest');
}

function compactList(frames: readonly number[]): string {
  return frames.length > 12 ? `${frames.slice(0, 12).join(', ')} and ${frames.length - 12} more` : frames.join(', ');
}

export interface IngestExportOptions {
  /** The job whose result this is: a result for another number of frames is refused (BAD_JOB). */
  job?: ExportJobData;
  /** Files never replaced, whatever the policy (the project's own files: studio/export.ts projectFiles). */
  protect?: readonly string[];
  signal?: AbortSignal;
}

export interface IngestedExport {
  out: string;
  bytes: number;
  frames: number;
  width: number;
  height: number;
  fromRenders: number;
  fromKeyframes: number;
  fromSource: number;
  audio: boolean;
}

/**
 * The owner's side once the export job finished: its MP4, checked against its hash, written to
 * `outPath` through a temporary file beside it and renamed into place (the local export's rules
 * for what may be replaced).
 */
export async function ingestExport(result: unknown, store: ArtifactStore, outPath: string, replace: ReplacePolicy = 'videos', opts: IngestExportOptions = {}): Promise<IngestedExport> {
  const r = parseOrThrow(exportResultSchema, result, 'the export job\'s result');
  if (opts.job && r.frames !== opts.job.shot.last - opts.job.shot.first + 1) {
    throw new FarmError('BAD_JOB', `the export job's result has ${r.frames} frames, not the ${opts.job.shot.last - opts.job.shot.first + 1} of shot ${opts.job.shot.index}`);
  }
  const output = await prepareOutput(outPath, { replace, ...(opts.protect ? { protect: opts.protect } : {}) });
  try {
    if (isFileStore(store)) await store.getToFile(r.mp4, output.temp, opts.signal);
    else await writeFile(output.temp, await store.get(r.mp4));
    await output.commit();
  } catch (err) {
    await output.discard();
    throw err;
  }
  return {
    out: output.out, bytes: r.bytes, frames: r.frames, width: r.width, height: r.height,
    fromRenders: r.fromRenders, fromKeyframes: r.fromKeyframes, fromSource: r.fromSource, audio: r.audio,
  };
}
