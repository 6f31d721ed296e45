// Every failure the project store reports on purpose carries a code the UI and CLI can branch on;
// anything else escaping from here is a bug or an I/O error.
import { CodedError } from '../errors.ts';

export type ProjectErrorCode =
  | 'NOT_A_PROJECT'
  | 'NEWER_VERSION'
  | 'EXISTS'
  | 'NOT_FOUND'
  | 'OUT_OF_RANGE'
  | 'INVALID_SETTINGS'
  | 'INVALID_ARGUMENT'
  | 'INVALID_IMAGE'
  | 'NO_KEYFRAME'
  /** Another process has the project open for writing (its lock file). */
  | 'IN_USE'
  /** The file is damaged: SQLite corruption, or a stored value that fails its checks. */
  | 'DAMAGED'
  /** A write through a project opened read-only: a bug in the caller. */
  | 'READ_ONLY'
  /** A read-only open of a file that needs a migration first. */
  | 'NEEDS_UPGRADE'
  /** The folder a new project should go in does not exist or is not a folder. */
  | 'OUTPUT_UNWRITABLE';

export class ProjectError extends CodedError<ProjectErrorCode> {}

export function isProjectError(err: unknown, code?: ProjectErrorCode): err is ProjectError {
  return err instanceof ProjectError && (code === undefined || err.code === code);
}
