// Typed preprocessor failures; `code` is what the CLI and services branch on.

export type ControlErrorCode = 'MODEL_MISSING' | 'NATIVE_MISSING' | 'INVALID_ARGUMENT';

export class ControlError extends Error {
  readonly code: ControlErrorCode;
  constructor(code: ControlErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControlError';
    this.code = code;
  }
}
