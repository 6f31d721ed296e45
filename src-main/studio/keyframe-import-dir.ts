// The EbSynth hand-back: a folder of painted frames, matched to key frames by the number in each
// file name (the last group of digits: `shot_v2_00012.png` is frame 12). Every file is read and
// brought to the working size BEFORE anything is stored, so a bad file leaves the project as it
// was. A painted frame may be the working size, the source's size, or the size keyframe-export
// wrote (the source minus the artist's crop); all land exactly as a key-frame import would.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { FILE_FILTER_EXTENSIONS } from '../api/contract.ts';
import { MediaError, cropScaleFilter, encodePng, runTool, type MediaTools } from '../media/index.ts';
import { checkImageSize, readPngHeader } from '../media/png.ts';
import { ProgressTracker, type Progress } from '../jobs/progress.ts';
import { CodedError } from '../errors.ts';
import type { Project } from '../project/index.ts';
import { openSource, type SourceAccess } from './source.ts';
import { sourceRegion } from './export.ts';
import { pixelCap, readHead, readJpegSize } from './keyframe-image.ts';

export interface FolderMatch {
  name: string;
  frame: number;
  /** Not a key frame yet: importing adds it (only with addMissing). */
  isNew: boolean;
}

export interface FolderSkip {
  name: string;
  reason: string;
}

export interface FolderMatching {
  matches: FolderMatch[];
  skipped: FolderSkip[];
}

export interface MatchOptions {
  frameCount: number;
  keyframes: readonly number[];
  /** Add key frames for numbers that are not key frames yet (else those files are skipped). */
  addMissing?: boolean;
}

const IMAGE_EXTS: readonly string[] = FILE_FILTER_EXTENSIONS.image;

/** The frame number a file name carries: its last group of digits (before the extension), or null. */
export function frameNumberOf(name: string): number | null {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const m = /(\d+)\D*$/.exec(stem);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

function isImageName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTS.includes(name.slice(dot + 1).toLowerCase());
}

/** Which files answer which key frame, and why the others do not. Pure: names in, decisions out. */
export function matchPaintedFiles(names: readonly string[], opts: MatchOptions): FolderMatching {
  const keys = new Set(opts.keyframes);
  const skipped: FolderSkip[] = [];
  const byFrame = new Map<number, string[]>();
  for (const name of [...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    // Hidden files (.DS_Store, editors' swap files) are no one's painted frame.
    if (name.startsWith('.')) continue;
    if (!isImageName(name)) {
      skipped.push({ name, reason: `not an image (${IMAGE_EXTS.join(', ')})` });
      continue;
    }
    const frame = frameNumberOf(name);
    if (frame === null) {
      skipped.push({ name, reason: 'no frame number in the name' });
      continue;
    }
    if (frame >= opts.frameCount) {
      skipped.push({ name, reason: `frame ${frame} is past the end of the clip (the last frame is ${opts.frameCount - 1})` });
      continue;
    }
    if (!keys.has(frame) && opts.addMissing !== true) {
      skipped.push({ name, reason: `frame ${frame} is not a key frame` });
      continue;
    }
    byFrame.set(frame, [...(byFrame.get(frame) ?? []), name]);
  }
  const matches: FolderMatch[] = [];
  for (const [frame, files] of [...byFrame].sort((a, b) => a[0] - b[0])) {
    if (files.length > 1) {
      // Guessing which one the artist meant could throw away the right painting.
      for (const name of files) skipped.push({ name, reason: `${files.length} files are numbered ${frame} (${files.join(', ')})` });
      continue;
    }
    matches.push({ name: files[0]!, frame, isNew: !keys.has(frame) });
  }
  return { matches, skipped };
}

export interface FolderDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface FolderPreviewItem extends FolderMatch {
  /** The painted picture, small, as a PNG data URL (null when it could not be read). */
  thumbnail: string | null;
  /** Why it cannot be imported (null when it can). */
  problem: string | null;
}

export interface FolderPreview {
  dir: string;
  items: FolderPreviewItem[];
  skipped: FolderSkip[];
}

export interface FolderImportResult {
  dir: string;
  imported: FolderMatch[];
  skipped: FolderSkip[];
}

export class FolderImportError extends CodedError<'NOT_FOUND' | 'NOTHING_TO_IMPORT' | 'INVALID_IMAGE'> {}

async function listFolder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  } catch {
    throw new FolderImportError('NOT_FOUND', `The folder '${dir}' cannot be read.`);
  }
}

