// The torch side as seen from Node: torch_side.py in a child process, one JSON request and
// reply a line. Python is tooling only, so every way it can be missing ends in a reason to
// print, never in a crash of the benchmark.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { OpName, Side, Timing } from './ops.ts';

const SCRIPT = fileURLToPath(new URL('./torch_side.py', import.meta.url));

interface Reply { ok: boolean; ms?: number; cpu_ms?: number; rss_kb?: number; error?: string; ready?: boolean; threads?: number }

export class TorchSide implements Side {
  readonly name = 'torch (diffusers, CPU)';
  private rssKb = 0;
  private readonly replies: Reply[] = [];
  private waiter: ((r: Reply) => void) | null = null;
  private exited: string | null = null;

  private readonly child: ChildProcessWithoutNullStreams;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.child = child;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let reply: Reply;
      try { reply = JSON.parse(line) as Reply; } catch { process.stderr.write(`[torch stdout] ${line}\n`); return; }
      if (this.waiter) { const w = this.waiter; this.waiter = null; w(reply); } else this.replies.push(reply);
    });
    child.stderr.on('data', (d: Buffer) => { if (process.env['CVT_VERBOSE']) process.stderr.write(d); });
    child.on('exit', (code, signal) => {
      this.exited = code === 3 ? 'torch, diffusers or safetensors is not installed for this Python' : `torch side exited (code ${code}, signal ${signal})`;
      if (this.waiter) { const w = this.waiter; this.waiter = null; w({ ok: false, error: this.exited }); }
    });
  }

  /** Starts the torch side and waits until its models are loaded; a string says why it could not. */
  static async start(python: string, weights: string, inputs: string, threads: number): Promise<TorchSide | string> {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(python, [SCRIPT, '--weights', weights, '--inputs', inputs, '--threads', String(threads)], { stdio: 'pipe' });
    } catch (err) {
      return `cannot start ${python}: ${(err as Error).message}`;
    }
    const spawned = await new Promise<string | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (err) => resolve(`cannot start ${python}: ${err.message}`));
    });
    if (spawned) return spawned;
    const side = new TorchSide(child);
    const ready = await side.next();
    if (!ready.ok) { child.kill(); return ready.error ?? 'torch side failed to start'; }
    side.rssKb = ready.rss_kb ?? 0;
    return side;
  }

  private next(): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.exited) return Promise.resolve({ ok: false, error: this.exited });
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  private async request(req: Record<string, unknown>): Promise<Reply> {
    if (this.exited) throw new Error(this.exited);
    this.child.stdin.write(`${JSON.stringify(req)}\n`);
    const r = await this.next();
    if (!r.ok) throw new Error(`torch side: ${r.error}`);
    if (r.rss_kb) this.rssKb = Math.max(this.rssKb, r.rss_kb);
    return r;
  }

  async run(op: OpName): Promise<Timing> {
    const r = await this.request({ op });
    return { ms: r.ms!, cpuMs: r.cpu_ms ?? Number.NaN };
  }

  /** Writes the outputs of the latest runs to a safetensors file (for the agreement check). */
  async save(path: string): Promise<void> {
    await this.request({ op: 'save', path });
  }

  peakRssKb(): Promise<number> {
    return Promise.resolve(this.rssKb);
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    await done;
  }
}
