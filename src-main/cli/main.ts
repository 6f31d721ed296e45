// `rerender`: the headless CLI over the same services as the desktop app.
import { pathToFileURL } from 'node:url';
import { createOutput, type CliStreams } from './output.ts';
import { UsageError, type Command, type CliContext } from './command.ts';
import { EXIT, EXIT_CODE_HELP } from './exit-codes.ts';
import { errorCode, errorMessage, exitCodeFor } from './errors.ts';
import { commands } from './commands/index.ts';

function help(list: readonly Command[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    'rerender: re-render a whole video from key frames, from the command line.',
    '',
    'Usage: rerender <command> [options]   (add --json for JSON lines on stdout)',
    '',
    'Commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `rerender <command> --help` for a command\'s options. Frame numbers are 0-based.',
    '',
    EXIT_CODE_HELP,
  ].join('\n');
}

export interface MainOptions {
  streams?: CliStreams;
  env?: Record<string, string | undefined>;
  cwd?: string;
  signal?: AbortSignal;
}

export async function main(argv: string[], opts: MainOptions = {}): Promise<number> {
  const streams = opts.streams ?? { stdout: process.stdout, stderr: process.stderr };
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const out = createOutput(streams, json);
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    streams.stdout.write(help(commands) + '\n');
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    streams.stdout.write('rerender 0.1.0\n');
    return EXIT.ok;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    out.error('USAGE', `unknown command '${name}'. Commands: ${commands.map((c) => c.name).join(', ')}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    streams.stdout.write(cmd.usage + '\n');
    return EXIT.ok;
  }

  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  // A reader that went away (`rerender … | head`) stops the work like Ctrl+C instead of crashing
  // on EPIPE; whatever was finished stays stored.
  const onStreamError = (e: NodeJS.ErrnoException): void => {
    if (e.code !== 'EPIPE') throw e;
    controller.abort();
  };
  streams.stdout.on('error', onStreamError);
  streams.stderr.on('error', onStreamError);
  const ownSignals = opts.signal === undefined;
  if (ownSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  } else opts.signal?.addEventListener('abort', onSignal, { once: true });
  const ctx: CliContext = { out, signal: controller.signal, env: opts.env ?? process.env, cwd: opts.cwd ?? process.cwd() };
  try {
    await cmd.run(ctx, rest);
    out.finish();
    return EXIT.ok;
  } catch (e) {
    out.finish();
    const code = exitCodeFor(e);
    const message = errorMessage(e);
    if (code === EXIT.cancelled) out.error('CANCELLED', 'cancelled; finished frames are kept, run the same command again to resume');
    else if (code === EXIT.internal) out.error(errorCode(e), `${message}${e instanceof Error && e.stack ? `\n${e.stack}` : ''}`);
    else out.error(errorCode(e), message);
    if (code === EXIT.usage) streams.stderr.write(`\n${cmd.usage}\n`);
    return code;
  } finally {
    // The error listeners stay: a late write (the final error line) can still hit the closed pipe.
    if (ownSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

export { UsageError };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
