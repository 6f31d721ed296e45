// Every problem the editor shows is one short plain line; what an engineer would need (the
// services' own message, commands, paths, versions) goes behind a "details" toggle. Errors from
// the services carry a code (WireError): where a better line exists for it, that line shows.

export interface ArtistMessage {
  /** One short line in plain words. */
  line: string;
  /** The technical message and remedy, or null when the line says it all. */
  details: string | null;
}

/** A line this long or longer is a paragraph: its first sentence shows, the rest is details. */
const MAX_LINE = 110;

/** Plain lines for the services' error codes (the raw message goes to details). */
export const CODE_LINES: Readonly<Record<string, string>> = {
  NO_PROJECT: 'Open or create a project first.',
  ENGINE_UNAVAILABLE: 'This step cannot run on this computer yet.',
  ADDON_MISSING: 'Part of the app is missing: it needs to be rebuilt.',
  NATIVE_MISSING: 'Part of the app is missing: it needs to be rebuilt.',
  FFMPEG_NOT_FOUND: 'The video tools (ffmpeg) were not found.',
  FFMPEG_FAILED: 'The video tools could not finish.',
  MODEL_MISSING: 'Choose the Stable Diffusion model and ControlNet in Parameters → Models.',
  BAD_MODEL: 'That model file cannot be used.',
  UNSUPPORTED_MODEL: 'That model file cannot be used.',
  NOT_A_VIDEO: 'That file is not a video the app can read.',
  AUDIO_ONLY: 'That file has sound but no picture.',
  CORRUPT: 'The video is damaged and cannot be read.',
  NOT_A_PROJECT: 'That file is not a Rerender Studio project.',
  DAMAGED: 'The project file is damaged.',
  IN_USE: 'The project is open somewhere else: close it there first.',
  READ_ONLY: 'The project can only be read here, not changed.',
  FILE_NOT_FOUND: 'The file could not be found.',
  NOT_FOUND: 'The file could not be found.',
  ACCESS_DENIED: 'No permission to read that file.',
  OUTPUT_EXISTS: 'A file with that name exists already.',
  EXISTS: 'A file with that name exists already: choose another name.',
  OUTPUT_UNWRITABLE: 'That folder cannot be written to.',
  DISK_FULL: 'The disk is full.',
  ENOSPC: 'The disk is full.',
  INVALID_IMAGE: 'That image cannot be used.',
  NO_KEYFRAME: 'Add a key frame (with an image) first.',
  NO_KEYFRAMES: 'Add a key frame first.',
  JOB_RUNNING: 'That job is already running: cancel it or wait for it to finish.',
  EXPORT_RUNNING: 'An export is running: wait for it to finish.',
  GPU_FAILED: 'The graphics card stopped working on this job.',
  GPU_LOST: 'The graphics card stopped working on this job.',
  GPU_UNAVAILABLE: 'No usable graphics card was found.',
  CANCELLED: 'Cancelled.',
  DISCONNECTED: 'Lost the connection to the Rerender Studio services.',
  SERVICES_EXITED: 'The Rerender Studio services stopped: restart the app.',
  INTERNAL: 'Something went wrong.',
};

/** Codes whose own message is already written for the artist (short, specific): kept as the line. */
const OWN_WORDS = new Set(['INVALID_ARGUMENT', 'INVALID_SETTINGS', 'OUT_OF_RANGE', 'NO_KEYFRAME', 'OUTPUT_EXISTS', 'EXISTS', 'JOB_RUNNING', 'NOTHING_TO_IMPORT', 'WOULD_DROP_EDITS']);

/** First sentence (or line) of a text, and the rest. */
export function splitMessage(text: string): ArtistMessage {
  const t = text.trim();
  const nl = t.indexOf('\n');
  const firstLine = nl === -1 ? t : t.slice(0, nl).trim();
  if (nl === -1 && t.length <= MAX_LINE) return { line: t, details: null };
  // A sentence ends at ". " (not inside "e.g. " or a version like "v1.5").
  const m = /^(.{12,}?[.!?:])\s+(?=[A-Z`'"(])/.exec(firstLine);
  const line = m && m[1]!.length <= MAX_LINE ? m[1]! : firstLine.length <= MAX_LINE ? firstLine : `${firstLine.slice(0, MAX_LINE - 1).trimEnd()}…`;
  return { line, details: line === t ? null : t };
}

function codeOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

/** What the editor shows for a failed request: by code where a better line exists. */
export function errorToMessage(err: unknown): ArtistMessage {
  const raw = err instanceof Error ? err.message : typeof (err as { message?: unknown } | null)?.message === 'string' ? (err as { message: string }).message : String(err);
  const code = codeOf(err);
  const own = splitMessage(raw);
  const withCode = code && code !== 'INTERNAL' ? `${raw} (${code})` : raw;
  if (code && OWN_WORDS.has(code) && own.details === null && raw.trim() !== '') return { line: own.line, details: null };
  const mapped = code ? CODE_LINES[code] : undefined;
  if (mapped) return { line: mapped, details: raw.trim() === '' || raw.trim() === mapped ? null : withCode };
  return { line: own.line, details: own.details === null ? null : withCode };
}

/** A job's failure or note, compacted to one line (the whole text in details). */
export function jobText(text: string): ArtistMessage {
  return splitMessage(text);
}
