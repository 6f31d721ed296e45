// PNG in and out (fast-png, pure JS). Decoded images are normalised to 8 bits per channel.
// The header is read before anything is inflated: a few bytes can declare gigapixels, and
// fast-png would allocate and inflate all of it before any size check could refuse it.
import { decode, encode } from 'fast-png';
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

export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Uint8Array {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new MediaError('INVALID_IMAGE', `Cannot write a ${width}×${height} image.`);
  }
  if (pixels.length !== width * height * channels) {
    throw new MediaError('INVALID_IMAGE', `Pixel data is ${pixels.length} bytes; a ${width}×${height} image with ${channels} channels needs ${width * height * channels}.`);
  }
  return encode({ width, height, data: pixels, channels, depth: 8 });
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
