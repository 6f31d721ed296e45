// A Rerender Studio project: one SQLite file (.rrproj) holding settings, the source reference, key
// frames, renders, jobs and a cache. This class wires the stores to one connection; each store
// prepares its statements once per instance. One writer at a time: opening for writing takes the
// project's lock file (lock.ts); a read-only open takes none and never writes.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { closeConnection, inspectFile, openConnection } from './connection.ts';
import { createProjectFile } from './create-file.ts';
import { guardDamage } from './damage.ts';
import { isProjectError, ProjectError } from './errors.ts';
import { acquireLock, defaultLockLabel, type ProjectLock } from './lock.ts';
import { CacheStore, type CacheEntry } from './cache.ts';
import { EditHistoryStore } from './edit-history.ts';
import { ShotCutStore, type ShotCuts } from './cuts-store.ts';
import { JobStore, type JobPatch, type JobRecord, type NewJob } from './jobs.ts';
import { KeyframeStore, type CurrentParamsHash, type Keyframe, type KeyframeOrigin } from './keyframes.ts';
import { locateSource, type HashFile } from './locate-source.ts';
import { RenderStore, type Render, type RenderInput, type RenderTag } from './renders.ts';
import { SCHEMA_VERSION } from './schema.ts';
import { defaultSettings, applySettingsPatch, type ProjectSettings, type SettingsPatch } from './settings.ts';
import { SettingsStore } from './settings-store.ts';
import type { SourceFile, SourceProbe, SourceRecord, SourceResolution, WorkingGeometry } from './source.ts';
import { SourceStore } from './source-store.ts';
import type { JobStatus, JobKind, KeyframeInfo } from '../api/contract.ts';
import { nowIso } from './validate.ts';

/**
 * A read-only connection cannot remove the -wal/-shm files SQLite made for it. When nobody has the
 * project open for writing (its lock is free), a plain connection opened and closed under the lock
 * removes them; its checkpoint of the empty WAL changes no byte of the file. Best effort.
 */
function tidyAfterReadOnly(file: string): void {
  if (!existsSync(`${file}-wal`)) return;
  let lock: ProjectLock;
  try {
    lock = acquireLock(file, 'tidying up after a read-only open');
  } catch {
    return; // a writer has it: its own close removes them
  }
  try {
    const db = new Database(file, { fileMustExist: true });
    // SQLite removes the WAL at the last close only of a connection that has read the file.
    db.pragma('user_version', { simple: true });
    db.close();
  } catch {
    // read-only folder or media: the files stay, harmlessly
  } finally {
    lock.release();
  }
}

/** A new project's folder must exist: OUTPUT_UNWRITABLE names it instead of an SQLite error. */
function checkFolder(target: string): void {
  const dir = path.dirname(target);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // missing
  }
  if (!isDir) throw new ProjectError('OUTPUT_UNWRITABLE', `Cannot create ${target}: the folder ${dir} does not exist`);
}

export const PROJECT_EXTENSION = '.rrproj';

export interface ProjectInit {
  /** The source video file; `sha256` is computed by the caller. A relative path is resolved against the cwd. */
  source: SourceFile;
  probe: SourceProbe;
  working: WorkingGeometry;
  /** Changes from the default settings. */
  settings?: SettingsPatch;
  /** The source's shot cuts, when they were looked for (a project made without them finds them on first need). */
  shotCuts?: { frames: readonly number[]; method: string };
}

export interface OpenOptions {
  /**
   * Read without writing: SQLite opens the file read-only, no lock is taken, nothing is migrated
   * (NEEDS_UPGRADE for an older file) and jobs are left alone. Every write throws READ_ONLY.
   */
  readOnly?: boolean;
  /** Who opens it, shown to anyone else who tries ('rerender propagate'); default from process.argv. */
  label?: string;
}

export interface CreateOptions {
  /** Replace an existing file at the path (default: refuse with EXISTS; IN_USE if someone has it open). */
  overwrite?: boolean;
  /** As in OpenOptions. */
  label?: string;
}

export class Project {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #settings: SettingsStore;
  readonly #source: SourceStore;
  readonly #keyframes: KeyframeStore;
  readonly #renders: RenderStore;
  readonly #jobs: JobStore;
  readonly #cache: CacheStore;
  readonly #cuts: ShotCutStore;
  readonly #history: EditHistoryStore;
  readonly #meta: Database.Statement<[string], { value: string }>;
  /** Null when opened read-only. */
  readonly #lock: ProjectLock | null;
  /** Read-only: whether a -wal file was there before this open (else SQLite made one for it). */
  #hadWal = true;
  /** How many jobs were found 'running' at open (left by a crashed process) and marked interrupted. */
  readonly interruptedJobs: number;

