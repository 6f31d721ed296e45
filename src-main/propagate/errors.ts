// Typed failures of the propagation service (cancellation is a DOMException AbortError instead).
import { CodedError } from '../errors.ts';
export const PROPAGATE_ERROR_CODES = ['ADDON_MISSING', 'INVALID_ARGUMENT', 'INPUT_FAILED'] as const;
export type PropagateErrorCode = (typeof PROPAGATE_ERROR_CODES)[number];

export class PropagateError extends CodedError<PropagateErrorCode> {}
