// What every `rerender` subcommand gets and provides.
import type { Output } from './output.ts';
import { CodedError } from '../errors.ts';

export interface CliContext {
  out: Output;
  signal: AbortSignal;
  env: Record<string, string | undefined>;
  cwd: string;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(ctx: CliContext, argv: string[]): Promise<void>;
}

/** A command-line mistake: exit code 2 and the command's usage. */
export class UsageError extends CodedError<'USAGE'> {
  constructor(message: string) {
    super('USAGE', message);
  }
}
