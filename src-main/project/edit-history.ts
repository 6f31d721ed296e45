// Undo/redo kept in the project file. Each step stores the state before and after of what it
// touched (the key frames it names, or all of them, and/or the settings); undo writes the "before"
// back and redo the "after", each in one SQLite transaction, so a project is never half-restored.
//
// A step puts back only the fields it changed. That is what keeps job results right: a translation
// written by a job after "Change prompt of 12" survives undoing the prompt, and its parameters hash
// then says 'stale' by itself; undoing "Clear image of 12" brings the cleared translation back with
// the hash it was made with, so it reads 'translated' or 'stale' as it should. Renders are never
// touched: they are tagged with the parameters hash that made them.
//
// Images and masks are stored once each in edit_blobs, keyed by sha256. The history is bounded by
// a step count and by the bytes of those blobs; the oldest steps go first, the newest always stays.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { EditHistoryInfo } from '../api/contract.ts';
import { changedLeaves, settingsChangeLabel } from './edit-labels.ts';
import { ProjectError } from './errors.ts';
import type { KeyframeOrigin, KeyframeStore, StoredKeyframe } from './keyframes.ts';
import type { Project } from './project.ts';
import type { ProjectSettings } from './settings.ts';
import type { SettingsStore } from './settings-store.ts';
import { nowIso } from './validate.ts';

/** What a step touches: some key frames (or all), and/or the settings. */
export interface EditScope {
  keyframes?: readonly number[] | 'all';
  settings?: boolean;
}

export interface EditOptions {
  /**
   * Consecutive edits with the same key (a painting session's strokes on one mask) become one step,
   * while no other step came between and the last one is less than `MERGE_WINDOW_MS` old.
   */
  merge?: string;
}

export interface HistoryLimits {
  maxSteps: number;
  maxBytes: number;
}

export const DEFAULT_LIMITS: HistoryLimits = { maxSteps: 200, maxBytes: 64 * 1024 * 1024 };
export const MERGE_WINDOW_MS = 60_000;

/** A key frame as a step remembers it: blobs by hash. Null: not a key frame. */
type KeyframeCapture = {
  image: string | null;
  origin: KeyframeOrigin | null;
  paramsHash: string | null;
  mask: string | null;
  prompt: string | null;
} | null;

interface Capture {
  keyframes?: Array<[number, KeyframeCapture]>;
  settings?: ProjectSettings;
}

/** A capture plus the bytes of the blobs it names (not yet stored). */
interface Captured {
  state: Capture;
  blobs: Map<string, Buffer>;
}

interface StepRow {
  id: number;
  label: string;
  merge_key: string | null;
  done: number;
  before: string;
  after: string;
  created_at: string;
  updated_at: string;
}

function sha(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const imageSlot = (k: NonNullable<KeyframeCapture>) => [k.image, k.origin, k.paramsHash];

/** The settings leaves that differ between `from` and `to`, as a patch with `to`'s values. */
function settingsPatch(from: unknown, to: unknown): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const leaf of changedLeaves(from, to)) {
    const parts = leaf.split('.');
    let src: unknown = to;
    let dst = patch;
    parts.forEach((p, i) => {
      src = (src as Record<string, unknown> | undefined)?.[p];
      if (i === parts.length - 1) dst[p] = src === undefined ? null : structuredClone(src);
      else dst = (dst[p] ??= {}) as Record<string, unknown>;
    });
  }
  return patch;
}

export class EditHistoryStore {
  readonly #db: Database.Database;
  readonly #keyframes: KeyframeStore;
  readonly #settings: SettingsStore;
  readonly #writable: () => void;
  limits: HistoryLimits = { ...DEFAULT_LIMITS };

  constructor(db: Database.Database, keyframes: KeyframeStore, settings: SettingsStore, writable: () => void) {
    this.#db = db;
    this.#keyframes = keyframes;
    this.#settings = settings;
    this.#writable = writable;
  }

