// The bytes the crash writer stores for a frame: fixed by (frame, round), sized like a real PNG
// (30–120 KB) so a commit spans many WAL pages and a kill can land in the middle of one.
import { pngBytes } from './fixtures.ts';

export function crashBytes(frame: number, round: number): Buffer {
  return pngBytes(frame * 1000 + round, 30_000 + ((frame * 7919) % 90_000));
}

export const CRASH_FRAME_COUNT = 100_000;
