// Typed preprocessor failures; `code` is what the CLI and services branch on.
import { CodedError } from '../../errors.ts';

export type ControlErrorCode = 'MODEL_MISSING' | 'NATIVE_MISSING' | 'INVALID_ARGUMENT';

export class ControlError extends CodedError<ControlErrorCode> {}
