// The one way media code runs ffmpeg/ffprobe: an argument array (no shell), a bounded stderr
// tail for messages, SIGKILL on abort, exit statuses mapped to MediaError, and (on Linux) a child
// that dies with its parent.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Writable } from 'node:stream';
import path from 'node:path';
import { MediaError, cancelledError } from './errors.ts';
import { FFMPEG_FIX } from './locate.ts';

const STDERR_TAIL_BYTES = 8192;
const OUTPUT_WRITE_FAILED = /Error writing trailer|Error closing file|av_interleaved_write_frame\(\)|No space left on device/;

export interface ToolFailure {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
}

export interface ToolOptions {
  /** What the artist asked for, used in messages: "Reading 'clip.mp4'". */
  what: string;
  signal?: AbortSignal;
  /** 'pipe' exposes `stdin` on the handle (for feeding raw frames). */
  stdin?: 'ignore' | 'pipe';
  /** Streams stdout; a returned promise pauses reading until it settles (backpressure). */
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  /** Collect stdout into `RunResult.stdout` (for small outputs such as ffprobe JSON). */
  collectStdout?: boolean;
  /** Turn a non-zero exit into a specific error; return undefined for the generic one. */
  mapFailure?: (failure: ToolFailure) => MediaError | undefined;
}

export interface RunResult {
  stdout: Buffer;
  stderrTail: string;
}

export interface RunningTool {
  readonly pid: number | undefined;
  /** Present when `stdin: 'pipe'`; write errors (EPIPE after ffmpeg died) are swallowed, the exit status tells. */
  readonly stdin: Writable | null;
  /** Settles once the process has exited and its output has been consumed. */
  readonly done: Promise<RunResult>;
  /** Kill now; `done` then rejects with `reason` (CANCELLED by default). */
  kill(reason?: Error): void;
}

/** The tool's last lines of stderr, joined into one line: an error message stays one line long. */
export function lastLines(text: string, count = 3): string {
  return text.trim().split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '').slice(-count).join(' / ');
}

export function isDiskFull(stderr: string): boolean {
  return /No space left on device|ENOSPC/i.test(stderr);
}

const SETPRIV = '/usr/bin/setpriv';
/** setpriv's own exit statuses when it cannot exec the command (util-linux: 127 not found, 126 other). */
const SETPRIV_EXEC_FAILED = /^setpriv: failed to execute/m;
let setprivAvailable: boolean | null = null;

/**
 * A SIGKILLed Node process cannot clean up after itself, so an ffmpeg it started would keep running
 * (and keep writing a temp file) for seconds or for ever. Linux can have the kernel kill the child
 * when its parent dies (prctl PR_SET_PDEATHSIG), but Node has no prctl; util-linux's setpriv sets it
 * and then execs the tool in place (same PID, same stdio). Without setpriv, spawn as before.
 * The signal fires when the spawning *thread* ends: tools started from a worker die with the worker.
 */
export function deathSignalWrapper(): string[] {
  if (setprivAvailable === null) {
    try {
      accessSync(SETPRIV, constants.X_OK);
      setprivAvailable = process.platform === 'linux';
    } catch {
      setprivAvailable = false;
    }
  }
  return setprivAvailable ? [SETPRIV, '--pdeathsig', 'KILL', '--'] : [];
}

export function spawnTool(bin: string, args: readonly string[], options: ToolOptions): RunningTool {
  const { what, signal } = options;
  const wrapper = deathSignalWrapper();
  const command = [...wrapper, bin, ...args];
  const child = spawn(command[0]!, command.slice(1), {
    stdio: [options.stdin === 'pipe' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  let stderrTail = '';
  const stdoutChunks: Buffer[] = [];
  let killReason: Error | null = null;
  let readerError: unknown = null;

  const kill = (reason?: Error): void => {
    if (killReason === null) killReason = reason ?? cancelledError(what);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onAbort = (): void => kill();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) kill();

  child.stdin?.on('error', () => {});
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderrTail = (stderrTail + text).slice(-STDERR_TAIL_BYTES);
  });

  const reader = (async () => {
    try {
      for await (const chunk of (child.stdout ?? []) as AsyncIterable<Buffer>) {
        if (options.collectStdout) stdoutChunks.push(chunk);
        if (options.onStdout) await options.onStdout(chunk);
      }
    } catch (err) {
      readerError = err;
      kill(err instanceof Error ? err : new Error(String(err)));
    }
  })();

  const notFound = (reason: string, cause?: unknown): MediaError =>
    new MediaError('FFMPEG_NOT_FOUND', `Could not start ${path.basename(bin)} (${bin}): ${reason}. ${FFMPEG_FIX}`, { cause });
  const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => reject(notFound(err.code ?? err.message, err)));
    child.once('close', (code, sig) => resolve({ code, sig }));
  });

  const done = (async (): Promise<RunResult> => {
    try {
      const { code, sig } = await exited;
      await reader;
      if (killReason !== null) throw readerError ?? killReason;
      // Through setpriv a missing tool is an exit status, not a spawn error: say the same thing.
      if (wrapper.length > 0 && (code === 127 || code === 126) && SETPRIV_EXEC_FAILED.test(stderrTail)) {
        throw notFound(code === 127 ? 'ENOENT' : 'EACCES');
      }
      // ffmpeg 5 exits 0 even when writing its output failed (e.g. ENOSPC on the trailer), so look.
      if (code === 0 && !OUTPUT_WRITE_FAILED.test(stderrTail)) return { stdout: Buffer.concat(stdoutChunks), stderrTail };
      const failure: ToolFailure = { exitCode: code, signal: sig, stderrTail };
      if (isDiskFull(stderrTail)) {
        throw new MediaError('DISK_FULL', `${what} failed: the disk is full. Free some space and try again.`);
      }
      const mapped = options.mapFailure?.(failure);
      if (mapped) throw mapped;
      const status = sig ? `was stopped by ${sig}` : code === 0 ? 'could not write its output' : `exited with status ${code}`;
      const detail = lastLines(stderrTail);
      throw new MediaError('FFMPEG_FAILED', `${what} failed: ${path.basename(bin)} ${status}${detail ? `: ${detail}` : '.'}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  })();
  // Callers that only kill() must not trip an unhandled rejection before they await.
  done.catch(() => {});

  return { pid: child.pid, stdin: child.stdin, done, kill };
}

export function runTool(bin: string, args: readonly string[], options: ToolOptions): Promise<RunResult> {
  return spawnTool(bin, args, options).done;
}