async function matchFolder(project: Project, dir: string, addMissing: boolean): Promise<FolderMatching> {
  const names = await listFolder(dir);
  return matchPaintedFiles(names, { frameCount: project.frameCount, keyframes: project.listKeyframes(() => '').map((k) => k.frame), addMissing });
}

/**
 * Reads a painted frame at the working size, as a key-frame import does (keyframe-image.ts): an
 * image at the working size is taken as is, one at the source's size gets the working geometry's
 * crop and scale; the size keyframe-export writes (the source minus the artist's crop) gets the
 * same rectangle cropped from it, then the same scale, so all three land alike.
 */
function paintedReader(src: SourceAccess, project: Project, tools: MediaTools): (file: string, signal?: AbortSignal) => Promise<Uint8Array> {
  const region = sourceRegion(src.probe, project.source().working);
  const g = src.geometry;
  const r = region.rendered;
  const regionFilter = cropScaleFilter(region.width, region.height, { left: r.x, top: r.y, right: region.width - r.x - r.width, bottom: region.height - r.y - r.height }, g.width, g.height);
  const cap = pixelCap(Math.max(src.probe.width, g.width), Math.max(src.probe.height, g.height));
  return async (file, signal) => {
    const label = `'${path.basename(file)}'`;
    const notImage = new MediaError('INVALID_IMAGE', `${label} is not an image that can be read.`);
    const head = await readHead(file);
    if (head.length === 0) throw new MediaError('INVALID_IMAGE', `${label} cannot be read.`);
    let size = readPngHeader(head) ?? readJpegSize(head);
    if (size) checkImageSize(size, label);
    else {
      const probe = await runTool(tools.ffprobe, ['-v', 'error', '-max_pixels', String(cap), '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', file], {
        what: `Reading ${label}`, signal, collectStdout: true, mapFailure: () => notImage,
      });
      const s = (JSON.parse(probe.stdout.toString('utf8')) as { streams?: { width?: number; height?: number }[] }).streams?.[0];
      if (!s?.width || !s.height) throw notImage;
      size = { width: s.width, height: s.height };
    }
    const { width, height } = size;
    let filter: string;
    if (width === g.width && height === g.height) filter = 'null';
    else if (width === src.probe.width && height === src.probe.height) filter = g.filter;
    else if (width === region.width && height === region.height) filter = regionFilter;
    else {
      throw new MediaError(
        'IMAGE_SIZE_MISMATCH',
        `${label} is ${width}×${height}; a painted frame must be the exported size (${region.width}×${region.height}), the source video's (${src.probe.width}×${src.probe.height}) or the working size (${g.width}×${g.height}).`,
      );
    }
    const out = await runTool(tools.ffmpeg, ['-v', 'error', '-nostdin', '-max_pixels', String(cap), '-i', file, '-vf', `${filter},format=rgb24`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
      what: `Reading ${label}`, signal, collectStdout: true, mapFailure: () => new MediaError('INVALID_IMAGE', `${label} could not be decoded.`),
    });
    const expected = g.width * g.height * 3;
    if (out.stdout.length !== expected) throw new MediaError('INVALID_IMAGE', `${label} could not be decoded (got ${out.stdout.length} of ${expected} bytes).`);
    return new Uint8Array(out.stdout.buffer, out.stdout.byteOffset, out.stdout.length);
  };
}

const THUMB_HEIGHT = 72;

/** A small copy (box-averaged) of a working-size RGB picture, as a PNG data URL. */
export function thumbnailDataUrl(rgb: Uint8Array, width: number, height: number, maxHeight = THUMB_HEIGHT): string {
  const th = Math.min(height, maxHeight);
  const tw = Math.max(1, Math.round((width * th) / height));
  const out = new Uint8Array(tw * th * 3);
  for (let y = 0; y < th; y++) {
    const y0 = Math.floor((y * height) / th);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / th));
    for (let x = 0; x < tw; x++) {
      const x0 = Math.floor((x * width) / tw);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * width) / tw));
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) s += rgb[(yy * width + xx) * 3 + c]!;
        out[(y * tw + x) * 3 + c] = Math.round(s / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  return `data:image/png;base64,${Buffer.from(encodePng(out, tw, th, 3)).toString('base64')}`;
}

