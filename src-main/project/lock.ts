// One writer per project: a lock file beside it (`<file>.lock`) says who has it open for writing.
// Created atomically (O_EXCL), removed on close; a lock left by a process that died on this host is
// taken over automatically. A lock from another host cannot be checked, so it is only ever removed
// by hand.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProjectError } from './errors.ts';

export interface LockInfo {
  host: string;
  pid: number;
  /** ISO time the lock was taken. */
  since: string;
  /** Who holds it, for the person reading the error: 'rerender propagate', 'Rerender Studio editor'… */
  what: string;
}

/** A lock file whose JSON is not readable yet may be one being written this very moment. */
const UNREADABLE_GRACE_MS = 10_000;

export function lockPathFor(file: string): string {
  return `${file}.lock`;
}

/** What opened the project: 'rerender propagate' for the CLI, the editor inside Electron. */
export function defaultLockLabel(argv: readonly string[] = process.argv): string {
  if (process.versions.electron) return 'Rerender Studio editor';
  const script = argv[1] ?? '';
  const name = path.basename(script).replace(/\.[cm]?[jt]s$/, '');
  const folder = path.basename(path.dirname(script));
  if (name === 'rerender' || (name === 'main' && folder === 'cli')) return ['rerender', argv[2]].filter(Boolean).join(' ');
  if (name === 'main' && folder === 'serve') return 'Rerender Studio server';
  return name || path.basename(argv[0] ?? 'node');
}

export class ProjectLock {
  readonly path: string;
  readonly #text: string;
  #held = true;

  constructor(lockPath: string, text: string) {
    this.path = lockPath;
    this.#text = text;
  }

  get held(): boolean {
    return this.#held;
  }

  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (readRaw(this.path) === this.#text) rmSync(this.path, { force: true });
  }
}

/** Takes the lock of `file`, or throws IN_USE naming who holds it. */
export function acquireLock(file: string, what: string): ProjectLock {
  const lockPath = lockPathFor(file);
  const mine: LockInfo = { host: os.hostname(), pid: process.pid, since: new Date().toISOString(), what };
  const text = `${JSON.stringify(mine)}\n`;
  // A few rounds: the holder may release, or another opener may take over a stale lock, between steps.
  for (let round = 0; round < 5; round++) {
    if (tryCreate(lockPath, text)) return new ProjectLock(lockPath, text);
    const raw = readRaw(lockPath);
    if (raw === null) continue; // released in between
    const held = parseLock(raw);
    if (held === null) {
      if (Date.now() - mtimeMs(lockPath) < UNREADABLE_GRACE_MS) {
        throw new ProjectError('IN_USE', `${file} is being opened by another program (its lock file ${lockPath} is being written); try again in a moment`);
      }
    } else if (held.host !== mine.host || isAlive(held.pid)) {
      throw inUse(file, lockPath, held, mine.host);
    }
    // The holder died (or the lock is unreadable garbage): take over, atomically.
    if (takeOver(lockPath, raw, text)) return new ProjectLock(lockPath, text);
  }
  throw new ProjectError('IN_USE', `${file} is being opened by another program at the same time; try again`);
}

/** Who holds the lock of `file` now, or null. */
export function readLock(file: string): LockInfo | null {
  const raw = readRaw(lockPathFor(file));
  return raw === null ? null : parseLock(raw);
}

function tryCreate(lockPath: string, text: string): boolean {
  try {
    writeFileSync(lockPath, text, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Replaces a stale lock: the new one is written whole to a temp file and renamed over, then read back.
 * Two openers recovering the same stale lock at once: the later rename wins, and the earlier one
 * reads back the other's text and then sees a live holder on its next round. Only if the earlier one
 * reads back before the later one renames do both believe they hold it; that needs two programs to
 * open one crashed project within the same few microseconds.
 */
function takeOver(lockPath: string, staleRaw: string, text: string): boolean {
  const tmp = `${lockPath}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    if (readRaw(lockPath) !== staleRaw) return false;
    renameSync(tmp, lockPath);
  } finally {
    rmSync(tmp, { force: true });
  }
  return readRaw(lockPath) === text;
}

function inUse(file: string, lockPath: string, held: LockInfo, host: string): ProjectError {
  const who = `${held.what} (pid ${held.pid} on host ${held.host}) since ${held.since}`;
  if (held.host !== host) {
    return new ProjectError(
      'IN_USE',
      `${file} is in use by ${who}; close it there first. ` +
        `If nothing on ${held.host} has it open any more (that machine crashed), delete ${lockPath} by hand and try again.`,
    );
  }
  if (held.pid === process.pid) {
    return new ProjectError('IN_USE', `${file} is already open in this program (${held.what}) since ${held.since}; close it first`);
  }
  return new ProjectError('IN_USE', `${file} is in use by ${who}; close it there first`);
}

function parseLock(raw: string): LockInfo | null {
  try {
    const v = JSON.parse(raw) as Partial<LockInfo>;
    if (typeof v.host !== 'string' || !Number.isSafeInteger(v.pid) || (v.pid ?? 0) <= 0) return null;
    return { host: v.host, pid: v.pid!, since: String(v.since ?? 'an unknown time'), what: String(v.what ?? 'another program') };
  } catch {
    return null;
  }
}

function readRaw(lockPath: string): string | null {
  try {
    return readFileSync(lockPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function mtimeMs(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

/** EPERM: the process exists but belongs to another user, so it is alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
