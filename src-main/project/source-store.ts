// The single source row: the video file's identity, its probe and the working geometry.
import type Database from 'better-sqlite3';
import { ProjectError } from './errors.ts';
import {
  sourceFileSchema,
  sourceProbeSchema,
  workingGeometrySchema,
  type SourceFile,
  type SourceProbe,
  type SourceRecord,
  type WorkingGeometry,
} from './source.ts';
import { parseArg, parseStored } from './validate.ts';

interface Row {
  path: string;
  size: number;
  mtime_ms: number;
  sha256: string;
  probe: string;
  working: string;
}

export class SourceStore {
  readonly #read: Database.Statement<[], Row>;
  readonly #write: Database.Statement<[string, number, number, string, string, string]>;
  readonly #relocate: Database.Statement<[string, number]>;
  readonly #setWorking: Database.Statement<[string]>;
  #current: SourceRecord | null = null;

  constructor(db: Database.Database) {
    this.#read = db.prepare('SELECT path, size, mtime_ms, sha256, probe, working FROM source WHERE id = 1');
    this.#write = db.prepare(
      'INSERT OR REPLACE INTO source (id, path, size, mtime_ms, sha256, probe, working) VALUES (1, ?, ?, ?, ?, ?, ?)',
    );
    this.#relocate = db.prepare('UPDATE source SET path = ?, mtime_ms = ? WHERE id = 1');
    this.#setWorking = db.prepare('UPDATE source SET working = ? WHERE id = 1');
  }

  get(): SourceRecord {
    return structuredClone(this.#load());
  }

  /** Checked on every frame-indexed write, so read without copying the record. */
  frameCount(): number {
    return this.#load().probe.frameCount;
  }

  #load(): SourceRecord {
    if (this.#current === null) {
      const r = this.#read.get();
      if (!r) throw new ProjectError('NOT_A_PROJECT', 'The project file has no source row');
      const probe = parseStored(sourceProbeSchema, r.probe, 'the stored probe of the source video');
      const working = parseStored(workingGeometrySchema, r.working, 'the stored working size');
      const { crop } = working;
      if (crop.left + crop.right >= probe.width || crop.top + crop.bottom >= probe.height) {
        throw new ProjectError('DAMAGED', `the stored crop (${crop.left},${crop.right},${crop.top},${crop.bottom}) leaves nothing of the ${probe.width}×${probe.height} source`);
      }
      if (!sourceFileSchema.safeParse({ path: r.path, size: r.size, mtimeMs: r.mtime_ms, sha256: r.sha256 }).success) {
        throw new ProjectError('DAMAGED', 'the stored identity of the source video (path, size or hash) fails its checks');
      }
      this.#current = { path: r.path, size: r.size, mtimeMs: r.mtime_ms, sha256: r.sha256.toLowerCase(), probe, working };
    }
    return this.#current;
  }

  put(file: SourceFile, probe: SourceProbe, working: WorkingGeometry): void {
    const f = parseArg(sourceFileSchema, file, 'source file');
    const p = parseArg(sourceProbeSchema, probe, 'source probe');
    const w = parseArg(workingGeometrySchema, working, 'working geometry');
    this.#write.run(f.path, f.size, f.mtimeMs, f.sha256, JSON.stringify(p), JSON.stringify(w));
    this.#current = null;
  }

  relocate(path: string, mtimeMs: number): void {
    this.#relocate.run(path, mtimeMs);
    this.#current = null;
  }

  setWorking(working: WorkingGeometry): void {
    this.#setWorking.run(JSON.stringify(parseArg(workingGeometrySchema, working, 'working geometry')));
    this.#current = null;
  }
}
