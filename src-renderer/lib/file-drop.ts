// Which file of a drop to use and what to say when none fits; shared by the start screen and
// the editor. Dragging is tracked with a counter because dragenter/dragleave fire for every
// child element the pointer crosses.
import { nameMatchesFilter } from '../../src-main/api/contract.ts';

export interface DroppedFile {
  name: string;
}

export type DropChoice<F extends DroppedFile> = { ok: true; file: F } | { ok: false; error: string };

/** The first video among the dropped files, or why there is none. */
export function chooseDroppedVideo<F extends DroppedFile>(files: readonly F[]): DropChoice<F> {
  if (files.length === 0) return { ok: false, error: 'Nothing to open: drop a video file.' };
  const video = files.find((f) => nameMatchesFilter(f.name, 'video'));
  if (!video) return { ok: false, error: `'${files[0]!.name}' is not a video (mp4, mov, mkv, webm, avi, m4v…).` };
  return { ok: true, file: video };
}

/** Enter/leave bookkeeping: the overlay shows while the depth is above zero. */
export function dragDepth(depth: number, event: 'enter' | 'leave' | 'drop'): number {
  if (event === 'enter') return depth + 1;
  if (event === 'leave') return Math.max(0, depth - 1);
  return 0;
}

export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done * 100) / total)) : 0;
}
