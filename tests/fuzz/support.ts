// Shared fuzz machinery: outcome classification, bounded CLI runs (in-process and as a child),
// and the "project intact, nothing left behind" checks every case ends with.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Project } from '../../src-main/project/index.ts';
import { runCli, type CliRun } from '../cli/run-cli.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'src-main', 'cli', 'main.ts');

/** The columns of the report: every failing case lands in exactly one. */
export type Failure = 'crash' | 'hang' | 'exit1' | 'lost' | 'other';

export class CaseFailure extends Error {
  readonly failure: Failure;
  constructor(failure: Failure, message: string) {
    super(`${failure}: ${message}`);
    this.failure = failure;
  }
}

export function fail(failure: Failure, message: string): never {
  throw new CaseFailure(failure, message);
}

/** A thrown value that is not a CaseFailure escaped the product code: a crash. */
export function classify(e: unknown): { failure: Failure; message: string } {
  if (e instanceof CaseFailure) return { failure: e.failure, message: e.message };
  return { failure: 'crash', message: `uncaught ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
}

export interface BoundedRun extends CliRun {
  ms: number;
}

/** The CLI in-process (cheap); a run past `timeoutMs` is aborted and reported as a hang. */
export async function cli(args: string[], timeoutMs = 15_000, cwd?: string): Promise<BoundedRun> {
  const controller = new AbortController();
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), timeoutMs);
  });
  let r: CliRun | 'hang';
  try {
    r = await Promise.race([runCli([...args, '--json'], { signal: controller.signal, cwd }), timeout]);
  } catch (e) {
    clearTimeout(timer);
    fail('crash', `main() rejected on ${args.join(' ')}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
  clearTimeout(timer);
  if (r === 'hang') {
    controller.abort();
    fail('hang', `${args.join(' ')} did not finish in ${timeoutMs} ms`);
  }
  return { ...r, ms: performance.now() - t0 };
}

/**
 * The exit contract: 0 (when `okAllowed`), else 2/3/4/130 with exactly one typed JSON error line
 * whose code is not INTERNAL; never 1.
 */
export function expectTypedExit(r: CliRun, what: string, okAllowed = true, allowed: readonly number[] = [2, 3, 4, 130]): void {
  const tail = `${what}: ${r.stderr.slice(0, 400)} ${r.stdout.slice(-400)}`;
  if (r.code === 1) fail('exit1', tail);
  if (r.code === 0) {
    if (!okAllowed) fail('other', `exit 0 where an error was expected; ${tail}`);
    return;
  }
  if (!allowed.includes(r.code)) fail('other', `exit ${r.code}; ${tail}`);
  const errors = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.type === 'error');
  if (errors.length !== 1) fail('other', `${errors.length} error lines; ${tail}`);
  const e = errors[0]!;
  if (typeof e.code !== 'string' || e.code === 'INTERNAL' || e.code === '') fail('other', `untyped error ${JSON.stringify(e)}`);
  if (typeof e.message !== 'string' || e.message.includes('\n')) fail('other', `error message is not one line: ${JSON.stringify(e.message).slice(0, 300)}`);
}

export function errorCodeOf(r: CliRun): string | null {
  for (const l of r.stdout.split('\n')) {
    if (!l.startsWith('{')) continue;
    const j = JSON.parse(l) as Record<string, unknown>;
    if (j.type === 'error') return String(j.code);
  }
  return null;
}

export function sha(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Frame -> hash of every stored render, read with plain SQLite from a copy in memory (no validation, nothing written next to the file). */
export function rawRenders(file: string): Map<number, string> {
  const bytes = readFileSync(file);
  // An in-memory copy cannot be in WAL mode: mark it a rollback-journal database (header bytes 18-19).
  if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) bytes[18] = bytes[19] = 1;
  const db = new Database(bytes);
  try {
    const rows = db.prepare('SELECT frame, image FROM renders').all() as { frame: number; image: Buffer }[];
    return new Map(rows.map((r) => [r.frame, sha(r.image)]));
  } finally {
    db.close();
  }
}

/** Frame -> hash of every stored render. */
export function renderDigest(file: string): Map<number, string> {
  const p = Project.open(file);
  try {
    const out = new Map<number, string>();
    for (const f of p.renderedFrames()) out.set(f, sha(p.getRender(f)!.image));
    return out;
  } finally {
    p.close();
  }
}

const LEFTOVER = [/\.partial/, /-wal$/, /-shm$/, /-journal$/];

/**
 * Files next to `file` that a finished command must not leave. Right after a SIGKILL (`afterKill`)
 * the dead writer's lock and temporaries are expected: the next run recovers or removes them.
 */
export function leftovers(dir: string, afterKill = false): string[] {
  const expected = (n: string): boolean => afterKill && (/\.partial/.test(n) || /\.lock$/.test(n));
  return readdirSync(dir).filter((n) => !expected(n) && (LEFTOVER.some((re) => re.test(n)) || /\.lock$/.test(n)));
}

/**
 * The project opens, passes PRAGMA integrity_check, and still holds every render of `before`
 * with the same bytes; nothing is left next to it.
 */
export function expectIntact(file: string, before: Map<number, string> | null, opts: { afterKill?: boolean } = {}): Map<number, string> {
  let p: Project;
  try {
    p = Project.open(file);
  } catch (e) {
    fail('lost', `${path.basename(file)} no longer opens: ${e instanceof Error ? e.message : String(e)}`);
  }
  let now: Map<number, string>;
  try {
    const ok = p.integrityCheck();
    if (ok !== 'ok') fail('lost', `integrity_check: ${ok}`);
    now = new Map(p.renderedFrames().map((f) => [f, sha(p.getRender(f)!.image)]));
  } finally {
    p.close();
  }
  for (const [f, h] of before ?? []) {
    if (now.get(f) !== h) fail('lost', `render ${f} ${now.has(f) ? 'changed' : 'is gone'}`);
  }
  const left = leftovers(path.dirname(file), opts.afterKill);
  if (left.length > 0) fail('lost', `left behind: ${left.join(', ')}`);
  return now;
}

export interface ChildRun {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed) and signal once the child has closed. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** JSON lines seen so far on stdout. */
  lines(): Record<string, unknown>[];
  /** Resolves when `pred` holds for the JSON lines so far (or the child ends: then false). */
  until(pred: (lines: Record<string, unknown>[]) => boolean): Promise<boolean>;
}

/** The real CLI as a child process (for kills and for two processes on one project). */
export function cliChild(args: string[], env: NodeJS.ProcessEnv = process.env): ChildRun {
  const child = spawn(process.execPath, [CLI, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const parsed = (): Record<string, unknown>[] =>
    out.slice(0, out.lastIndexOf('\n') + 1).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  let closed = false;
  void done.then(() => (closed = true));
  return {
    child,
    done,
    lines: parsed,
    until: (pred) =>
      new Promise<boolean>((resolve) => {
        const check = (): void => {
          if (pred(parsed())) resolve(true);
          else if (closed || child.exitCode !== null || child.signalCode !== null) resolve(false);
          else waiters.push(check);
        };
        check();
        void done.then(check);
      }),
  };
}

/** Bounds a promise: a hang becomes a CaseFailure instead of a stuck test run. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new CaseFailure('hang', `${what} took over ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function exists(file: string): boolean {
  return existsSync(file);
}
