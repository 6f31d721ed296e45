// Runs lock-holder.ts in a child process: another process that has a project open for writing.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const NODE = path.resolve(import.meta.dirname, '../../node_modules/.bin/node');
const HOLDER = path.join(import.meta.dirname, 'lock-holder.ts');

export interface Holder {
  pid: number;
  jobId: string;
  /** Closes the project cleanly (releasing the lock) and waits for the child to exit. */
  release(): Promise<void>;
  /** SIGKILL: the lock file stays behind, as after a crash. */
  kill(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export function holdProject(file: string, label: string): Promise<Holder> {
  const child = spawn(NODE, [HOLDER, file, label], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code}): ${err}`)));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^ready (\S+)\n/.exec(out);
      if (!m) return;
      child.removeAllListeners('exit');
      resolve({
        pid: child.pid!,
        jobId: m[1]!,
        release: async () => {
          child.stdin.end();
          await exited(child);
        },
        kill: async () => {
          child.kill('SIGKILL');
          await exited(child);
        },
      });
    });
  });
}
