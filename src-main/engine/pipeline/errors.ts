// Typed pipeline failures; `code` is what the CLI and services branch on.

export type PipelineErrorCode = 'MODEL_MISSING' | 'INVALID_ARGUMENT' | 'UNSUPPORTED_MODEL';

export class PipelineError extends Error {
  readonly code: PipelineErrorCode;
  constructor(code: PipelineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PipelineError';
    this.code = code;
  }
}

export function invalid(message: string): PipelineError {
  return new PipelineError('INVALID_ARGUMENT', message);
}
