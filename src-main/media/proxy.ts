// The ffmpeg side of the working-size proxy: one decode pass over a range of timeline frames,
// each frame scaled exactly as decodeFrame scales it (timeline filter, working crop and bicubic
// scale to RGB) and then written as a JPEG, split out of ffmpeg's stream by its markers. And the
// way back: JPEGs decoded to RGB at a given size (the thumbnail strip made from the proxy).
//
// JPEG, 4:4:4, q 2: chosen by measurement (bench/editor/README.md). Per frame at 704x512 it is
// ~41 KB on film (PNG: 333 KB, 8x more) with a mean error under one level (4:2:0 smears colour
// edges, up to 232 levels on testsrc2), and the browser decodes it in a few milliseconds.
import { MediaError, fileLabel, throwIfAborted } from './errors.ts';
import type { DecodeGeometry, DecodeSource, FrameRange } from './decode.ts';
import type { MediaTools } from './locate.ts';
import { lastLines, runTool, spawnTool, type ToolFailure } from './process.ts';
import { refusedSourceError, sourceInputArgs } from './sniff.ts';
import { seekArgs, timelineFilter } from './timeline.ts';

/** ffmpeg's mjpeg -q:v (2 best .. 31 worst). */
export const PROXY_JPEG_QUALITY = 2;
/** A JPEG bigger than this means the stream is not what we think it is. */
const MAX_JPEG_BYTES = 64 * 1024 * 1024;

const DECODE_ERROR = /Invalid data|error while decoding|corrupt|truncat|partial file|Invalid NAL|moov atom|End of file|missing picture|concealing/i;

function corrupt(message: string): MediaError {
  return new MediaError('CORRUPT', message);
}

/**
 * Splits a stream of concatenated JPEGs (ffmpeg's image2pipe) into whole images: marker segments
 * are skipped by their lengths, entropy-coded data up to the next real marker (0xFF not followed
 * by a stuffed 0x00 or a restart marker), so EOI bytes inside headers never cut an image short.
 */
export class JpegSplitter {
  #buf: Buffer = Buffer.alloc(0);
  /** Next byte to look at, relative to the image at the start of #buf. */
  #pos = 0;
  #entropy = false;

  /** Bytes held that do not yet make a whole image. */
  get pending(): number {
    return this.#buf.length;
  }

