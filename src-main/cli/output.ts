// How the CLI talks: a progress bar with ETA on a terminal, plain lines in logs, or JSON lines
// (`--json`) for machines. Results go to stdout, everything human to stderr.
import type { Progress } from '../jobs/progress.ts';
import { formatDuration } from '../jobs/format.ts';

export interface CliStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface Output {
  readonly json: boolean;
  progress(p: Progress): void;
  info(message: string): void;
  warn(message: string): void;
  result(data: Record<string, unknown>, human: string): void;
  error(code: string, message: string): void;
  /** Ends a progress line so following text starts on a fresh line. */
  finish(): void;
}

const BAR_WIDTH = 28;
const LOG_INTERVAL_MS = 2000;

export function createOutput(streams: CliStreams, json: boolean, now: () => number = () => Date.now()): Output {
  const tty = !json && streams.stderr.isTTY === true;
  let barShown = false;
  let lastLog = -Infinity;
  let lastStage = '';

  const clearBar = (): void => {
    if (barShown) {
      streams.stderr.write('\n');
      barShown = false;
    }
  };
  const line = (p: Progress): string => {
    const pct = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
    return `${p.stage} ${p.done}/${p.total} ${pct}% ETA ${formatDuration(p.etaSeconds)}`;
  };

  return {
    json,
    progress(p) {
      if (json) {
        streams.stdout.write(JSON.stringify({ type: 'progress', ...p }) + '\n');
        return;
      }
      if (tty) {
        const filled = p.total > 0 ? Math.round((BAR_WIDTH * p.done) / p.total) : BAR_WIDTH;
        const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
        streams.stderr.write(`\r\x1b[2K[${bar}] ${line(p)}`);
        barShown = true;
        return;
      }
      // Not a terminal (a log file, CI): a line every few seconds, on stage changes, and at the end.
      const t = now();
      if (p.stage !== lastStage || p.done === p.total || t - lastLog >= LOG_INTERVAL_MS) {
        streams.stderr.write(line(p) + '\n');
        lastLog = t;
        lastStage = p.stage;
      }
    },
    info(message) {
      if (json) streams.stdout.write(JSON.stringify({ type: 'info', message }) + '\n');
      else {
        clearBar();
        streams.stderr.write(message + '\n');
      }
    },
    warn(message) {
      if (json) streams.stdout.write(JSON.stringify({ type: 'warning', message }) + '\n');
      else {
        clearBar();
        streams.stderr.write(`warning: ${message}\n`);
      }
    },
    result(data, human) {
      if (json) streams.stdout.write(JSON.stringify({ type: 'result', ...data }) + '\n');
      else {
        clearBar();
        streams.stdout.write(human + (human.endsWith('\n') ? '' : '\n'));
      }
    },
    error(code, message) {
      if (json) streams.stdout.write(JSON.stringify({ type: 'error', code, message }) + '\n');
      else {
        clearBar();
        streams.stderr.write(`error: ${message}\n`);
      }
    },
    finish() {
      clearBar();
    },
  };
}
