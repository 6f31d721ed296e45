// PNG in and out (fast-png, pure JS). Decoded images are normalised to 8 bits per channel.
import { decode, encode } from 'fast-png';
import { MediaError } from './errors.ts';

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
 * (e.g. a painted keyframe that must match the project's working size).
 */
export function decodePng(bytes: Uint8Array, expected?: { width: number; height: number }): DecodedImage {
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
  if (expected && (png.width !== expected.width || png.height !== expected.height)) {
    throw new MediaError(
      'IMAGE_SIZE_MISMATCH',
      `The image is ${png.width}×${png.height} but ${expected.width}×${expected.height} is needed. Resize it to the project's working size.`,
    );
  }
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
