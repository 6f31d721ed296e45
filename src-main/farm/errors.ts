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
  /** Work an earlier submit is running stands in the way (an export waits on every segment). */
  | 'IN_USE'
  /** A job names a model (by content hash) this worker does not have in its models folder. */
  | 'MODEL_MISSING'
  | 'JOB_FAILED';

export class FarmError extends CodedError<FarmErrorCode> {}
