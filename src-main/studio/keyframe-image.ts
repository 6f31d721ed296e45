// Artist-supplied key-frame images and masks, in any image format ffmpeg reads. An image at the
// working size is taken as is; one at the source's full size gets the project's crop and scale, so
// a paint-over of a full-resolution frame lines up exactly.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MediaError, encodePng, runTool, type MediaTools } from '../media/index.ts';
import type { Project } from '../project/index.ts';
import { openSource, type SourceAccess } from './source.ts';

export type ImageInput = { path: string } | { bytes: Uint8Array };

interface ImageSize {
  width: number;
  height: number;
}

async function imageSize(file: string, label: string, tools: MediaTools, signal?: AbortSignal): Promise<ImageSize> {
  const notImage = new MediaError('INVALID_IMAGE', `${label} is not an image ffmpeg can read.`);
  const r = await runTool(tools.ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', file], {
    what: `Reading ${label}`,
    signal,
    collectStdout: true,
    mapFailure: () => notImage,
  });
  const parsed = JSON.parse(r.stdout.toString('utf8')) as { streams?: { width?: number; height?: number }[] };
  const s = parsed.streams?.[0];
  if (!s?.width || !s.height) throw notImage;
  return { width: s.width, height: s.height };
}

/** Pixels of the image at the working size: RGB24 or 8-bit grey. */
export async function readImageAtWorkingSize(
  input: ImageInput,
  format: 'rgb24' | 'gray',
  src: Pick<SourceAccess, 'probe' | 'geometry'>,
  tools: MediaTools,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  let dir: string | null = null;
  let file: string;
  let label: string;
  if ('path' in input) {
    file = path.resolve(input.path);
    label = `'${path.basename(file)}'`;
  } else {
    dir = await mkdtemp(path.join(tmpdir(), 'rerender-img-'));
    file = path.join(dir, 'image');
    label = 'the image';
    await writeFile(file, input.bytes);
  }
  try {
    const { width, height } = await imageSize(file, label, tools, signal);
    const g = src.geometry;
    let filter: string;
    if (width === g.width && height === g.height) filter = 'null';
    else if (width === src.probe.width && height === src.probe.height) filter = g.filter;
    else {
      throw new MediaError(
        'IMAGE_SIZE_MISMATCH',
        `${label} is ${width}×${height}; a key-frame image must be the project's working size (${g.width}×${g.height}) or the source video's size (${src.probe.width}×${src.probe.height}).`,
      );
    }
    const r = await runTool(tools.ffmpeg, ['-v', 'error', '-nostdin', '-i', file, '-vf', `${filter},format=${format}`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', format, 'pipe:1'], {
      what: `Reading ${label}`,
      signal,
      collectStdout: true,
      mapFailure: () => new MediaError('INVALID_IMAGE', `${label} could not be decoded.`),
    });
    const expected = g.width * g.height * (format === 'rgb24' ? 3 : 1);
    if (r.stdout.length !== expected) throw new MediaError('INVALID_IMAGE', `${label} could not be decoded (got ${r.stdout.length} of ${expected} bytes).`);
    return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

export interface ImportDeps {
  tools: MediaTools;
  signal?: AbortSignal;
}

/** Stores an artist-edited image (and optionally a mask) for key frame `frame`, creating it if needed. */
export async function importKeyframe(
  project: Project,
  frame: number,
  image: ImageInput,
  mask: ImageInput | null,
  deps: ImportDeps,
): Promise<void> {
  const src = await openSource(project);
  const { width, height } = src.geometry;
  // Read everything before writing anything, so a bad mask leaves the key frame untouched.
  const rgb = await readImageAtWorkingSize(image, 'rgb24', src, deps.tools, deps.signal);
  const grey = mask ? await readImageAtWorkingSize(mask, 'gray', src, deps.tools, deps.signal) : null;
  const png = encodePng(rgb, width, height, 3);
  const maskPng = grey ? encodePng(grey, width, height, 1) : null;
  project.setKeyframeImage(frame, png, 'edited', null);
  if (maskPng) project.setKeyframeMask(frame, maskPng);
}

/** A mask painted in the editor (PNG at the working size, any channel count) stored as 8-bit grey. */
export async function storeMask(project: Project, frame: number, png: Uint8Array | null, deps: ImportDeps): Promise<void> {
  if (png === null) {
    project.setKeyframeMask(frame, null);
    return;
  }
  const src = await openSource(project);
  const grey = await readImageAtWorkingSize({ bytes: png }, 'gray', src, deps.tools, deps.signal);
  project.setKeyframeMask(frame, encodePng(grey, src.geometry.width, src.geometry.height, 1));
}
