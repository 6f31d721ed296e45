// Maps service errors (each carries a `code`) to the CLI's exit codes.
import { EXIT, type ExitCode } from './exit-codes.ts';
import { isAbortError } from '../jobs/progress.ts';

const INPUT_CODES = new Set([
  'FILE_NOT_FOUND', 'NOT_A_VIDEO', 'NO_FRAMES', 'AUDIO_ONLY', 'CORRUPT', 'NOT_A_PROJECT', 'NEWER_VERSION',
  'OUT_OF_RANGE', 'BAD_KEYFRAMES', 'INVALID_SETTINGS', 'EXISTS', 'NO_KEYFRAME', 'BAD_IMAGE', 'NOT_FOUND',
  'SOURCE_MISSING', 'BAD_CROP', 'UNSUPPORTED_MODEL', 'BAD_MODEL', 'INVALID_IMAGE', 'INVALID_ARGUMENT', 'IMAGE_SIZE_MISMATCH',
  'PROJECT_MISMATCH',
]);
const ENV_CODES = new Set(['FFMPEG_NOT_FOUND', 'ADDON_MISSING', 'DOWNLOAD_FAILED', 'OUTPUT_UNWRITABLE', 'DISK_FULL', 'NATIVE_MISSING', 'MODEL_MISSING', 'ENGINE_UNAVAILABLE', 'EACCES', 'ENOSPC', 'EROFS']);

export function errorCode(e: unknown): string {
  if (isAbortError(e)) return 'CANCELLED';
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') return (e as { code: string }).code;
  return 'INTERNAL';
}

export function exitCodeFor(e: unknown): ExitCode {
  const code = errorCode(e);
  if (code === 'USAGE') return EXIT.usage;
  if (code === 'CANCELLED') return EXIT.cancelled;
  if (INPUT_CODES.has(code)) return EXIT.input;
  if (ENV_CODES.has(code)) return EXIT.environment;
  return EXIT.internal;
}