  /** The state of what `scope` covers now. `frames` adds frames to an 'all' scope (those the before state had). */
  capture(scope: EditScope, frames: Iterable<number> = []): Captured {
    const blobs = new Map<string, Buffer>();
    const keep = (b: Buffer | null): string | null => {
      if (b === null) return null;
      const h = sha(b);
      blobs.set(h, b);
      return h;
    };
    const state: Capture = {};
    if (scope.keyframes !== undefined) {
      const list =
        scope.keyframes === 'all'
          ? [...new Set([...this.#keyframes.list().map((k) => k.frame), ...frames])].sort((a, b) => a - b)
          : [...new Set(scope.keyframes)];
      state.keyframes = list.map((f): [number, KeyframeCapture] => {
        const k = this.#keyframes.get(f);
        if (!k) return [f, null];
        return [f, { image: keep(k.image), origin: k.origin, paramsHash: k.paramsHash, mask: keep(k.mask), prompt: k.prompt }];
      });
    }
    if (scope.settings === true) state.settings = this.#settings.get();
    return { state, blobs };
  }

  /** Runs `apply` and stores it as one step, all in one transaction: if it throws, nothing changed. */
  record<T>(label: string | ((before: Capture, after: Capture) => string), scope: EditScope, apply: () => T, opts: EditOptions = {}): T {
    this.#writable();
    try {
      return this.#db.transaction(() => {
        const before = this.capture(scope);
        const result = apply();
        this.commit(label, scope, before, opts);
        return result;
      }).immediate();
    } catch (err) {
      this.#settings.forget();
      throw err;
    }
  }

  /** Stores the step from `before` to now (called after the change). Unchanged: no step. */
  commit(label: string | ((before: Capture, after: Capture) => string), scope: EditScope, before: Captured, opts: EditOptions = {}): void {
    this.#writable();
    this.#db.transaction(() => {
      const after = this.capture(scope, (before.state.keyframes ?? []).map(([f]) => f));
      align(before.state, after.state);
      if (sameJson(before.state, after.state)) return;
      const text = typeof label === 'string' ? label : label(before.state, after.state);
      // Merging needs an unbroken session: no undo since its last stroke (no redo branch).
      const hadRedo = this.#dropRedo();
      const blobs = new Map([...before.blobs, ...after.blobs]);
      const top = this.#top();
      if (opts.merge !== undefined && !hadRedo && top && top.merge_key === opts.merge && Date.now() - Date.parse(top.updated_at) < MERGE_WINDOW_MS) {
        const first = parseCapture(top.before);
        if (sameJson(first, after.state)) {
          this.#deleteSteps([top.id]);
        } else {
          this.#db.prepare('UPDATE edit_steps SET after = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(after.state), nowIso(), top.id);
          // Blobs of the first state are still stored (collected only below): refs suffice for them.
          this.#db.prepare('DELETE FROM edit_step_blobs WHERE step = ?').run(top.id);
          this.#storeBlobs(top.id, blobs, first, after.state);
        }
        this.#collect();
        this.#trim();
        return;
      }
      const now = nowIso();
      const id = Number(
        this.#db
          .prepare('INSERT INTO edit_steps (label, merge_key, done, before, after, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?)')
          .run(text, opts.merge ?? null, JSON.stringify(before.state), JSON.stringify(after.state), now, now).lastInsertRowid,
      );
      this.#storeBlobs(id, blobs, before.state, after.state);
      this.#trim();
    }).immediate();
  }

  /** Puts back what `scope` held in `before` (an edit that failed half-way). */
  putBack(scope: EditScope, before: Captured): void {
    this.#writable();
    try {
      this.#db.transaction(() => {
        const now = this.capture(scope, (before.state.keyframes ?? []).map(([f]) => f));
        align(before.state, now.state);
        this.#restore(before.state, now.state, before.blobs);
      }).immediate();
    } catch (err) {
      this.#settings.forget();
      throw err;
    }
  }

  /** Undoes the newest done step; returns its label, or null when there is nothing to undo. */
  undo(): string | null {
    return this.#step('undo');
  }

  /** Redoes the oldest undone step; returns its label, or null when there is nothing to redo. */
  redo(): string | null {
    return this.#step('redo');
  }

  /** Undoes or redoes until `position` steps are done (0: before the first kept step). */
  goTo(position: number): void {
    this.#writable();
    try {
      this.#db.transaction(() => {
        const info = this.info();
        const target = Math.max(0, Math.min(info.steps.length, Math.trunc(position)));
        for (let p = info.position; p > target; p--) this.#apply('undo');
        for (let p = info.position; p < target; p++) this.#apply('redo');
      }).immediate();
    } catch (err) {
      this.#settings.forget();
      throw err;
    }
  }

  info(): EditHistoryInfo {
    const rows = this.#db.prepare('SELECT label, done, created_at FROM edit_steps ORDER BY id').all() as Pick<StepRow, 'label' | 'done' | 'created_at'>[];
    const position = rows.filter((r) => r.done === 1).length;
    return {
      steps: rows.map((r) => ({ label: r.label, at: r.created_at })),
      position,
      undo: position > 0 ? rows[position - 1]!.label : null,
      redo: position < rows.length ? rows[position]!.label : null,
    };
  }

  /** Bytes of stored images and masks. */
  bytes(): number {
    return (this.#db.prepare('SELECT coalesce(sum(size), 0) AS n FROM edit_blobs').get() as { n: number }).n;
  }

  #step(dir: 'undo' | 'redo'): string | null {
    this.#writable();
    try {
      return this.#db.transaction(() => this.#apply(dir)).immediate();
    } catch (err) {
      this.#settings.forget();
      throw err;
    }
  }

  #apply(dir: 'undo' | 'redo'): string | null {
    const row = (
      dir === 'undo'
        ? this.#db.prepare('SELECT * FROM edit_steps WHERE done = 1 ORDER BY id DESC LIMIT 1').get()
        : this.#db.prepare('SELECT * FROM edit_steps WHERE done = 0 ORDER BY id LIMIT 1').get()
    ) as StepRow | undefined;
    if (!row) return null;
    const before = parseCapture(row.before);
    const after = parseCapture(row.after);
    const [target, other] = dir === 'undo' ? [before, after] : [after, before];
    this.#restore(target, other, null);
    this.#db.prepare('UPDATE edit_steps SET done = ? WHERE id = ?').run(dir === 'undo' ? 0 : 1, row.id);
    return row.label;
  }

  /** Writes `target` over the fields in which it differs from `other` (the state being left). */
  #restore(target: Capture, other: Capture, pending: Map<string, Buffer> | null): void {
    const blob = (h: string | null): Buffer | null => {
      if (h === null) return null;
      const b = pending?.get(h) ?? (this.#db.prepare('SELECT data FROM edit_blobs WHERE hash = ?').get(h) as { data: Buffer } | undefined)?.data;
      if (!b) throw damaged(`an image it needs is missing (${h.slice(0, 12)})`);
      return b;
    };
    const full = (k: NonNullable<KeyframeCapture>): StoredKeyframe => ({
      image: blob(k.image),
      origin: k.origin,
      paramsHash: k.paramsHash,
      mask: blob(k.mask),
      prompt: k.prompt,
    });
    const others = new Map(other.keyframes ?? []);
    for (const [frame, t] of target.keyframes ?? []) {
      const o = others.get(frame) ?? null;
      if (sameJson(t, o)) continue;
      if (t === null) {
        this.#keyframes.restore(frame, null);
        continue;
      }
      const now = this.#keyframes.get(frame);
      if (o === null || now === null) {
        this.#keyframes.restore(frame, full(t));
        continue;
      }
      const row: StoredKeyframe = { image: now.image, origin: now.origin, paramsHash: now.paramsHash, mask: now.mask, prompt: now.prompt };
      if (!sameJson(imageSlot(t), imageSlot(o))) Object.assign(row, { image: blob(t.image), origin: t.origin, paramsHash: t.paramsHash });
      if (t.mask !== o.mask) row.mask = blob(t.mask);
      if (t.prompt !== o.prompt) row.prompt = t.prompt;
      this.#keyframes.restore(frame, row);
    }
    if (target.settings && other.settings) {
      const patch = settingsPatch(other.settings, target.settings);
      if (Object.keys(patch).length > 0) this.#settings.update(patch);
    }
  }

  #top(): StepRow | undefined {
    return this.#db.prepare('SELECT * FROM edit_steps ORDER BY id DESC LIMIT 1').get() as StepRow | undefined;
  }

  #storeBlobs(step: number, blobs: Map<string, Buffer>, ...states: Capture[]): void {
    const put = this.#db.prepare('INSERT OR IGNORE INTO edit_blobs (hash, data, size) VALUES (?, ?, ?)');
    const ref = this.#db.prepare('INSERT OR IGNORE INTO edit_step_blobs (step, hash) VALUES (?, ?)');
    for (const h of new Set(states.flatMap((s) => [...referenced(s)]))) {
      const b = blobs.get(h);
      if (b) put.run(h, b, b.length);
      ref.run(step, h);
    }
  }

  /** Deletes the redo branch; returns whether there was one. */
  #dropRedo(): boolean {
    const ids = (this.#db.prepare('SELECT id FROM edit_steps WHERE done = 0').all() as { id: number }[]).map((r) => r.id);
    if (ids.length > 0) this.#deleteSteps(ids);
    return ids.length > 0;
  }

  #deleteSteps(ids: readonly number[]): void {
    const step = this.#db.prepare('DELETE FROM edit_steps WHERE id = ?');
    const refs = this.#db.prepare('DELETE FROM edit_step_blobs WHERE step = ?');
    for (const id of ids) {
      step.run(id);
      refs.run(id);
    }
    this.#collect();
  }

  /** Drops blobs no step needs. */
  #collect(): void {
    this.#db.exec('DELETE FROM edit_blobs WHERE hash NOT IN (SELECT hash FROM edit_step_blobs)');
  }

  /** Drops the oldest steps past the bounds; the newest step always stays. */
  #trim(): void {
    const count = (): number => (this.#db.prepare('SELECT count(*) AS n FROM edit_steps').get() as { n: number }).n;
    let n = count();
    while (n > 1 && (n > this.limits.maxSteps || this.bytes() > this.limits.maxBytes)) {
      const oldest = this.#db.prepare('SELECT id FROM edit_steps ORDER BY id LIMIT 1').get() as { id: number };
      this.#deleteSteps([oldest.id]);
      n = count();
    }
  }
}