  /** The whole images completed by `chunk` (copies: they outlive the stream's buffers). */
  push(chunk: Uint8Array): Uint8Array[] {
    const c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#buf = this.#buf.length === 0 ? c : Buffer.concat([this.#buf, c]);
    const out: Uint8Array[] = [];
    for (;;) {
      const end = this.#scan();
      if (end < 0) break;
      out.push(new Uint8Array(this.#buf.subarray(0, end)));
      this.#buf = this.#buf.subarray(end);
      this.#pos = 0;
      this.#entropy = false;
    }
    if (this.#buf.length > MAX_JPEG_BYTES) throw corrupt('The preview encoder wrote an image too large to be a frame.');
    return out;
  }

  /** End offset of the complete image at the start of the buffer, or -1 when more bytes are needed. */
  #scan(): number {
    const b = this.#buf;
    if (this.#pos === 0) {
      if (b.length < 2) return -1;
      if (b[0] !== 0xff || b[1] !== 0xd8) throw corrupt('The preview encoder wrote something that is not a JPEG.');
      this.#pos = 2;
    }
    for (;;) {
      if (this.#entropy) {
        let i = this.#pos;
        for (;;) {
          i = b.indexOf(0xff, i);
          if (i < 0 || i + 1 >= b.length) {
            this.#pos = i < 0 ? b.length : i;
            return -1;
          }
          const m = b[i + 1]!;
          if (m === 0x00 || (m >= 0xd0 && m <= 0xd7)) i += 2;
          else if (m === 0xff) i += 1;
          else break;
        }
        this.#pos = i;
        this.#entropy = false;
      }
      const p = this.#pos;
      if (p + 2 > b.length) return -1;
      if (b[p] !== 0xff) throw corrupt('The preview encoder wrote a damaged JPEG.');
      const m = b[p + 1]!;
      if (m === 0xff) {
        this.#pos = p + 1; // fill byte
        continue;
      }
      if (m === 0xd9) return p + 2; // EOI
      if (m === 0x01 || (m >= 0xd0 && m <= 0xd8)) {
        this.#pos = p + 2; // markers without a length
        continue;
      }
      if (p + 4 > b.length) return -1;
      const len = b.readUInt16BE(p + 2);
      if (len < 2) throw corrupt('The preview encoder wrote a damaged JPEG.');
      if (p + 2 + len > b.length) return -1;
      this.#pos = p + 2 + len;
      if (m === 0xda) this.#entropy = true; // start of scan: entropy-coded data follows
    }
  }
}

/** One pass: frames `range` of the timeline at `geometry`, as JPEGs on stdout. */
export function proxyArgs(file: string, source: DecodeSource, geometry: DecodeGeometry, range: FrameRange, quality = PROXY_JPEG_QUALITY): string[] {
  const last = range.start + range.count - 1;
  // Through RGB exactly as decodeFrame goes (same matrix and range handling), then to full-range
  // 4:4:4 YCbCr, which is what a JPEG decoder inverts.
  const filters = [timelineFilter(source), `select='between(n,${range.start},${last})'`, geometry.filter, 'format=rgb24', 'format=yuvj444p'].join(',');
  return [
    '-v', 'error', '-nostdin', ...sourceInputArgs(),
    ...seekArgs(source, range.start),
    '-copyts', '-i', file,
    '-map', `0:${source.streamIndex}`, '-an', '-sn', '-dn',
    '-vf', filters, '-fps_mode', 'passthrough', '-frames:v', String(range.count),
    '-c:v', 'mjpeg', '-q:v', String(quality), '-f', 'image2pipe', 'pipe:1',
  ];
}

export interface ProxyEncodeOptions {
  tools: MediaTools;
  signal?: AbortSignal;
  quality?: number;
  /** Called in frame order; a returned promise holds back the pass until it settles. */
  onFrame: (index: number, jpeg: Uint8Array) => void | Promise<void>;
}

/** Encodes timeline frames `range` of `file` as working-size JPEGs in one ffmpeg pass. */
export async function encodeProxyFrames(
  file: string,
  source: DecodeSource,
  geometry: DecodeGeometry,
  range: FrameRange,
  options: ProxyEncodeOptions,
): Promise<void> {
  const what = `Preparing the fast preview of ${fileLabel(file)}`;
  const { start, count } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 1 || start + count > source.frameCount) {
    throw new MediaError('INVALID_ARGUMENT', `Frames ${start}..${start + count - 1} are outside ${fileLabel(file)}, which has frames 0..${source.frameCount - 1}.`);
  }
  throwIfAborted(options.signal, what);
  const splitter = new JpegSplitter();
  let delivered = 0;
  const onStdout = async (chunk: Buffer): Promise<void> => {
    for (const jpeg of splitter.push(chunk)) {
      if (delivered < count) await options.onFrame(start + delivered, jpeg);
      delivered++;
    }
  };
  const mapFailure = (failure: ToolFailure): MediaError | undefined =>
    refusedSourceError(file, failure.stderrTail) ?? (DECODE_ERROR.test(failure.stderrTail)
      ? corrupt(`${fileLabel(file)} is damaged and could not be decoded: ${lastLines(failure.stderrTail, 2)}`)
      : undefined);
  await runTool(options.tools.ffmpeg, proxyArgs(file, source, geometry, range, options.quality), { what, signal: options.signal, onStdout, mapFailure });
  if (delivered < count || splitter.pending > 0) {
    throw corrupt(`${fileLabel(file)} ends early: frame ${start + delivered} of ${source.frameCount} could not be decoded. The file may be truncated or damaged.`);
  }
}

/**
 * RGB (width*height*3 each) of `jpegs`, each scaled to width × height, in one ffmpeg run fed
 * through stdin.
 */
export async function decodeJpegs(
  jpegs: readonly Uint8Array[],
  size: { width: number; height: number },
  options: { tools: MediaTools; signal?: AbortSignal },
): Promise<Uint8Array[]> {
  if (jpegs.length === 0) return [];
  const frameBytes = size.width * size.height * 3;
  const tool = spawnTool(options.tools.ffmpeg, [
    '-v', 'error', '-nostdin', '-f', 'image2pipe', '-c:v', 'mjpeg', '-i', 'pipe:0',
    '-vf', `scale=${size.width}:${size.height}:flags=bicubic,setsar=1,format=rgb24`,
    '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ], { what: 'Making thumbnails from the fast preview', signal: options.signal, stdin: 'pipe', collectStdout: true });
  for (const j of jpegs) tool.stdin?.write(j);
  tool.stdin?.end();
  const { stdout } = await tool.done;
  if (stdout.length !== frameBytes * jpegs.length) {
    throw corrupt(`The fast preview's images could not be decoded (${stdout.length} bytes for ${jpegs.length} images).`);
  }
  return jpegs.map((_, i) => new Uint8Array(stdout.subarray(i * frameBytes, (i + 1) * frameBytes)));
}
