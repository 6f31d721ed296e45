// The farm's typed failures. The codes pick the CLI's exit code like the other commands' do.
import { CodedError } from '../errors.ts';

export type FarmErrorCode =
  /** A job payload or a job's return value does not match its schema: it is never run or ingested. */
  | 'BAD_JOB'
  /** An artifact's bytes do not hash to its name (damaged or tampered with). */
  | 'ARTIFACT_CORRUPT'
  | 'ARTIFACT_MISSING'
  /** An artifact store path outside the worker's configured roots, after the path mapping. */
  | 'PATH_REFUSED'
  | 'INVALID_ARGUMENT'
  /** Redis refused or could not be reached. */
  | 'REDIS_UNAVAILABLE'
  | 'NOT_SUBMITTED'
  | 'JOB_FAILED';

export class FarmError extends CodedError<FarmErrorCode> {}
