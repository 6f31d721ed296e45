// Atomic creation of a project file: everything is built in a temp file next to the target
// (same folder, so the final rename is atomic), then published in one step. A failure at any point
// leaves no target and no temp file; a temp left by a killed process is swept on the next create.
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { closeConnection, createConnection } from './connection.ts';
import { ProjectError } from './errors.ts';

const SIDE_FILES = ['', '-wal', '-shm', '-journal'];

export function tempPathFor(target: string, pid: number = process.pid): string {
  return `${target}.tmp-${pid}`;
}

/** Builds a new project at `target` with `build` (run in one transaction), or throws leaving nothing behind. */
export function createProjectFile(
  target: string,
  build: (db: Database.Database) => void,
  overwrite: boolean,
): void {
  assertFree(target, overwrite);
  sweepStaleTemps(target);
  const tmp = tempPathFor(target);
  removeWithSideFiles(tmp);
  let db: Database.Database | null = null;
  try {
    db = createConnection(tmp);
    db.transaction(build).immediate(db);
    closeConnection(db);
    fsyncPath(tmp);
    publish(tmp, target, overwrite);
    fsyncPath(path.dirname(target));
  } catch (err) {
    if (db?.open) db.close();
    removeWithSideFiles(tmp);
    throw err;
  }
}

function assertFree(target: string, overwrite: boolean): void {
  let st;
  try {
    st = statSync(target);
  } catch {
    return;
  }
  if (st.isDirectory()) throw new ProjectError('EXISTS', `${target} is a folder`);
  if (!overwrite) throw new ProjectError('EXISTS', `A file already exists at ${target}`);
}

function publish(tmp: string, target: string, overwrite: boolean): void {
  // WAL/SHM files of whatever was (or used to be) at the target would be replayed onto the new file.
  for (const side of SIDE_FILES.slice(1)) rmSync(target + side, { force: true });
  if (overwrite) {
    renameSync(tmp, target);
    return;
  }
  // link() fails if the target exists, closing the race between the check above and now.
  try {
    linkSync(tmp, target);
    unlinkSync(tmp);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ProjectError('EXISTS', `A file already exists at ${target}`, { cause: err });
    // File systems without hard links (FAT, some network shares): check, then rename.
    if (existsSync(target)) throw new ProjectError('EXISTS', `A file already exists at ${target}`, { cause: err });
    renameSync(tmp, target);
  }
}

function removeWithSideFiles(file: string): void {
  for (const side of SIDE_FILES) rmSync(file + side, { force: true });
}

/** Removes `<target>.tmp-<pid>` files whose process is gone. */
function sweepStaleTemps(target: string): void {
  const dir = path.dirname(target);
  const prefix = `${path.basename(target)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)(-wal|-shm|-journal)?$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && !isAlive(pid)) rmSync(path.join(dir, name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync a file or folder; platforms that cannot fsync a folder (Windows) skip that step. */
function fsyncPath(p: string): void {
  let fd: number;
  try {
    fd = openSync(p, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EISDIR/EPERM on folders where unsupported; the data itself was fsynced by SQLite.
  } finally {
    closeSync(fd);
  }
}
