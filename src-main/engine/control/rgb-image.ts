// The image type preprocessors take and return: interleaved 8-bit RGB.

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** Always 3 for outputs; inputs may be 1, 3 or 4 (alpha ignored). */
  channels: number;
}

/** An AbortError for a cancelled preprocessor call. */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('The operation was aborted', 'AbortError');
}
