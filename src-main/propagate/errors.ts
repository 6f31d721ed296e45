// Typed failures of the propagation service (cancellation is a DOMException AbortError instead).
export const PROPAGATE_ERROR_CODES = ['ADDON_MISSING', 'INVALID_ARGUMENT', 'INPUT_FAILED'] as const;
export type PropagateErrorCode = (typeof PROPAGATE_ERROR_CODES)[number];

export class PropagateError extends Error {
  override name = 'PropagateError';
  readonly code: PropagateErrorCode;

  constructor(code: PropagateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
