// Typed media failures. `code` is what callers branch on and what crosses the IPC boundary;
// `message` is written for an artist, naming the file and what to do about it.
import path from 'node:path';
import { CodedError } from '../errors.ts';

export const MEDIA_ERROR_CODES = [
  'FFMPEG_NOT_FOUND',
  'FFMPEG_FAILED',
  'FILE_NOT_FOUND',
  'NOT_A_VIDEO',
  'UNSUPPORTED_MEDIA',
  'NO_FRAMES',
  'AUDIO_ONLY',
  'CORRUPT',
  'OUTPUT_UNWRITABLE',
  'DISK_FULL',
  'CANCELLED',
  'INVALID_ARGUMENT',
  'INVALID_IMAGE',
  'IMAGE_SIZE_MISMATCH',
  'OUTPUT_EXISTS',
  'TOO_LARGE',
] as const;

export type MediaErrorCode = (typeof MEDIA_ERROR_CODES)[number];

export class MediaError extends CodedError<MediaErrorCode> {}

export function isMediaError(err: unknown, code?: MediaErrorCode): err is MediaError {
  return err instanceof MediaError && (code === undefined || err.code === code);
}

/** How files are named in messages: the base name, quoted, the way an artist sees it. */
export function fileLabel(file: string): string {
  return `'${path.basename(file)}'`;
}

export function cancelledError(what: string): MediaError {
  return new MediaError('CANCELLED', `${what} was cancelled.`);
}

/** Throws CANCELLED if the signal has already fired, so work never starts after a cancel. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw cancelledError(what);
}