function damaged(what: string): ProjectError {
  return new ProjectError('DAMAGED', `The undo history in this project is damaged (${what}); the project itself is not affected.`);
}

function parseCapture(json: string): Capture {
  try {
    return JSON.parse(json) as Capture;
  } catch {
    throw damaged('a step cannot be read');
  }
}

/** Both captures list the same frames (null where a frame was not a key frame). */
function align(a: Capture, b: Capture): void {
  if (!a.keyframes || !b.keyframes) return;
  const frames = [...new Set([...a.keyframes.map(([f]) => f), ...b.keyframes.map(([f]) => f)])].sort((x, y) => x - y);
  const fill = (c: Capture): Array<[number, KeyframeCapture]> => {
    const m = new Map(c.keyframes);
    return frames.map((f) => [f, m.get(f) ?? null]);
  };
  a.keyframes = fill(a);
  b.keyframes = fill(b);
}

function referenced(c: Capture): Set<string> {
  const out = new Set<string>();
  for (const [, k] of c.keyframes ?? []) {
    if (k?.image) out.add(k.image);
    if (k?.mask) out.add(k.mask);
  }
  return out;
}

// The functions callers use. Edits of one project run one at a time: an edit that awaits (decoding
// an imported image) must not interleave with another, or its "after" would hold the other's change.

