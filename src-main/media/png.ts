// PNG in and out: decoded by fast-png (pure JS), normalised to 8 bits per channel; written here
// with node:zlib, which can compress on libuv's thread pool.
// The header is read before anything is inflated: a few bytes can declare gigapixels, and
// fast-png would allocate and inflate all of it before any size check could refuse it.
import { promisify } from 'node:util';
import { crc32, deflate, deflateSync } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import { decode } from 'fast-png';
import { wholeOutputChunk } from './zlib-output.ts';
import { CodedError } from '../errors.ts';
import { MediaError } from './errors.ts';

/** Largest image side and pixel count any image is decoded at (working sizes are far smaller). */
export const MAX_IMAGE_SIDE = 16384;
export const MAX_IMAGE_PIXELS = 2 ** 28;

export interface ImageHeader {
  width: number;
  height: number;
}

export interface PngHeader extends ImageHeader {
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** IHDR of a PNG (the first chunk, by the spec), or null when the bytes are not a PNG. */
export function readPngHeader(bytes: Uint8Array): PngHeader | null {
  if (bytes.length < 33 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
  if (view.getUint32(8) !== 13 || type !== 'IHDR') return null;
  return { width: view.getUint32(16), height: view.getUint32(20), bitDepth: bytes[24]!, colorType: bytes[25]! };
}

/** Refuses (TOO_LARGE) an image whose declared size is beyond what is ever decoded. */
export function checkImageSize(size: ImageHeader, label = 'The image'): void {
  const { width, height } = size;
  if (width < 1 || height < 1) throw new MediaError('INVALID_IMAGE', `${label} declares an empty size (${width}×${height}).`);
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new CodedError(
      'TOO_LARGE',
      `${label} declares ${width}×${height} pixels, more than the ${MAX_IMAGE_SIDE}×${MAX_IMAGE_SIDE} (${MAX_IMAGE_PIXELS / 2 ** 20} megapixel) limit; it was not decoded.`,
    );
  }
}

function sizeMismatch(width: number, height: number, expected: ImageHeader): MediaError {
  return new MediaError(
    'IMAGE_SIZE_MISMATCH',
    `The image is ${width}×${height} but ${expected.width}×${expected.height} is needed. Resize it to the project's working size.`,
  );
}

export type Channels = 1 | 2 | 3 | 4;

export interface DecodedImage {
  width: number;
  height: number;
  channels: Channels;
  /** Interleaved 8-bit samples, width*height*channels bytes. */
  data: Uint8Array;
}

/** Colour type of an 8-bit PNG with 1, 2, 3 or 4 channels (grey, grey+alpha, RGB, RGBA). */
const COLOUR_TYPE = [0, 0, 4, 2, 6] as const;
/**
 * Written PNGs: every row filtered 'Up' (the difference to the row above, cheap and, on frames,
 * a quarter smaller than no filter), zlib level 3 (level 6 is 8 % smaller at 2.6x the time).
 * Measured on a 512x512 frame: 199 KiB against 266 KiB from fast-png's unfiltered level 6.
 */
const DEFLATE_LEVEL = 3;
const deflateAsync = promisify(deflate) as (b: Uint8Array, o: ZlibOptions) => Promise<Buffer>;

function checkPixels(pixels: Uint8Array, width: number, height: number, channels: number): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new MediaError('INVALID_IMAGE', `Cannot write a ${width}×${height} image.`);
  }
  if (pixels.length !== width * height * channels) {
    throw new MediaError('INVALID_IMAGE', `Pixel data is ${pixels.length} bytes; a ${width}×${height} image with ${channels} channels needs ${width * height * channels}.`);
  }
}

