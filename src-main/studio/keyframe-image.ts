// Artist-supplied key-frame images and masks, in any image format ffmpeg reads. An image at the
// working size is taken as is; one at the source's full size gets the project's crop and scale, so
// a paint-over of a full-resolution frame lines up exactly.
// An image's size is read from its header (PNG IHDR, JPEG SOF) before anything decodes it, and
// ffmpeg/ffprobe are capped at the largest size accepted: a small file can declare gigapixels.
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MediaError, encodePng, runTool, type MediaTools } from '../media/index.ts';
import { checkImageSize, readPngHeader, type ImageHeader } from '../media/png.ts';
import type { Project } from '../project/index.ts';
import { openSource, type SourceAccess } from './source.ts';

export type ImageInput = { path: string } | { bytes: Uint8Array };

/** Bytes read from the start of a file to find its header; a JPEG's SOF follows its EXIF/ICC segments. */
const HEAD_BYTES = 1 << 20;

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT (C4), JPG (C8), DAC (CC). */
function isJpegSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Width and height from a JPEG's SOF segment, or null when not a JPEG or not found in `bytes`. */
export function readJpegSize(bytes: Uint8Array): ImageHeader | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  const u16 = (at: number): number => (bytes[at]! << 8) | bytes[at + 1]!;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return null;
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      pos += 2; // no length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return null; // scan data or end before any frame header
    if (isJpegSof(marker)) return pos + 9 <= bytes.length ? { height: u16(pos + 5), width: u16(pos + 7) } : null;
    pos += 2 + u16(pos + 2);
  }
  return null;
}

/** The start of a file (empty when it cannot be opened: the decoder then says what is wrong). */
export async function readHead(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return new Uint8Array(0); // ffprobe then says what is wrong (missing, unreadable)
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * A -max_pixels limit for an image of up to width x height. ffmpeg counts the decoder's padded
 * picture (a 152-wide PNG counts as 192 wide), so each side gets one alignment block of headroom:
 * still a hard limit on what a small file declaring gigapixels can make it allocate.
 */
export function pixelCap(width: number, height: number): number {
  const pad = (v: number): number => (Math.ceil(v / 64) + 1) * 64;
  return pad(width) * pad(height);
}

async function imageSize(file: string, label: string, maxPixels: number, tools: MediaTools, signal?: AbortSignal): Promise<ImageHeader> {
  const notImage = new MediaError('INVALID_IMAGE', `${label} is not an image ffmpeg can read (or it is larger than ${maxPixels} pixels).`);
  // ffprobe decodes a frame to learn the size; -max_pixels makes a huge one fail instead (size 0).
  const r = await runTool(tools.ffprobe, ['-v', 'error', '-max_pixels', String(maxPixels), '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', file], {
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
    const g = src.geometry;
    const maxPixels = pixelCap(Math.max(g.width, src.probe.width), Math.max(g.height, src.probe.height));
    const head = 'bytes' in input ? input.bytes : await readHead(file);
    const declared = readPngHeader(head) ?? readJpegSize(head);
    if (declared) checkImageSize(declared, label.charAt(0).toUpperCase() + label.slice(1));
    const { width, height } = declared ?? (await imageSize(file, label, maxPixels, tools, signal));
    let filter: string;
    if (width === g.width && height === g.height) filter = 'null';
    else if (width === src.probe.width && height === src.probe.height) filter = g.filter;
    else {
      throw new MediaError(
        'IMAGE_SIZE_MISMATCH',
        `${label} is ${width}×${height}; a key-frame image must be the project's working size (${g.width}×${g.height}) or the source video's size (${src.probe.width}×${src.probe.height}).`,
      );
    }
    const r = await runTool(tools.ffmpeg, ['-v', 'error', '-nostdin', '-max_pixels', String(maxPixels), '-i', file, '-vf', `${filter},format=${format}`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', format, 'pipe:1'], {
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
