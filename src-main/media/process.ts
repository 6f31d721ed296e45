// The one way media code runs ffmpeg/ffprobe: an argument array (no shell), a bounded stderr
// tail for messages, SIGKILL on abort, and exit statuses mapped to MediaError.
import { spawn } from 'node:child_process';
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

export function lastLines(text: string, count = 3): string {
  return text.trim().split(/\r?\n/).filter((l) => l.trim() !== '').slice(-count).join('\n');
}

export function isDiskFull(stderr: string): boolean {
  return /No space left on device|ENOSPC/i.test(stderr);
}

export function spawnTool(bin: string, args: readonly string[], options: ToolOptions): RunningTool {
  const { what, signal } = options;
  const child = spawn(bin, [...args], {
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

  const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(new MediaError(
        'FFMPEG_NOT_FOUND',
        `Could not start ${path.basename(bin)} (${bin}): ${err.code ?? err.message}. ${FFMPEG_FIX}`,
        { cause: err },
      ));
    });
    child.once('close', (code, sig) => resolve({ code, sig }));
  });

  const done = (async (): Promise<RunResult> => {
    try {
      const { code, sig } = await exited;
      await reader;
      if (killReason !== null) throw readerError ?? killReason;
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
      throw new MediaError('FFMPEG_FAILED', `${what} failed: ${path.basename(bin)} ${status}${detail ? `:\n${detail}` : '.'}`);
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
