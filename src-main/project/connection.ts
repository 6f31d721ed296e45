// Opening and closing the SQLite connection of a project file, with the identity and version checks
// done before anything could write to the file.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { guardDamage } from './damage.ts';
import { ProjectError } from './errors.ts';
import { APPLICATION_ID, SCHEMA_VERSION, migrate } from './schema.ts';

const SQLITE_MAGIC = 'SQLite format 3\0';
const BUSY_TIMEOUT_MS = 5000;

interface Header {
  userVersion: number;
  applicationId: number;
}

interface FileHeader extends Header {
  /** Bytes the header says the database has, or null when that count is not known to be valid. */
  expectedSize: number | null;
  size: number;
}

/**
 * Reads the 100-byte SQLite header straight from disk, so a foreign file (not SQLite, or another
 * program's database) is refused without SQLite ever opening it, recovering a journal in it, or
 * leaving -wal/-shm files next to it.
 */
function readHeader(file: string): FileHeader {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ProjectError('NOT_FOUND', `No project file at ${file}`, { cause: err });
    }
    throw err;
  }
  if (!st.isFile()) throw new ProjectError('NOT_A_PROJECT', `${file} is not a file`);
  const buf = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  let n: number;
  try {
    n = readSync(fd, buf, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (n > 0 && n < 100 && SQLITE_MAGIC.startsWith(buf.toString('latin1', 0, Math.min(n, 16)))) {
    throw new ProjectError('DAMAGED', `${file} is damaged: it was cut off after ${n} bytes, inside its header; nothing in it can be read`);
  }
  if (n < 100 || buf.toString('latin1', 0, 16) !== SQLITE_MAGIC) {
    throw new ProjectError('NOT_A_PROJECT', `${file} is not a Rerender Studio project (not an SQLite file)`);
  }
  // Page size (1 means 65536) times the page count, valid when the "version valid for" matches the change counter.
  const pageSize = buf.readUInt16BE(16) === 1 ? 65536 : buf.readUInt16BE(16);
  const pageCount = buf.readUInt32BE(28);
  const countValid = buf.readUInt32BE(92) === buf.readUInt32BE(24) && pageCount > 0;
  return {
    userVersion: buf.readInt32BE(60),
    applicationId: buf.readInt32BE(68),
    expectedSize: countValid ? pageSize * pageCount : null,
    size: st.size,
  };
}

/**
 * A file shorter than its header says was cut off (a copy or download that stopped). Only judged
 * without a WAL beside it: a checkpoint killed midway can leave the header ahead of the pages, and
 * the WAL then still holds them.
 */
function checkLength(file: string, h: FileHeader): void {
  if (h.expectedSize === null || h.size >= h.expectedSize) return;
  let walSize = 0;
  try {
    walSize = statSync(`${file}-wal`).size;
  } catch {
    // no WAL
  }
  if (walSize > 0) return;
  throw new ProjectError(
    'DAMAGED',
    `${file} is damaged: it is cut off (${h.size} bytes where its header says ${h.expectedSize}); ` +
      'the copy or download that made it probably stopped early. Use the original file if you still have it.',
  );
}

function checkIdentity(file: string, h: Header): void {
  if (h.applicationId !== APPLICATION_ID) {
    throw new ProjectError(
      'NOT_A_PROJECT',
      `${file} is an SQLite database of another program, not a Rerender Studio project`,
    );
  }
  if (h.userVersion > SCHEMA_VERSION) {
    throw new ProjectError(
      'NEWER_VERSION',
      `${file} was made by a newer Rerender Studio (schema v${h.userVersion}); ` +
        `this build reads up to v${SCHEMA_VERSION}; update the app`,
    );
  }
  if (h.userVersion < 1) {
    throw new ProjectError('NOT_A_PROJECT', `${file} is marked as a project but has no schema`);
  }
}

/**
 * Connection settings. Durability: synchronous=FULL. In WAL mode NORMAL already survives a killed
 * process (a commit is in the OS page cache once write() returns), but can lose the last commits on
 * power loss or a kernel crash. FULL fsyncs the WAL at every commit, so a frame reported done stays
 * done even then; it costs one fsync per commit, which is nothing next to the seconds a rendered
 * frame takes. Batch writers (putRenders, cache fills) pay it once per transaction.
 */
function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
}

/** The checks made from the file's bytes alone, before SQLite opens it. */
export function inspectFile(file: string): void {
  const header = readHeader(file);
  checkIdentity(file, header);
  checkLength(file, header);
}

/**
 * Opens an existing project file: identity and version checks, then migrations up to this build's
 * schema. Read-only: SQLite opens the file read-only and nothing is migrated; a file that needs a
 * migration is refused with NEEDS_UPGRADE. SQLite corruption errors become DAMAGED.
 */
export function openConnection(file: string, opts: { readOnly?: boolean } = {}): Database.Database {
  const readOnly = opts.readOnly === true;
  inspectFile(file);
  return guardDamage(file, () => {
    const db = new Database(file, { fileMustExist: true, readonly: readOnly });
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // Again through SQLite: after a crash, a migration may be committed in the WAL but not yet in the header.
      const userVersion = db.pragma('user_version', { simple: true }) as number;
      const applicationId = db.pragma('application_id', { simple: true }) as number;
      checkIdentity(file, { userVersion, applicationId });
      if (readOnly) {
        if (userVersion < SCHEMA_VERSION) {
          throw new ProjectError(
            'NEEDS_UPGRADE',
            `${file} was made by an older Rerender Studio (schema v${userVersion}) and must be upgraded to v${SCHEMA_VERSION} ` +
              'before it can be read without writing; open it once for writing (the editor, or any command that changes it)',
          );
        }
        db.pragma('foreign_keys = ON');
        return db;
      }
      configure(db);
      migrate(db, userVersion);
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  });
}

/** Makes a brand-new project database at `file` (which must not exist) with the full schema. */
export function createConnection(file: string): Database.Database {
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    configure(db);
    migrate(db, 0);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Folds the WAL back into the main file and closes, so the .rrproj stands alone (no -wal, no -shm). */
export function closeConnection(db: Database.Database): void {
  if (!db.open) return;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}