  private constructor(file: string, db: Database.Database, lock: ProjectLock | null) {
    this.path = file;
    this.#db = db;
    this.#lock = lock;
    this.#settings = new SettingsStore(db);
    this.#source = new SourceStore(db);
    const frameCount = () => this.#source.frameCount();
    this.#keyframes = new KeyframeStore(db, frameCount);
    this.#renders = new RenderStore(db, frameCount);
    this.#jobs = new JobStore(db);
    this.#cache = new CacheStore(db);
    this.#cuts = new ShotCutStore(db, frameCount);
    this.#history = new EditHistoryStore(db, this.#keyframes, this.#settings, () => this.#writable());
    this.#meta = db.prepare('SELECT value FROM meta WHERE key = ?');
    this.#checkStored();
    // Only the lock holder may judge 'running' jobs dead: with the lock held, no live process owns one.
    this.interruptedJobs = lock === null ? 0 : this.#jobs.markInterrupted();
  }

  /** Creates a new project file atomically and opens it. */
  static create(file: string, init: ProjectInit, opts: CreateOptions = {}): Project {
    const target = path.resolve(file);
    checkFolder(target);
    // Locked before the file exists, so an overwrite cannot pull a project from under its writer.
    const lock = acquireLock(target, opts.label ?? defaultLockLabel());
    try {
      Project.#build(target, init, opts.overwrite === true);
    } catch (err) {
      lock.release();
      throw err;
    }
    return Project.#openWith(target, lock);
  }

