// HTTP statuses for the services' coded errors: a request the user or the page got wrong is a
// 4xx with its message; 500 is kept for real bugs (errors without a known code).

const STATUS: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  BAD_IMAGE: 400,
  INVALID_IMAGE: 400,
  NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  SOURCE_MISSING: 404,
  NO_KEYFRAME: 404,
  OUT_OF_RANGE: 404,
  NO_PROJECT: 409,
  IN_USE: 409,
  EXISTS: 409,
  CORRUPT: 422,
  DAMAGED: 422,
  NOT_A_PROJECT: 422,
  NOT_A_VIDEO: 422,
  UNSUPPORTED_MEDIA: 415,
  TOO_LARGE: 413,
  OUTPUT_EXISTS: 409,
  FFMPEG_NOT_FOUND: 503,
  ENGINE_UNAVAILABLE: 503,
};

export function errorCodeOf(err: unknown): string | null {
  const code = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : null;
}

/** The status for an error thrown while answering a request; 500 when it is not a known one. */
export function statusForError(err: unknown): number {
  const code = errorCodeOf(err);
  return (code !== null && STATUS[code]) || 500;
}
