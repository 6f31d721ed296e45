// The EbSynth hand-off: each key frame's SOURCE picture as a numbered PNG at full source
// resolution (the source minus only the artist's crop, as a source-resolution export shows it),
// for painting in another program. The painted folder comes back through keyframe-import-dir.ts.
import { access, constants, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cropScaleFilter, decodeFrame, encodePng, type MediaTools } from '../media/index.ts';
import { ProgressTracker, type Progress } from '../jobs/progress.ts';
import { CodedError } from '../errors.ts';
import type { Project } from '../project/index.ts';
import { openSource } from './source.ts';
import { sourceRegion } from './export.ts';
import { FolderError, folderProblem, makeFolders, missingFolders } from '../folders.ts';

/** EbSynth's and most painting tools' numbering: at least five digits, more for longer clips. */
const MIN_DIGITS = 5;

/** Digits of a frame number in file names: enough for the clip's last frame (at least five). */
export function framePadding(frameCount: number): number {
  if (!Number.isInteger(frameCount) || frameCount < 1) throw new RangeError(`frame count must be a whole number ≥ 1 (got ${frameCount}).`);
  return Math.max(MIN_DIGITS, String(frameCount - 1).length);
}

/** `00012.png` for frame 12 of a clip needing five digits. */
export function keyframeFileName(frame: number, padding: number): string {
  return `${String(frame).padStart(padding, '0')}.png`;
}

export interface KeyframeExportRequest {
  dir: string;
  /** Replace PNGs of the same names already in `dir` (else OUTPUT_EXISTS before anything is written). */
  overwrite?: boolean;
  /** Only these key frames (default: all of them). */
  frames?: readonly number[];
  /** Only refuse or accept the folder (OUTPUT_EXISTS, OUTPUT_UNWRITABLE), writing nothing: the editor asks first, then exports in steps. */
  checkOnly?: boolean;
}

export interface KeyframeExportDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface KeyframeExportResult {
  dir: string;
  /** Absolute paths, in frame order. */
  files: string[];
  frames: number[];
  width: number;
  height: number;
}

export class KeyframeExportError extends CodedError<'OUTPUT_EXISTS' | 'OUTPUT_UNWRITABLE' | 'NO_KEYFRAMES'> {
  /** Names that are in the way (OUTPUT_EXISTS). */
  readonly existing: string[];
  constructor(code: 'OUTPUT_EXISTS' | 'OUTPUT_UNWRITABLE' | 'NO_KEYFRAMES', message: string, existing: string[] = []) {
    super(code, message);
    this.existing = existing;
  }
}

/** The files an export to `dir` would write, and which of them exist already. */
export async function keyframeExportTargets(project: Project, dir: string, frames?: readonly number[]): Promise<{ frames: number[]; files: string[]; existing: string[] }> {
  const keys = project.listKeyframes(() => '').map((k) => k.frame);
  const chosen = frames ? keys.filter((f) => frames.includes(f)) : keys;
  const pad = framePadding(project.frameCount);
  const files = chosen.map((f) => path.join(path.resolve(dir), keyframeFileName(f, pad)));
  const present = await Promise.all(files.map((f) => stat(f).then(() => true, () => false)));
  return { frames: chosen, files, existing: files.filter((_, i) => present[i]).map((f) => path.basename(f)) };
}

export async function exportKeyframeSources(project: Project, req: KeyframeExportRequest, deps: KeyframeExportDeps): Promise<KeyframeExportResult> {
  const dir = path.resolve(req.dir);
  const info = await stat(dir).catch(() => null);
  if (info && !info.isDirectory()) throw new KeyframeExportError('OUTPUT_UNWRITABLE', `'${dir}' is a file, not a folder: choose a folder for the key frames.`);
  const { frames, files, existing } = await keyframeExportTargets(project, dir, req.frames);
  if (frames.length === 0) throw new KeyframeExportError('NO_KEYFRAMES', 'There are no key frames to export: add some first.');
  if (existing.length > 0 && req.overwrite !== true) {
    const shown = existing.slice(0, 3).join(', ') + (existing.length > 3 ? ` and ${existing.length - 3} more` : '');
    throw new KeyframeExportError('OUTPUT_EXISTS', `${existing.length} of the files are already in '${dir}' (${shown}): replace them, or choose an empty folder.`, existing);
  }
  const stored = project.source();
  const region = sourceRegion(stored.probe, stored.working);
  const { width, height } = region;
  if (req.checkOnly) {
    await assertCreatable(dir);
    return { dir, files, frames, width, height };
  }
  await asExportError(dir, makeFolders(dir));

  const src = await openSource(project, [], { tools: deps.tools, signal: deps.signal });
  // The artist's crop only, no scaling: the pixels a source-resolution export starts from.
  const geometry = { width, height, filter: cropScaleFilter(src.probe.width, src.probe.height, region.crop, width, height) };
  const tracker = new ProgressTracker({ stage: 'export key frames', total: frames.length, onProgress: deps.onProgress });
  for (let i = 0; i < frames.length; i++) {
    deps.signal?.throwIfAborted();
    const rgb = await decodeFrame(src.path, src.probe, geometry, frames[i]!, { tools: deps.tools, signal: deps.signal });
    const file = files[i]!;
    // Written beside and renamed: a cancelled export never leaves half a PNG under a frame's name.
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, encodePng(rgb, width, height, 3));
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== undefined && UNWRITABLE.has(code)) {
        throw new KeyframeExportError('OUTPUT_UNWRITABLE', `'${file}' could not be written (${code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'no permission' : code}).`);
      }
      throw err;
    }
    tracker.advance();
  }
  return { dir, files, frames, width, height };
}

/** Errors of a folder or file that cannot be written, as opposed to a bug. */
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'EDQUOT', 'ENAMETOOLONG', 'ELOOP']);

function unwritable(dir: string, code: string | undefined): KeyframeExportError {
  return new KeyframeExportError('OUTPUT_UNWRITABLE', `The folder '${dir}' cannot be created (${folderProblem(code)}): choose another folder for the key frames.`);
}

/** The shared folder helpers' error, as this module's. */
async function asExportError<T>(dir: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof FolderError) throw unwritable(dir, err.errno);
    throw err;
  }
}

/** The editor's check before it exports: refuse a folder that plainly cannot be made or written. */
async function assertCreatable(dir: string): Promise<void> {
  const missing = await asExportError(dir, missingFolders(dir));
  const existing = missing.length === 0 ? dir : path.dirname(missing[missing.length - 1]!);
  await access(existing, constants.W_OK).catch((err: NodeJS.ErrnoException) => {
    throw unwritable(dir, err.code);
  });
}

