// The file format: an application_id that marks a SQLite file as a Rerender Studio project, and a
// numbered list of migrations whose count is the schema version (PRAGMA user_version).
// Never edit a shipped migration; append a new one.
import type Database from 'better-sqlite3';

/** 'RRND' in ASCII; lives at byte 68 of the SQLite header. */
export const APPLICATION_ID = 0x52524e44;

export interface Migration {
  version: number;
  description: string;
  up: (db: Database.Database) => void;
}

// BLOBs versus side files: everything needed to reopen the project and re-export it (key frame
// images and masks, every rendered frame) lives in this one file as PNG BLOBs, so a project can be
// copied or mailed as a single file. Large data that can be recomputed from the source (optical
// flow, thumbnail strips, edge maps) goes in `cache`, which may be emptied at any time.
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'initial schema',
    up: (db) => {
      db.exec(`
        CREATE TABLE meta (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) STRICT;

        CREATE TABLE settings (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          json TEXT NOT NULL,
          updated_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE source (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          path TEXT NOT NULL,
          size INTEGER NOT NULL,
          mtime_ms REAL NOT NULL,
          sha256 TEXT NOT NULL,
          probe TEXT NOT NULL,
          working TEXT NOT NULL
        ) STRICT;

        CREATE TABLE keyframes (
          frame INTEGER PRIMARY KEY CHECK (frame >= 0),
          image BLOB,
          origin TEXT CHECK (origin IN ('edited', 'translated')),
          params_hash TEXT,
          mask BLOB,
          prompt TEXT,
          updated_at TEXT NOT NULL,
          CHECK ((image IS NULL) = (origin IS NULL))
        ) STRICT;

        CREATE TABLE renders (
          frame INTEGER PRIMARY KEY CHECK (frame >= 0),
          image BLOB NOT NULL,
          run_id TEXT NOT NULL,
          params_hash TEXT NOT NULL,
          created_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE jobs (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
          done INTEGER NOT NULL DEFAULT 0,
          total INTEGER NOT NULL DEFAULT 0,
          params TEXT NOT NULL DEFAULT '{}',
          error TEXT,
          device TEXT,
          note TEXT,
          created_at TEXT NOT NULL,
          started_at TEXT,
          finished_at TEXT
        ) STRICT;

        CREATE TABLE cache (
          kind TEXT NOT NULL,
          key TEXT NOT NULL,
          data BLOB NOT NULL,
          meta TEXT,
          created_at TEXT NOT NULL,
          PRIMARY KEY (kind, key)
        ) STRICT;
      `);
    },
  },
  {
    version: 2,
    // Resuming a propagation asks "which frames are already rendered with these parameters?".
    description: 'index renders by parameters hash',
    up: (db) => {
      db.exec('CREATE INDEX renders_by_params ON renders (params_hash, frame)');
    },
  },
  {
    version: 3,
    // Export jobs report the file they wrote (JobInfo.output); listing jobs is newest first.
    description: 'jobs output path and creation-order index',
    up: (db) => {
      db.exec(`
        ALTER TABLE jobs ADD COLUMN output TEXT;
        CREATE INDEX jobs_by_created ON jobs (created_at);
      `);
    },
  },
  {
    version: 4,
    // Where the source video cuts to another shot, found once when the project is made (or on the
    // first need, for projects made before): propagation never crosses a cut. No row means "not yet
    // looked for", which is not the same as "no cuts" (a row with an empty list).
    description: 'shot cuts of the source video',
    up: (db) => {
      db.exec(`
        CREATE TABLE shot_cuts (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          frames TEXT NOT NULL,
          method TEXT NOT NULL,
          detected_at TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
  {
    version: 5,
    // Undo/redo kept with the project (edit-history.ts). A step holds the before and after state of
    // what it touched as JSON; the images and masks it names live once each in edit_blobs, keyed by
    // their sha256, and edit_step_blobs says which steps still need which blob. `done` = 0 marks
    // the redo branch.
    description: 'edit history (undo/redo)',
    up: (db) => {
      db.exec(`
        CREATE TABLE edit_steps (
          id INTEGER PRIMARY KEY,
          label TEXT NOT NULL,
          merge_key TEXT,
          done INTEGER NOT NULL CHECK (done IN (0, 1)),
          before TEXT NOT NULL,
          after TEXT NOT NULL,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE edit_blobs (
          hash TEXT PRIMARY KEY,
          data BLOB NOT NULL,
          size INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE edit_step_blobs (
          step INTEGER NOT NULL,
          hash TEXT NOT NULL,
          PRIMARY KEY (step, hash)
        ) STRICT;
        CREATE INDEX edit_step_blobs_by_hash ON edit_step_blobs (hash);
      `);
    },
  },
];

/** The schema version this build writes and the newest it can read. */
export const SCHEMA_VERSION: number = migrations.length;

/** Applies every migration above `from`, each in its own transaction with its version bump. */
export function migrate(db: Database.Database, from: number, to: number = SCHEMA_VERSION): void {
  for (const m of migrations) {
    if (m.version <= from || m.version > to) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
