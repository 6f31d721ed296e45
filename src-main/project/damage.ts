// Telling a damaged project file from a bug: SQLite's own corruption errors, and the wording of the
// DAMAGED error a command reports (what is damaged, what the file still holds).
import { ProjectError } from './errors.ts';

/** SQLite result codes that mean the file's bytes are wrong (not a busy file or a full disk). */
const DAMAGE_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_FORMAT', 'SQLITE_IOERR_SHORT_READ']);

export function isSqliteDamage(err: unknown): boolean {
  if (!(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') return false;
  if (err.code.startsWith('SQLITE_CORRUPT') || DAMAGE_CODES.has(err.code)) return true;
  // The schema its version promises is not there: damaged schema text (a flipped byte in a table's
  // CREATE statement), not a bug, since migrations always build the whole schema. An INSERT names
  // a column the damaged text lost as "table t has no column named c".
  return err.code === 'SQLITE_ERROR' && /^(no such (table|column)\b|table \S+ has no column named\b)/.test(err.message);
}

/** The DAMAGED error for an SQLite corruption error met while reading `file`. */
export function sqliteDamage(file: string, err: Error): ProjectError {
  return new ProjectError(
    'DAMAGED',
    // SQLite quotes damaged schema text, newlines and all: the message stays one line.
    `${file} is damaged: SQLite reports "${err.message.replace(/\s+/g, ' ')}" (${(err as Error & { code: string }).code}). ` +
      'Keep a copy of the file; the parts SQLite can still read may be recovered with `sqlite3 <file> .recover`.',
    { cause: err },
  );
}

/** Runs `fn`, turning SQLite corruption errors into DAMAGED. */
export function guardDamage<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isSqliteDamage(err)) throw sqliteDamage(file, err as Error);
    throw err;
  }
}
