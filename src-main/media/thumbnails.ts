// Timeline thumbnail strip: `count` frames spread evenly over the source, side by side in one PNG.
import { MediaError, throwIfAborted, fileLabel } from './errors.ts';
import { decodeFrame, type DecodeSource } from './decode.ts';
import { previewGeometry } from './geometry.ts';
import type { MediaTools } from './locate.ts';
import { encodePng } from './png.ts';
import type { VideoProbe } from './probe.ts';

export interface ThumbnailStrip {
  png: Uint8Array;
  width: number;
  height: number;
  tileWidth: number;
  /** Timeline frame shown by each tile, left to right. */
  frames: number[];
}

export interface ThumbnailOptions {
  tools: MediaTools;
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number }) => void;
}

/** Centre frame of each of `count` equal slices of the timeline. */
export function thumbnailFrames(frameCount: number, count: number): number[] {
  const n = Math.min(count, frameCount);
  return Array.from({ length: n }, (_, i) => Math.floor(((2 * i + 1) * frameCount) / (2 * n)));
}

export async function thumbnailStrip(
  file: string,
  probe: DecodeSource & Pick<VideoProbe, 'width' | 'height'>,
  layout: { count: number; height: number },
  options: ThumbnailOptions,
): Promise<ThumbnailStrip> {
  if (!Number.isSafeInteger(layout.count) || layout.count < 1) {
    throw new MediaError('INVALID_ARGUMENT', `A thumbnail strip needs at least one tile (got ${layout.count}).`);
  }
  const geometry = previewGeometry(probe, layout.height);
  const frames = thumbnailFrames(probe.frameCount, layout.count);
  const tileWidth = geometry.width;
  const width = tileWidth * frames.length;
  const height = geometry.height;
  const strip = new Uint8Array(width * height * 3);
  for (const [tile, frame] of frames.entries()) {
    throwIfAborted(options.signal, `Making thumbnails of ${fileLabel(file)}`);
    // One short decode per tile: each seeks near its frame, so long sources stay cheap.
    const rgb = await decodeFrame(file, probe, geometry, frame, { tools: options.tools, signal: options.signal });
    for (let y = 0; y < height; y++) {
      strip.set(rgb.subarray(y * tileWidth * 3, (y + 1) * tileWidth * 3), (y * width + tile * tileWidth) * 3);
    }
    options.onProgress?.({ done: tile + 1, total: frames.length });
  }
  return { png: encodePng(strip, width, height, 3), width, height, tileWidth, frames };
}