const queues = new WeakMap<Project, Promise<unknown>>();

/** Runs `fn` after every edit already queued on `project` (the host sends undo and redo through it too). */
export function serialEdit<T>(project: Project, fn: () => T | Promise<T>): Promise<T> {
  const prev = queues.get(project) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  queues.set(project, run.catch(() => undefined));
  return run;
}

/**
 * Applies a synchronous edit and records it as one undo step named `label`, in one transaction.
 * `scope` says what the step touches: the key frames listed (a batch passes every frame it may add,
 * remove or change), 'all' key frames, and/or the settings.
 */
export function recordEdit<T>(
  project: Project,
  label: string | ((before: Capture, after: Capture) => string),
  scope: EditScope,
  apply: () => T,
  opts?: EditOptions,
): T {
  return project.history.record(label, scope, apply, opts);
}

/**
 * The same for an edit that awaits (decoding an image first). Queued behind the project's other
 * edits; if `apply` fails, whatever it had written in the scope is put back, so no half-done edit
 * stays in the project.
 */
export function recordEditAsync<T>(
  project: Project,
  label: string | ((before: Capture, after: Capture) => string),
  scope: EditScope,
  apply: () => Promise<T>,
  opts?: EditOptions,
): Promise<T> {
  return serialEdit(project, async () => {
    const h = project.history;
    const before = h.capture(scope);
    let result: T;
    try {
      result = await apply();
    } catch (err) {
      h.putBack(scope, before);
      throw err;
    }
    h.commit(label, scope, before, opts);
    return result;
  });
}

export function undo(project: Project): string | null {
  return project.history.undo();
}

export function redo(project: Project): string | null {
  return project.history.redo();
}

export function historyInfo(project: Project): EditHistoryInfo {
  return project.history.info();
}

export type { Capture as EditCapture };

/** A settings step's label from what changed: "Change steps 20 → 30". */
export function settingsLabel(before: Capture, after: Capture): string {
  return settingsChangeLabel(before.settings, after.settings);
}