/** The rows as PNG scanlines, each prefixed by its filter type (2, Up). */
function upFiltered(pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const stride = width * channels;
  const out = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const at = y * (stride + 1);
    out[at] = 2;
    const row = out.subarray(at + 1, at + 1 + stride);
    const cur = pixels.subarray(y * stride, (y + 1) * stride);
    if (y === 0) {
      row.set(cur); // the row above the first is zero
      continue;
    }
    const above = pixels.subarray((y - 1) * stride, y * stride);
    for (let x = 0; x < stride; x++) row[x] = (cur[x] as number) - (above[x] as number); // stored mod 256
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function framed(idat: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = COLOUR_TYPE[channels] as number;
  const parts = [Uint8Array.from(PNG_SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Encodes 8-bit pixels as a PNG (see DEFLATE_LEVEL). */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4): Uint8Array {
  checkPixels(pixels, width, height, channels);
  return framed(deflateSync(upFiltered(pixels, width, height, channels), { level: DEFLATE_LEVEL }), width, height, channels);
}

/**
 * encodePng with the compression on libuv's thread pool: what stays on the JS thread is one pass
 * of subtractions (about 1 ms at 512x512, where the whole encode took 35 ms), so a propagation
 * storing a frame per GPU result does not stall on it.
 */
export async function encodePngAsync(pixels: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4): Promise<Uint8Array> {
  checkPixels(pixels, width, height, channels);
  const rows = upFiltered(pixels, width, height, channels);
  return framed(await deflateAsync(rows, { level: DEFLATE_LEVEL, chunkSize: wholeOutputChunk(rows.length) }), width, height, channels);
}

/**
 * Decodes a PNG. With `expected`, an image of another size is rejected with IMAGE_SIZE_MISMATCH
 * (e.g. a painted keyframe that must match the project's working size). Size, depth and colour
 * type are checked from the header before anything is inflated (TOO_LARGE past the limits).
 */
export function decodePng(bytes: Uint8Array, expected?: { width: number; height: number }): DecodedImage {
  const head = readPngHeader(bytes);
  if (!head) throw new MediaError('INVALID_IMAGE', 'The image is not a readable PNG file.');
  checkImageSize(head);
  if (expected && (head.width !== expected.width || head.height !== expected.height)) throw sizeMismatch(head.width, head.height, expected);
  if (head.colorType === 3) {
    throw new MediaError('INVALID_IMAGE', 'Palette (indexed-colour) PNGs are not supported; save the image as RGB or RGBA.');
  }
  if (head.bitDepth !== 8 && head.bitDepth !== 16) {
    throw new MediaError('INVALID_IMAGE', `PNGs with ${head.bitDepth}-bit samples are not supported; save the image with 8 bits per channel.`);
  }
  let png;
  try {
    png = decode(bytes);
  } catch (cause) {
    throw new MediaError('INVALID_IMAGE', 'The image is not a readable PNG file.', { cause });
  }
  let data: Uint8Array;
  if (png.palette) {
    throw new MediaError('INVALID_IMAGE', 'Palette (indexed-colour) PNGs are not supported; save the image as RGB or RGBA.');
  } else if (png.depth === 8) {
    data = png.data instanceof Uint8Array ? png.data : new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
  } else if (png.depth === 16) {
    data = Uint8Array.from(png.data as Uint16Array, (v) => v >> 8);
  } else {
    throw new MediaError('INVALID_IMAGE', `PNGs with ${png.depth}-bit samples are not supported; save the image with 8 bits per channel.`);
  }
  if (expected && (png.width !== expected.width || png.height !== expected.height)) throw sizeMismatch(png.width, png.height, expected);
  return { width: png.width, height: png.height, channels: png.channels as Channels, data };
}

/** Any decoded image as RGB24 (grey is replicated; alpha is dropped). */
export function toRgb(image: DecodedImage): Uint8Array {
  const { width, height, channels, data } = image;
  if (channels === 3) return data;
  const out = new Uint8Array(width * height * 3);
  for (let p = 0, s = 0; p < out.length; p += 3, s += channels) {
    const grey = channels <= 2;
    out[p] = data[s] ?? 0;
    out[p + 1] = data[grey ? s : s + 1] ?? 0;
    out[p + 2] = data[grey ? s : s + 2] ?? 0;
  }
  return out;
}