  static #build(target: string, init: ProjectInit, overwrite: boolean): void {
    createProjectFile(
      target,
      (db) => {
        const now = nowIso();
        const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        meta.run('createdAt', now);
        meta.run('createdWithSchema', String(SCHEMA_VERSION));
        new SettingsStore(db).put(applySettingsPatch(defaultSettings(), init.settings ?? {}));
        const source = new SourceStore(db);
        source.put(
          { ...init.source, path: path.resolve(init.source.path) },
          init.probe,
          init.working,
        );
        if (init.shotCuts) new ShotCutStore(db, () => source.frameCount()).put(init.shotCuts.frames, init.shotCuts.method);
      },
      overwrite,
    );
  }

  /**
   * Opens an existing project, migrating an older file forward. For writing (the default) it takes
   * the project's lock, released by close(). Throws NOT_FOUND, NOT_A_PROJECT, NEWER_VERSION,
   * IN_USE (another process has it open for writing), DAMAGED, or NEEDS_UPGRADE (read-only only).
   */
  static open(file: string, opts: OpenOptions = {}): Project {
    const target = path.resolve(file);
    if (opts.readOnly === true) {
      const hadWal = existsSync(`${target}-wal`);
      const db = openConnection(target, { readOnly: true });
      try {
        const p = guardDamage(target, () => new Project(target, db, null));
        p.#hadWal = hadWal;
        return p;
      } catch (err) {
        db.close();
        throw err;
      }
    }
    // The cheap identity checks first: no lock file appears beside a missing or foreign file.
    inspectFile(target);
    return Project.#openWith(target, acquireLock(target, opts.label ?? defaultLockLabel()));
  }

  /** Opens without writing: `Project.open(file, { readOnly: true })`. */
  static openReadOnly(file: string): Project {
    return Project.open(file, { readOnly: true });
  }

  static #openWith(target: string, lock: ProjectLock): Project {
    let db: Database.Database | null = null;
    try {
      db = openConnection(target);
      const opened = db;
      return guardDamage(target, () => new Project(target, opened, lock));
    } catch (err) {
      if (db?.open) db.close();
      lock.release();
      throw err;
    }
  }

  /**
   * Checkpoints the WAL into the file and closes it; the .rrproj then stands alone. Releases the
   * lock. Safe to call twice.
   */
  close(): void {
    if (this.#lock === null) {
      if (!this.#db.open) return;
      this.#db.close();
      if (!this.#hadWal) tidyAfterReadOnly(this.path);
      return;
    }
    try {
      closeConnection(this.#db);
    } finally {
      this.#lock.release();
    }
  }

  get isOpen(): boolean {
    return this.#db.open;
  }

  get readOnly(): boolean {
    return this.#lock === null;
  }

  /** Every write goes through this first. */
  #writable(): void {
    if (this.#lock === null) {
      throw new ProjectError('READ_ONLY', `${this.path} was opened read-only; it cannot be changed through this handle`);
    }
  }

  /**
   * Stored values are checked once at open, like arguments: the settings and source rows against
   * their schemas (frame counts against MAX_FRAMES), key frames, renders and shot cuts against the frame count.
   * DAMAGED says what is wrong and what the file still holds.
   */
  #checkStored(): void {
    const problems: string[] = [];
    const check = (fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        if (!isProjectError(err, 'DAMAGED')) throw err;
        problems.push(err.message);
      }
    };
    check(() => this.#settings.get());
    check(() => {
      const frames = this.#source.frameCount();
      for (const table of ['keyframes', 'renders'] as const) {
        const last = (this.#db.prepare(`SELECT max(frame) AS m FROM ${table}`).get() as { m: number | null }).m;
        if (last !== null && last >= frames) {
          const what = table === 'keyframes' ? 'a key frame' : 'a render';
          throw new ProjectError('DAMAGED', `${what} is stored for frame ${last}, but the source has frames 0 to ${frames - 1}`);
        }
      }
    });
    check(() => this.#cuts.get());
    if (problems.length === 0) return;
    throw new ProjectError('DAMAGED', `${this.path} is damaged: ${problems.join('; ')}. ${this.#stillHeld()}`);
  }

  /** What a damaged file still holds, as far as SQLite can read it. */
  #stillHeld(): string {
    try {
      const n = (sql: string): number => (this.#db.prepare(sql).get() as { n: number }).n;
      const keyframes = n('SELECT count(*) AS n FROM keyframes');
      const images = n('SELECT count(*) AS n FROM keyframes WHERE image IS NOT NULL');
      const renders = n('SELECT count(*) AS n FROM renders');
      return (
        `The file still holds ${keyframes} key frame(s) (${images} with an image) and ${renders} rendered frame(s), ` +
        'as PNG images in its keyframes and renders tables, which any SQLite tool can read out. ' +
        'Rerender Studio cannot open it as it is; keep a copy before trying to repair it.'
      );
    } catch {
      return 'Rerender Studio cannot open it as it is; keep a copy before trying to repair it.';
    }
  }

  /** The file name without its extension. */
  get name(): string {
    return path.basename(this.path, PROJECT_EXTENSION);
  }

  get schemaVersion(): number {
    return this.#db.pragma('user_version', { simple: true }) as number;
  }

  get frameCount(): number {
    return this.#source.frameCount();
  }

  /** SQLite's own consistency check: 'ok' for a sound file. */
  integrityCheck(): string {
    const rows = this.#db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('\n');
  }

  meta(key: string): string | null {
    return this.#meta.get(key)?.value ?? null;
  }

  // Settings

  settings(): ProjectSettings {
    return this.#settings.get();
  }

  /** Merges `patch` (nested objects merge, arrays replace), validates and saves; INVALID_SETTINGS on a bad value. */
  updateSettings(patch: SettingsPatch): ProjectSettings {
    this.#writable();
    return this.#settings.update(patch);
  }

  // Source

  source(): SourceRecord {
    return this.#source.get();
  }

  setWorkingGeometry(working: WorkingGeometry): void {
    this.#writable();
    this.#source.setWorking(working);
  }

  /**
   * Checks the source video is where the project says. If it moved, looks in the project's folder
   * and `searchDirs` for a file of the same size and hash, and re-links to it.
   */
  async resolveSource(searchDirs: readonly string[], hashFile: HashFile): Promise<SourceResolution> {
    const stored = this.#source.get();
    const loc = await locateSource(stored, [path.dirname(this.path), ...searchDirs], hashFile);
    switch (loc.found) {
      case 'unchanged':
        return { status: 'linked', path: stored.path };
      case 'nowhere':
        return { status: 'missing', path: stored.path };
      case 'at':
        // Read-only: the new place is reported but not stored.
        if (this.#lock !== null) this.#source.relocate(loc.path, loc.mtimeMs);
        return loc.path === path.resolve(stored.path)
          ? { status: 'linked', path: loc.path }
          : { status: 'relinked', path: loc.path, previousPath: stored.path };
    }
  }

  // Key frames (frames are validated against the source frame count: OUT_OF_RANGE)

  /** Key frames in frame order; a translation whose hash differs from `currentParamsHash` is 'stale'. */
  listKeyframes(currentParamsHash: CurrentParamsHash): KeyframeInfo[] {
    return this.#keyframes.list(currentParamsHash);
  }

  /** One key frame with its image and mask, or null. Without a current hash, translations are not judged stale. */
  getKeyframe(frame: number, currentParamsHash?: CurrentParamsHash): Keyframe | null {
    return this.#keyframes.get(frame, currentParamsHash);
  }

  /** Idempotent; returns whether a key frame was added. */
  addKeyframe(frame: number): boolean {
    this.#writable();
    return this.#keyframes.add(frame);
  }

  removeKeyframe(frame: number): void {
    this.#writable();
    this.#keyframes.remove(frame);
  }

  /** NO_KEYFRAME if `from` is not a key frame, EXISTS if `to` is. */
  moveKeyframe(from: number, to: number): void {
    this.#writable();
    this.#keyframes.move(from, to);
  }

  setKeyframes(frames: readonly number[]): void {
    this.#writable();
    this.#keyframes.set(frames);
  }

  setKeyframeImage(frame: number, png: Uint8Array, origin: KeyframeOrigin, paramsHash: string | null): void {
    this.#writable();
    this.#keyframes.setImage(frame, png, origin, paramsHash);
  }

  clearKeyframeImage(frame: number): void {
    this.#writable();
    this.#keyframes.clearImage(frame);
  }

  setKeyframeMask(frame: number, png: Uint8Array | null): void {
    this.#writable();
    this.#keyframes.setMask(frame, png);
  }

  setKeyframePrompt(frame: number, prompt: string | null): void {
    this.#writable();
    this.#keyframes.setPrompt(frame, prompt);
  }

  // Undo/redo (edit-history.ts: recordEdit, undo, redo, historyInfo)

  /** The project's edit history; its writes throw READ_ONLY on a read-only handle. */
  get history(): EditHistoryStore {
    return this.#history;
  }

  // Shot cuts

  /** The source's shot cuts, or null when they were never looked for (projects made before schema v4). */
  shotCuts(): ShotCuts | null {
    return this.#cuts.get();
  }

  /** Stores the shot cuts (sorted frames, each 0 < c < frameCount) and how they were found. */
  setShotCuts(frames: readonly number[], method: string): ShotCuts {
    this.#writable();
    return this.#cuts.put(frames, method);
  }

  /** Forgets the shot cuts: the next propagate or `info --cuts` looks for them again. */
  clearShotCuts(): void {
    this.#writable();
    this.#cuts.clear();
  }

  // Renders

  /** Returns once the frame is committed and fsynced. */
  putRender(frame: number, png: Uint8Array, tag: RenderTag): void {
    this.#writable();
    this.#renders.put(frame, png, tag);
  }

  /** All in one transaction. */
  putRenders(items: readonly RenderInput[]): void {
    this.#writable();
    this.#renders.putMany(items);
  }

  getRender(frame: number): Render | null {
    return this.#renders.get(frame);
  }

  renderedFrames(paramsHash?: string): number[] {
    return this.#renders.frames(paramsHash);
  }

  /** Each rendered frame's params hash (no image is read): what a resumed stage compares against. */
  renderHashes(): Map<number, string> {
    return this.#renders.hashes();
  }

  renderCount(): number {
    return this.#renders.count();
  }

  /** Deletes the given frames' renders (all when omitted); returns how many went. */
  deleteRenders(frames?: readonly number[]): number {
    this.#writable();
    return this.#renders.delete(frames);
  }

  // Jobs

  createJob(job: NewJob): JobRecord {
    this.#writable();
    return this.#jobs.create(job);
  }

  updateJob(id: string, patch: JobPatch): JobRecord {
    this.#writable();
    return this.#jobs.update(id, patch);
  }

  getJob(id: string): JobRecord | null {
    return this.#jobs.get(id);
  }

  listJobs(filter?: { status?: JobStatus; kind?: JobKind }): JobRecord[] {
    return this.#jobs.list(filter);
  }

  // Cache of re-computable data

  putCache(kind: string, key: string, data: Uint8Array, meta?: unknown): void {
    this.#writable();
    this.#cache.put(kind, key, data, meta);
  }

  getCache(kind: string, key: string): CacheEntry | null {
    return this.#cache.get(kind, key);
  }

  cacheKeys(kind: string): string[] {
    return this.#cache.keys(kind);
  }

  /** Deletes every entry of `kind`, or one entry; returns how many. */
  deleteCache(kind: string, key?: string): number {
    this.#writable();
    return this.#cache.delete(kind, key);
  }
}
