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
  | 'NO_KEYFRAME';

export class ProjectError extends CodedError<ProjectErrorCode> {}

export function isProjectError(err: unknown, code?: ProjectErrorCode): err is ProjectError {
  return err instanceof ProjectError && (code === undefined || err.code === code);
}