function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** What importing `dir` would do, with each painted frame read (so problems show before anything changes). */
export async function previewKeyframeFolder(project: Project, dir: string, opts: { addMissing?: boolean }, deps: FolderDeps): Promise<FolderPreview> {
  const abs = path.resolve(dir);
  const { matches, skipped } = await matchFolder(project, abs, opts.addMissing === true);
  const src = await openSource(project, [], { tools: deps.tools, signal: deps.signal });
  const read = paintedReader(src, project, deps.tools);
  const { width, height } = src.geometry;
  const tracker = new ProgressTracker({ stage: 'read painted frames', total: matches.length, onProgress: deps.onProgress });
  const items: FolderPreviewItem[] = [];
  for (const m of matches) {
    deps.signal?.throwIfAborted();
    try {
      const rgb = await read(path.join(abs, m.name), deps.signal);
      items.push({ ...m, thumbnail: thumbnailDataUrl(rgb, width, height), problem: null });
    } catch (err) {
      deps.signal?.throwIfAborted();
      items.push({ ...m, thumbnail: null, problem: reasonOf(err) });
    }
    tracker.advance();
  }
  return { dir: abs, items, skipped };
}

/**
 * Imports every matched painted frame, or none: all are read first; a file that cannot be read
 * stops the import before the project changes (INVALID_IMAGE naming it). The writes then restore
 * what was there if one of them fails.
 */
export async function importKeyframeFolder(project: Project, dir: string, opts: { addMissing?: boolean }, deps: FolderDeps): Promise<FolderImportResult> {
  const abs = path.resolve(dir);
  const { matches, skipped } = await matchFolder(project, abs, opts.addMissing === true);
  if (matches.length === 0) {
    throw new FolderImportError('NOTHING_TO_IMPORT', `No painted frame in '${abs}' matches a key frame${skipped.length > 0 ? ` (${skipped.length} file(s) skipped: ${skipped[0]!.name}: ${skipped[0]!.reason}${skipped.length > 1 ? ', …' : ''})` : ''}.`);
  }
  const src = await openSource(project, [], { tools: deps.tools, signal: deps.signal });
  const read = paintedReader(src, project, deps.tools);
  const { width, height } = src.geometry;
  const tracker = new ProgressTracker({ stage: 'read painted frames', total: matches.length, onProgress: deps.onProgress });
  const pngs: Uint8Array[] = [];
  for (const m of matches) {
    try {
      pngs.push(encodePng(await read(path.join(abs, m.name), deps.signal), width, height, 3));
    } catch (err) {
      deps.signal?.throwIfAborted();
      throw new FolderImportError('INVALID_IMAGE', `Nothing was imported: '${m.name}' (frame ${m.frame}) cannot be used. ${reasonOf(err)}`);
    }
    tracker.advance();
  }
  deps.signal?.throwIfAborted();
  writeAll(project, matches, pngs);
  return { dir: abs, imported: matches, skipped };
}

/** Stores the pictures; if a write fails, what was written is put back as it was. */
function writeAll(project: Project, matches: readonly FolderMatch[], pngs: readonly Uint8Array[]): void {
  const before = matches.map((m) => project.getKeyframe(m.frame));
  let done = 0;
  try {
    for (const [i, m] of matches.entries()) {
      if (m.isNew) project.addKeyframe(m.frame);
      project.setKeyframeImage(m.frame, pngs[i]!, 'edited', null);
      done++;
    }
  } catch (err) {
    for (let i = 0; i <= Math.min(done, matches.length - 1); i++) {
      const m = matches[i]!;
      const old = before[i];
      try {
        if (!old) project.removeKeyframe(m.frame);
        else if (old.image && old.origin) project.setKeyframeImage(m.frame, old.image, old.origin, old.paramsHash);
        else project.clearKeyframeImage(m.frame);
      } catch {
        // best effort: the first error is the one to report
      }
    }
    throw err;
  }
}

/**
 * One painted frame from a file, read as a folder import reads it (so the exported size is taken
 * too) and stored as an edited key-frame image, the key frame created if needed.
 */
export async function importPaintedFrame(project: Project, frame: number, file: string, deps: FolderDeps): Promise<void> {
  if (!Number.isInteger(frame) || frame < 0 || frame >= project.frameCount) throw new RangeError(`frame ${frame} is outside the clip (frames 0–${project.frameCount - 1}).`);
  const src = await openSource(project, [], { tools: deps.tools, signal: deps.signal });
  const rgb = await paintedReader(src, project, deps.tools)(path.resolve(file), deps.signal);
  const png = encodePng(rgb, src.geometry.width, src.geometry.height, 3);
  deps.signal?.throwIfAborted();
  if (project.getKeyframe(frame) === null) project.addKeyframe(frame);
  project.setKeyframeImage(frame, png, 'edited', null);
}
