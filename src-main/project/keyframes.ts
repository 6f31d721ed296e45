// Key frames: the frames the user edits or stage 1 translates, each with an optional image, mask
// and prompt override. Their state is derived, never stored: a translation is 'stale' as soon as the
// parameters that would produce it differ from the ones that did.
import type Database from 'better-sqlite3';
import type { KeyframeInfo, KeyframeState } from '../api/contract.ts';
import { ProjectError } from './errors.ts';
import { checkFrame, checkPng, nowIso } from './validate.ts';

export type KeyframeOrigin = 'edited' | 'translated';

/** The parameters hash a translation of `frame` would have now (per frame: prompts can be overridden). */
export type CurrentParamsHash = string | ((frame: number) => string);

export interface Keyframe extends KeyframeInfo {
  image: Buffer | null;
  mask: Buffer | null;
  origin: KeyframeOrigin | null;
  paramsHash: string | null;
}

/** Everything stored for one key frame besides its index and time stamp. */
export interface StoredKeyframe {
  image: Buffer | null;
  origin: KeyframeOrigin | null;
  paramsHash: string | null;
  mask: Buffer | null;
  prompt: string | null;
}

interface Row {
  frame: number;
  origin: KeyframeOrigin | null;
  params_hash: string | null;
  has_image: number;
  has_mask: number;
  prompt: string | null;
  updated_at: string;
}

interface FullRow extends Row {
  image: Buffer | null;
  mask: Buffer | null;
}

const COLUMNS =
  'frame, origin, params_hash, image IS NOT NULL AS has_image, mask IS NOT NULL AS has_mask, prompt, updated_at';

export function keyframeState(
  row: { frame: number; origin: KeyframeOrigin | null; paramsHash: string | null },
  current: CurrentParamsHash | undefined,
): KeyframeState {
  if (row.origin === null) return 'none';
  if (row.origin === 'edited') return 'edited';
  if (current === undefined) return 'translated';
  const want = typeof current === 'string' ? current : current(row.frame);
  return row.paramsHash === want ? 'translated' : 'stale';
}

export class KeyframeStore {
  readonly #db: Database.Database;
  readonly #frameCount: () => number;
  readonly #list: Database.Statement<[], Row>;
  readonly #get: Database.Statement<[number], FullRow>;
  readonly #exists: Database.Statement<[number], { frame: number }>;
  readonly #insert: Database.Statement<[number, string]>;
  readonly #delete: Database.Statement<[number]>;
  readonly #move: Database.Statement<[number, string, number]>;
  readonly #setImage: Database.Statement<[number, Buffer, KeyframeOrigin, string | null, string]>;
  readonly #clearImage: Database.Statement<[string, number]>;
  readonly #setMask: Database.Statement<[Buffer | null, string, number]>;
  readonly #setPrompt: Database.Statement<[string | null, string, number]>;
  readonly #restore: Database.Statement<[number, Buffer | null, KeyframeOrigin | null, string | null, Buffer | null, string | null, string]>;

