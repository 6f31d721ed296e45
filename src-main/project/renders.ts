// Rendered output frames, one PNG per source frame, tagged with the run and the parameters that made
// them so a resumed or re-run propagation knows which frames are still good.
import type Database from 'better-sqlite3';
import { ProjectError } from './errors.ts';
import { toBuffer } from './keyframes.ts';
import { checkFrame, checkPng, nowIso } from './validate.ts';

export interface RenderTag {
  runId: string;
  paramsHash: string;
}

export interface Render extends RenderTag {
  frame: number;
  image: Buffer;
  createdAt: string;
}

export interface RenderInput extends RenderTag {
  frame: number;
  png: Uint8Array;
}

interface Row {
  frame: number;
  image: Buffer;
  run_id: string;
  params_hash: string;
  created_at: string;
}

export class RenderStore {
  readonly #db: Database.Database;
  readonly #frameCount: () => number;
  readonly #put: Database.Statement<[number, Buffer, string, string, string]>;
  readonly #get: Database.Statement<[number], Row>;
  readonly #frames: Database.Statement<[], { frame: number }>;
  readonly #framesFor: Database.Statement<[string], { frame: number }>;
  readonly #hashes: Database.Statement<[], { frame: number; params_hash: string }>;
  readonly #count: Database.Statement<[], { n: number }>;
  readonly #delete: Database.Statement<[number]>;
  readonly #deleteAll: Database.Statement<[]>;

  constructor(db: Database.Database, frameCount: () => number) {
    this.#db = db;
    this.#frameCount = frameCount;
    this.#put = db.prepare(
      'INSERT OR REPLACE INTO renders (frame, image, run_id, params_hash, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#get = db.prepare('SELECT frame, image, run_id, params_hash, created_at FROM renders WHERE frame = ?');
    this.#frames = db.prepare('SELECT frame FROM renders ORDER BY frame');
    this.#framesFor = db.prepare('SELECT frame FROM renders WHERE params_hash = ? ORDER BY frame');
    this.#hashes = db.prepare('SELECT frame, params_hash FROM renders ORDER BY frame');
    this.#count = db.prepare('SELECT count(*) AS n FROM renders');
    this.#delete = db.prepare('DELETE FROM renders WHERE frame = ?');
    this.#deleteAll = db.prepare('DELETE FROM renders');
  }

  /** Stores one frame; when this returns, the frame is committed and fsynced (it survives a crash). */
  put(frame: number, png: Uint8Array, tag: RenderTag): void {
    this.#validate({ frame, png, ...tag });
    this.#put.run(frame, toBuffer(png), tag.runId, tag.paramsHash, nowIso());
  }

  /** Stores many frames in one transaction: all of them or none. */
  putMany(items: readonly RenderInput[]): void {
    for (const item of items) this.#validate(item);
    this.#db.transaction(() => {
      const now = nowIso();
      for (const r of items) this.#put.run(r.frame, toBuffer(r.png), r.runId, r.paramsHash, now);
    }).immediate();
  }

  get(frame: number): Render | null {
    const r = this.#get.get(frame);
    if (!r) return null;
    return { frame: r.frame, image: r.image, runId: r.run_id, paramsHash: r.params_hash, createdAt: r.created_at };
  }

  /** Rendered frame indexes in ascending order; only those made with `paramsHash` when given. */
  frames(paramsHash?: string): number[] {
    const rows = paramsHash === undefined ? this.#frames.all() : this.#framesFor.all(paramsHash);
    return rows.map((r) => r.frame);
  }

  /** Each rendered frame's params hash, without reading the images. */
  hashes(): Map<number, string> {
    return new Map(this.#hashes.all().map((r) => [r.frame, r.params_hash]));
  }

  count(): number {
    return this.#count.get()?.n ?? 0;
  }

  /** Deletes the given frames' renders, or all of them; returns how many were deleted. */
  delete(frames?: readonly number[]): number {
    if (frames === undefined) return this.#deleteAll.run().changes;
    return this.#db.transaction(() => {
      let n = 0;
      for (const f of frames) n += this.#delete.run(f).changes;
      return n;
    }).immediate();
  }

  #validate(r: RenderInput): void {
    checkFrame(r.frame, this.#frameCount());
    checkPng(r.png, `The render of frame ${r.frame}`);
    if (typeof r.runId !== 'string' || r.runId === '' || typeof r.paramsHash !== 'string' || r.paramsHash === '') {
      throw new ProjectError('INVALID_ARGUMENT', `The render of frame ${r.frame} needs a runId and a paramsHash`);
    }
  }
}
