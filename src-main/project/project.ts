// A Rerender Studio project: one SQLite file (.rrproj) holding settings, the source reference, key
// frames, renders, jobs and a cache. This class wires the stores to one connection; each store
// prepares its statements once per instance.
import path from 'node:path';
import type Database from 'better-sqlite3';
import { closeConnection, openConnection } from './connection.ts';
import { createProjectFile } from './create-file.ts';
import { CacheStore, type CacheEntry } from './cache.ts';
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

export const PROJECT_EXTENSION = '.rrproj';

export interface ProjectInit {
  /** The source video file; `sha256` is computed by the caller. A relative path is resolved against the cwd. */
  source: SourceFile;
  probe: SourceProbe;
  working: WorkingGeometry;
  /** Changes from the default settings. */
  settings?: SettingsPatch;
}

export interface CreateOptions {
  /** Replace an existing file at the path (default: refuse with EXISTS). */
  overwrite?: boolean;
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
  readonly #meta: Database.Statement<[string], { value: string }>;
  /** How many jobs were found 'running' at open (left by a crashed process) and marked interrupted. */
  readonly interruptedJobs: number;

  private constructor(file: string, db: Database.Database) {
    this.path = file;
    this.#db = db;
    this.#settings = new SettingsStore(db);
    this.#source = new SourceStore(db);
    const frameCount = () => this.#source.frameCount();
    this.#keyframes = new KeyframeStore(db, frameCount);
    this.#renders = new RenderStore(db, frameCount);
    this.#jobs = new JobStore(db);
    this.#cache = new CacheStore(db);
    this.#meta = db.prepare('SELECT value FROM meta WHERE key = ?');
    this.interruptedJobs = this.#jobs.markInterrupted();
  }

  /** Creates a new project file atomically and opens it. */
  static create(file: string, init: ProjectInit, opts: CreateOptions = {}): Project {
    const target = path.resolve(file);
    createProjectFile(
      target,
      (db) => {
        const now = nowIso();
        const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        meta.run('createdAt', now);
        meta.run('createdWithSchema', String(SCHEMA_VERSION));
        new SettingsStore(db).put(applySettingsPatch(defaultSettings(), init.settings ?? {}));
        new SourceStore(db).put(
          { ...init.source, path: path.resolve(init.source.path) },
          init.probe,
          init.working,
        );
      },
      opts.overwrite === true,
    );
    return Project.open(target);
  }

  /** Opens an existing project, migrating an older file forward. Throws NOT_FOUND, NOT_A_PROJECT or NEWER_VERSION. */
  static open(file: string): Project {
    const target = path.resolve(file);
    const db = openConnection(target);
    try {
      return new Project(target, db);
    } catch (err) {
      closeConnection(db);
      throw err;
    }
  }

  /** Checkpoints the WAL into the file and closes it; the .rrproj then stands alone. Safe to call twice. */
  close(): void {
    closeConnection(this.#db);
  }

  get isOpen(): boolean {
    return this.#db.open;
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
    return this.#settings.update(patch);
  }

  // Source

  source(): SourceRecord {
    return this.#source.get();
  }

  setWorkingGeometry(working: WorkingGeometry): void {
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
        this.#source.relocate(loc.path, loc.mtimeMs);
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
    return this.#keyframes.add(frame);
  }

  removeKeyframe(frame: number): void {
    this.#keyframes.remove(frame);
  }

  /** NO_KEYFRAME if `from` is not a key frame, EXISTS if `to` is. */
  moveKeyframe(from: number, to: number): void {
    this.#keyframes.move(from, to);
  }

  setKeyframes(frames: readonly number[]): void {
    this.#keyframes.set(frames);
  }

  setKeyframeImage(frame: number, png: Uint8Array, origin: KeyframeOrigin, paramsHash: string | null): void {
    this.#keyframes.setImage(frame, png, origin, paramsHash);
  }

  clearKeyframeImage(frame: number): void {
    this.#keyframes.clearImage(frame);
  }

  setKeyframeMask(frame: number, png: Uint8Array | null): void {
    this.#keyframes.setMask(frame, png);
  }

  setKeyframePrompt(frame: number, prompt: string | null): void {
    this.#keyframes.setPrompt(frame, prompt);
  }

  // Renders

  /** Returns once the frame is committed and fsynced. */
  putRender(frame: number, png: Uint8Array, tag: RenderTag): void {
    this.#renders.put(frame, png, tag);
  }

  /** All in one transaction. */
  putRenders(items: readonly RenderInput[]): void {
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
    return this.#renders.delete(frames);
  }

  // Jobs

  createJob(job: NewJob): JobRecord {
    return this.#jobs.create(job);
  }

  updateJob(id: string, patch: JobPatch): JobRecord {
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
    return this.#cache.delete(kind, key);
  }
}
