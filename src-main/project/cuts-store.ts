// The single shot-cuts row: the frames where the source video cuts to another shot (each the first
// frame of a new shot), and how they were found. Checked against the frame count on write and on read.
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { ProjectError } from './errors.ts';
import { MAX_FRAMES } from './source.ts';
import { nowIso, parseArg, parseStored } from './validate.ts';

export interface ShotCuts {
  /** Sorted, distinct; each c with 0 < c < frameCount. */
  frames: number[];
  /** Which detector (and settings) found them, or 'manual'; shown by `rerender info`. */
  method: string;
  /** ISO time they were stored. */
  detectedAt: string;
}

const framesSchema = z.array(z.number().int().positive().max(MAX_FRAMES)).max(MAX_FRAMES);
const methodSchema = z.string().min(1).max(200);

interface Row {
  frames: string;
  method: string;
  detected_at: string;
}

/** Throws `code` unless `frames` is strictly increasing and inside 1..frameCount-1. */
function checkFrames(frames: readonly number[], frameCount: number, fail: (msg: string) => ProjectError): void {
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (f >= frameCount) throw fail(`shot cut at frame ${f} is past the last frame (the source has frames 0 to ${frameCount - 1})`);
    if (i > 0 && f <= frames[i - 1]!) throw fail(`shot cuts are not in increasing order (${frames[i - 1]} then ${f})`);
  }
}

export class ShotCutStore {
  readonly #read: Database.Statement<[], Row>;
  readonly #write: Database.Statement<[string, string, string]>;
  readonly #clear: Database.Statement<[]>;
  readonly #frameCount: () => number;
  /** undefined: not read yet; null: no row. */
  #current: ShotCuts | null | undefined = undefined;

  constructor(db: Database.Database, frameCount: () => number) {
    this.#read = db.prepare('SELECT frames, method, detected_at FROM shot_cuts WHERE id = 1');
    this.#write = db.prepare('INSERT OR REPLACE INTO shot_cuts (id, frames, method, detected_at) VALUES (1, ?, ?, ?)');
    this.#clear = db.prepare('DELETE FROM shot_cuts WHERE id = 1');
    this.#frameCount = frameCount;
  }

  /** The stored cuts, or null when they were never looked for. DAMAGED when the row fails its checks. */
  get(): ShotCuts | null {
    if (this.#current === undefined) {
      const r = this.#read.get();
      if (!r) {
        this.#current = null;
      } else {
        const frames = parseStored(framesSchema, r.frames, 'the stored shot cuts');
        checkFrames(frames, this.#frameCount(), (m) => new ProjectError('DAMAGED', `the stored ${m}`));
        if (!methodSchema.safeParse(r.method).success || Number.isNaN(Date.parse(r.detected_at))) {
          throw new ProjectError('DAMAGED', 'the stored shot cuts have no valid method or date');
        }
        this.#current = { frames, method: r.method, detectedAt: r.detected_at };
      }
    }
    return this.#current === null ? null : structuredClone(this.#current);
  }

  /** Replaces the cuts. INVALID_ARGUMENT for a bad list or method, OUT_OF_RANGE for a frame past the end. */
  put(frames: readonly number[], method: string): ShotCuts {
    const f = parseArg(framesSchema, frames, 'shot cuts');
    const m = parseArg(methodSchema, method, 'shot cut method');
    checkFrames(f, this.#frameCount(), (msg) => new ProjectError(msg.includes('past the last') ? 'OUT_OF_RANGE' : 'INVALID_ARGUMENT', msg));
    const value: ShotCuts = { frames: f, method: m, detectedAt: nowIso() };
    this.#write.run(JSON.stringify(value.frames), value.method, value.detectedAt);
    this.#current = value;
    return structuredClone(value);
  }

  /** Forgets the cuts (they are looked for again on the next need). */
  clear(): void {
    this.#clear.run();
    this.#current = null;
  }
}
