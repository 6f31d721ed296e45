// Where the playhead was, per project, so a reload (or reopening the project) lands on the same
// frame. Kept in the browser's localStorage keyed by the project's path; storage may be missing
// or throw (private mode, quota, a sandboxed page), and then the playhead simply starts at 0.
import { clampFrame } from './frames.ts';

/** The slice of the Web Storage API this needs (tests pass a fake). */
export type PlayheadStorage = Pick<Storage, 'getItem' | 'setItem'>;

const PREFIX = 'rerender.playhead:';

export function playheadKey(projectPath: string): string {
  return `${PREFIX}${projectPath}`;
}

/** The page's localStorage, or null where reading the property itself throws or it is absent. */
export function browserStorage(): PlayheadStorage | null {
  try {
    return typeof window !== 'undefined' && window.localStorage ? window.localStorage : null;
  } catch {
    return null;
  }
}

/** The stored frame for the project, clamped to its frame count; 0 when nothing usable is stored. */
export function loadPlayhead(storage: PlayheadStorage | null, projectPath: string, frameCount: number): number {
  if (!storage) return 0;
  let raw: string | null;
  try {
    raw = storage.getItem(playheadKey(projectPath));
  } catch {
    return 0;
  }
  if (raw === null || !/^\d+$/.test(raw.trim())) return 0;
  return clampFrame(Number(raw), frameCount);
}

/** Remembers the frame; a failing storage is ignored (the position is a convenience, not data). */
export function savePlayhead(storage: PlayheadStorage | null, projectPath: string, frame: number): void {
  if (!storage || !Number.isFinite(frame) || frame < 0) return;
  try {
    storage.setItem(playheadKey(projectPath), String(Math.trunc(frame)));
  } catch {
    // Quota or a locked-down page: keep working without it.
  }
}
