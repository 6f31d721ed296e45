// Maps service errors (each carries a `code`) to the CLI's exit codes.
import { EXIT, type ExitCode } from './exit-codes.ts';
import { isAbortError } from '../jobs/progress.ts';
import { isSqliteDamage } from '../project/damage.ts';

const INPUT_CODES = new Set([
  'FILE_NOT_FOUND', 'NOT_A_VIDEO', 'NO_FRAMES', 'AUDIO_ONLY', 'CORRUPT', 'NOT_A_PROJECT', 'NEWER_VERSION',
  'OUT_OF_RANGE', 'BAD_KEYFRAMES', 'INVALID_SETTINGS', 'EXISTS', 'NO_KEYFRAME', 'BAD_IMAGE', 'NOT_FOUND',
  'SOURCE_MISSING', 'BAD_CROP', 'UNSUPPORTED_MODEL', 'BAD_MODEL', 'INVALID_IMAGE', 'INVALID_ARGUMENT', 'IMAGE_SIZE_MISMATCH',
  'PROJECT_MISMATCH', 'DAMAGED', 'OUTPUT_EXISTS', 'TOO_LARGE', 'UNSUPPORTED_MEDIA', 'NEEDS_UPGRADE',
  // The farm: a project never submitted, a job payload or artifact that fails its checks.
  'NOT_SUBMITTED', 'BAD_JOB', 'PATH_REFUSED', 'ARTIFACT_CORRUPT', 'ARTIFACT_MISSING',
]);
const ENV_CODES = new Set(['FFMPEG_NOT_FOUND', 'ADDON_MISSING', 'DOWNLOAD_FAILED', 'OUTPUT_UNWRITABLE', 'DISK_FULL', 'NATIVE_MISSING', 'MODEL_MISSING', 'ENGINE_UNAVAILABLE', 'EACCES', 'ENOSPC', 'EROFS', 'IN_USE', 'GPU_UNAVAILABLE', 'REDIS_UNAVAILABLE']);

export function errorCode(e: unknown): string {
  if (isAbortError(e)) return 'CANCELLED';
  // SQLite corruption met by any query, after the project opened: the file is damaged, not the program.
  if (isSqliteDamage(e)) return 'DAMAGED';
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

/** The message shown for `e`: SQLite's terse corruption messages get what they mean. */
export function errorMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (isSqliteDamage(e)) {
    return `the project file is damaged: SQLite reports "${message}" (${(e as { code: string }).code}). ` +
      'Keep a copy of it; the parts SQLite can still read may be recovered with `sqlite3 <file> .recover`.';
  }
  return message;
}
