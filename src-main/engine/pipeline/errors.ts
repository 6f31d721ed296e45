// Typed pipeline failures; `code` is what the CLI and services branch on.
import { CodedError } from '../../errors.ts';

export type PipelineErrorCode = 'MODEL_MISSING' | 'INVALID_ARGUMENT' | 'UNSUPPORTED_MODEL';

export class PipelineError extends CodedError<PipelineErrorCode> {}

export function invalid(message: string): PipelineError {
  return new PipelineError('INVALID_ARGUMENT', message);
}
