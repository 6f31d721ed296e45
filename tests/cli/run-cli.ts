// Runs the CLI in-process with captured output, as a user would from a shell.
import { PassThrough } from 'node:stream';
import { main } from '../../src-main/cli/main.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  opts: { cwd?: string; signal?: AbortSignal; env?: Record<string, string | undefined>; onStdout?: (text: string) => void } = {},
): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => {
    out += c.toString();
    opts.onStdout?.(out);
  });
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main(args, { streams: { stdout, stderr }, cwd: opts.cwd, env: opts.env ?? process.env, signal: opts.signal ?? new AbortController().signal });
  return { code, stdout: out, stderr: err };
}

export function jsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
