// Timeline thumbnail strip: `count` frames spread evenly over the source, side by side in one PNG.
// Made in one decode pass that scales only the tiles' frames: a seek per tile decodes from the key
// frame before it, which on long-GOP video costs more than the whole clip (a 60 s 1080p clip with
// 250-frame GOPs: 40 seeks decode ~5000 frames, one pass 1800). Only very long sources, where one
// pass would decode far more than the seeks, take a seek per tile, two at a time.
import { frameSplitter } from './frame-split.ts';
import { MediaError, throwIfAborted, fileLabel } from './errors.ts';
import { decodeFrame, type DecodeSource } from './decode.ts';
import { previewGeometry, type WorkingGeometry } from './geometry.ts';
import type { MediaTools } from './locate.ts';
import { encodePng } from './png.ts';
import { lastLines, runTool } from './process.ts';
import type { VideoProbe } from './probe.ts';
import { refusedSourceError, sourceInputArgs } from './sniff.ts';
import { timelineFilter } from './timeline.ts';

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
  /** 'pass': one decode of the whole clip; 'seek': one short decode per tile; 'auto' picks by length. */
  mode?: 'auto' | 'pass' | 'seek';
}

/** Above this many frames per tile a seek per tile (at most a GOP each) beats one pass. */
const PASS_FRAMES_PER_TILE = 150;
const SEEKABLE_CONTAINERS = /(^|,)(mov|mp4|matroska|webm)(,|$)/;

/** Centre frame of each of `count` equal slices of the timeline. */
export function thumbnailFrames(frameCount: number, count: number): number[] {
  const n = Math.min(count, frameCount);
  return Array.from({ length: n }, (_, i) => Math.floor(((2 * i + 1) * frameCount) / (2 * n)));
}

/** Tiles (each tileWidth × height RGB) side by side, as a PNG strip. */
export function assembleStrip(tiles: readonly Uint8Array[], tileWidth: number, height: number, frames: number[]): ThumbnailStrip {
  const width = tileWidth * tiles.length;
  const strip = new Uint8Array(width * height * 3);
  for (const [tile, rgb] of tiles.entries()) {
    for (let y = 0; y < height; y++) {
      strip.set(rgb.subarray(y * tileWidth * 3, (y + 1) * tileWidth * 3), (y * width + tile * tileWidth) * 3);
    }
  }
  return { png: encodePng(strip, width, height, 3), width, height, tileWidth, frames };
}

function usePass(source: DecodeSource, tiles: number, mode: ThumbnailOptions['mode']): boolean {
  if (mode === 'pass') return true;
  if (mode === 'seek') return false;
  return !SEEKABLE_CONTAINERS.test(source.container) || source.frameCount <= tiles * PASS_FRAMES_PER_TILE;
}

/** The tiles' RGB in one pass: every frame is decoded, only the tiles' frames are scaled. */
async function tilesInOnePass(file: string, source: DecodeSource, geometry: WorkingGeometry, frames: number[], options: ThumbnailOptions): Promise<Uint8Array[]> {
  const what = `Making thumbnails of ${fileLabel(file)}`;
  const split = frameSplitter(geometry.width * geometry.height * 3);
  const tiles: Uint8Array[] = [];
  const pick = frames.map((f) => `eq(n\\,${f})`).join('+');
  const filters = [timelineFilter(source), `select='${pick}'`, geometry.filter, 'format=rgb24'].join(',');
  await runTool(options.tools.ffmpeg, [
    '-v', 'error', '-nostdin', ...sourceInputArgs(), '-copyts', '-i', file,
    '-map', `0:${source.streamIndex}`, '-an', '-sn', '-dn',
    '-vf', filters, '-fps_mode', 'passthrough', '-frames:v', String(frames.length),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ], {
    what,
    signal: options.signal,
    onStdout: (chunk) => {
      for (const tile of split(chunk)) {
        tiles.push(tile);
        if (tiles.length <= frames.length) options.onProgress?.({ done: tiles.length, total: frames.length });
      }
    },
    mapFailure: (f) => refusedSourceError(file, f.stderrTail) ?? new MediaError('CORRUPT', `${fileLabel(file)} could not be decoded: ${lastLines(f.stderrTail, 2)}`),
  });
  if (tiles.length < frames.length) {
    throw new MediaError('CORRUPT', `${fileLabel(file)} ends early: frame ${frames[tiles.length]} of ${source.frameCount} could not be decoded.`);
  }
  return tiles.slice(0, frames.length);
}

/** The tiles' RGB by one short decode per tile, two at a time, in order. */
async function tilesBySeeking(file: string, source: DecodeSource, geometry: WorkingGeometry, frames: number[], options: ThumbnailOptions): Promise<Uint8Array[]> {
  const tiles: Array<Uint8Array | undefined> = new Array(frames.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < frames.length) {
      const tile = next++;
      try {
        throwIfAborted(options.signal, `Making thumbnails of ${fileLabel(file)}`);
        tiles[tile] = await decodeFrame(file, source, geometry, frames[tile]!, { tools: options.tools, signal: options.signal });
      } catch (e) {
        next = frames.length; // the other worker stops after its tile
        throw e;
      }
      options.onProgress?.({ done: ++done, total: frames.length });
    }
  };
  await Promise.all([worker(), worker()]);
  return tiles as Uint8Array[];
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
  throwIfAborted(options.signal, `Making thumbnails of ${fileLabel(file)}`);
  const geometry = previewGeometry(probe, layout.height);
  const frames = thumbnailFrames(probe.frameCount, layout.count);
  const tiles = usePass(probe, frames.length, options.mode)
    ? await tilesInOnePass(file, probe, geometry, frames, options)
    : await tilesBySeeking(file, probe, geometry, frames, options);
  return assembleStrip(tiles, geometry.width, geometry.height, frames);
}