  constructor(db: Database.Database, frameCount: () => number) {
    this.#db = db;
    this.#frameCount = frameCount;
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM keyframes ORDER BY frame`);
    this.#get = db.prepare(`SELECT ${COLUMNS}, image, mask FROM keyframes WHERE frame = ?`);
    this.#exists = db.prepare('SELECT frame FROM keyframes WHERE frame = ?');
    this.#insert = db.prepare('INSERT INTO keyframes (frame, updated_at) VALUES (?, ?) ON CONFLICT DO NOTHING');
    this.#delete = db.prepare('DELETE FROM keyframes WHERE frame = ?');
    this.#move = db.prepare('UPDATE keyframes SET frame = ?, updated_at = ? WHERE frame = ?');
    this.#setImage = db.prepare(`
      INSERT INTO keyframes (frame, image, origin, params_hash, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (frame) DO UPDATE SET
        image = excluded.image, origin = excluded.origin,
        params_hash = excluded.params_hash, updated_at = excluded.updated_at`);
    this.#clearImage = db.prepare(
      'UPDATE keyframes SET image = NULL, origin = NULL, params_hash = NULL, updated_at = ? WHERE frame = ?',
    );
    this.#setMask = db.prepare('UPDATE keyframes SET mask = ?, updated_at = ? WHERE frame = ?');
    this.#setPrompt = db.prepare('UPDATE keyframes SET prompt = ?, updated_at = ? WHERE frame = ?');
    this.#restore = db.prepare(
      'INSERT OR REPLACE INTO keyframes (frame, image, origin, params_hash, mask, prompt, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
  }

  list(current?: CurrentParamsHash): KeyframeInfo[] {
    return this.#list.all().map((r) => toInfo(r, current));
  }

  get(frame: number, current?: CurrentParamsHash): Keyframe | null {
    const r = this.#get.get(frame);
    if (!r) return null;
    return {
      ...toInfo(r, current),
      image: r.image,
      mask: r.mask,
      origin: r.origin,
      paramsHash: r.params_hash,
    };
  }

  /** Adds an empty key frame; adding one that exists changes nothing. Returns whether it was added. */
  add(frame: number): boolean {
    this.#check(frame);
    return this.#insert.run(frame, nowIso()).changes > 0;
  }

  remove(frame: number): void {
    this.#check(frame);
    if (this.#delete.run(frame).changes === 0) throw noKeyframe(frame);
  }

  /** Moves a key frame with all its data; the target must be free. */
  move(from: number, to: number): void {
    this.#check(from);
    this.#check(to);
    this.#db.transaction(() => {
      if (!this.#exists.get(from)) throw noKeyframe(from);
      if (from === to) return;
      if (this.#exists.get(to)) {
        throw new ProjectError('EXISTS', `Cannot move key frame ${from} to ${to}: frame ${to} is already a key frame`);
      }
      this.#move.run(to, nowIso(), from);
    }).immediate();
  }

  /** Makes the key frames exactly `frames`, in one transaction; frames that stay keep their data. */
  set(frames: readonly number[]): void {
    for (const f of frames) this.#check(f);
    const wanted = new Set(frames);
    this.#db.transaction(() => {
      const now = nowIso();
      for (const { frame } of this.#list.all()) if (!wanted.has(frame)) this.#delete.run(frame);
      for (const f of wanted) this.#insert.run(f, now);
    }).immediate();
  }

  /** Stores the key frame's image, creating the key frame if needed. */
  setImage(frame: number, png: Uint8Array, origin: KeyframeOrigin, paramsHash: string | null): void {
    this.#check(frame);
    checkPng(png, `The image for key frame ${frame}`);
    if (origin !== 'edited' && origin !== 'translated') {
      throw new ProjectError('INVALID_ARGUMENT', `Key frame origin must be 'edited' or 'translated', not ${String(origin)}`);
    }
    this.#setImage.run(frame, toBuffer(png), origin, paramsHash, nowIso());
  }

  clearImage(frame: number): void {
    this.#check(frame);
    if (this.#clearImage.run(nowIso(), frame).changes === 0) throw noKeyframe(frame);
  }

  setMask(frame: number, png: Uint8Array | null): void {
    this.#check(frame);
    if (png !== null) checkPng(png, `The mask for key frame ${frame}`);
    if (this.#setMask.run(png === null ? null : toBuffer(png), nowIso(), frame).changes === 0) throw noKeyframe(frame);
  }

  setPrompt(frame: number, prompt: string | null): void {
    this.#check(frame);
    if (prompt !== null && typeof prompt !== 'string') {
      throw new ProjectError('INVALID_ARGUMENT', 'A key frame prompt must be a string or null');
    }
    if (this.#setPrompt.run(prompt, nowIso(), frame).changes === 0) throw noKeyframe(frame);
  }

  /**
   * Writes a key frame exactly as given, or deletes it (null): undo and redo. updated_at becomes
   * now, so the media URLs that carry it change and no cached picture of the other state is shown.
   */
  restore(frame: number, row: StoredKeyframe | null): void {
    this.#check(frame);
    if (row === null) {
      this.#delete.run(frame);
      return;
    }
    if ((row.image === null) !== (row.origin === null)) {
      throw new ProjectError('INVALID_ARGUMENT', `Key frame ${frame}: an image needs an origin and an origin an image`);
    }
    this.#restore.run(frame, row.image, row.origin, row.paramsHash, row.mask, row.prompt, nowIso());
  }

  #check(frame: number): void {
    checkFrame(frame, this.#frameCount());
  }
}

function toInfo(r: Row, current: CurrentParamsHash | undefined): KeyframeInfo {
  return {
    frame: r.frame,
    state: keyframeState({ frame: r.frame, origin: r.origin, paramsHash: r.params_hash }, current),
    hasMask: r.has_mask === 1,
    prompt: r.prompt,
    updatedAt: r.updated_at,
  };
}

function noKeyframe(frame: number): ProjectError {
  return new ProjectError('NO_KEYFRAME', `Frame ${frame} is not a key frame`);
}

/** better-sqlite3 binds Buffers as BLOBs; wrap a plain Uint8Array without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
