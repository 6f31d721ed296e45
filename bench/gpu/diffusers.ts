// The diffusers column: bench/rerender/diffusers_keyframe.py (the same key frames through the
// reference implementation's sampler and fusion) when the machine's Python has torch with CUDA
// and diffusers, with a hard time limit.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Column } from './report.ts';

const SCRIPT = fileURLToPath(new URL('../rerender/diffusers_keyframe.py', import.meta.url));
const SKIPPED = 'skipped (time)';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runPython(python: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, onLine?: (line: string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(python, args, { env: { ...env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, Math.max(1, timeoutMs));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (onLine) for (const l of d.split('\n')) if (l.trim()) onLine(l);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const done = (code: number | null): void => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    };
    child.on('error', () => done(-1));
    child.on('close', done);
  });
}

/** 'cuda' or 'cpu' when torch and diffusers import (cuda when torch sees a GPU), else null with the reason. */
export async function probeDiffusers(python: string, env: NodeJS.ProcessEnv): Promise<{ device: 'cuda' | 'cpu' | null; reason: string }> {
  const r = await runPython(python, ['-c', 'import torch, diffusers; print("cuda" if torch.cuda.is_available() else "cpu")'], env, 90_000);
  const out = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code === 0 && (out === 'cuda' || out === 'cpu')) return { device: out, reason: '' };
  const why = r.timedOut ? 'timed out importing torch' : (r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`);
  return { device: null, reason: `${python}: ${why}` };
}

export interface DiffusersJob {
  python: string;
  env: NodeJS.ProcessEnv;
  device: 'cuda' | 'cpu';
  tiny: boolean;
  size: number;
  steps: number;
  timeoutMs: number;
  log: (line: string) => void;
}

/** Runs the script and turns its last line (JSON) into the table's column. */
export async function runDiffusers(job: DiffusersJob): Promise<Column> {
  const dtype = job.device === 'cuda' ? 'fp16' : 'fp32';
  const column: Column = { label: `diffusers ${job.device} ${dtype}`, figures: {}, notes: [] };
  const args = [SCRIPT, '--size', String(job.size), '--steps', String(job.steps), '--device', job.device, '--dtype', dtype, '--step-bench', String(job.tiny ? 3 : 10), ...(job.tiny ? ['--tiny'] : [])];
  const t0 = performance.now();
  const r = await runPython(job.python, args, job.env, job.timeoutMs, (l) => job.log(`  diffusers: ${l}`));
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, unknown> | null = null;
  try {
    json = last.startsWith('{') ? (JSON.parse(last) as Record<string, unknown>) : null;
  } catch {
    json = null;
  }
  const num = (k: string): number | undefined => (typeof json?.[k] === 'number' ? json[k] : undefined);
  if (!json) {
    const why = r.timedOut ? SKIPPED : `failed: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}`.slice(0, 200);
    for (const k of ['loadS', 'stepS', 'anchorS', 'keyframeS'] as const) column.figures[k] = why;
    column.notes.push(`diffusers: ${why} after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return column;
  }
  column.figures = {
    compileS: 'n/a (eager)',
    loadS: num('build_s') ?? 'n/a',
    stepS: num('step_s') ?? 'n/a',
    warmupS: json['warmup'] === true ? 'anchor, untimed' : 'none',
    anchorS: num('anchor_s') ?? 'n/a',
    keyframeS: num('later_s') ?? 'n/a',
    contextGiB: num('stored_contexts_gib') ?? 'n/a',
  };
  if (json['gpu']) column.notes.push(`diffusers: ${String(json['gpu'])}`);
  column.notes.push('diffusers: load = building the random-weight models on the device (no files); runs CFG as two batch-1 passes in the key frames');
  const reserved = num('later_max_reserved_gib');
  if (reserved !== undefined) column.notes.push(`diffusers: torch's own peak in the later key frame: ${num('later_max_allocated_gib')?.toFixed(2)} GiB allocated, ${reserved.toFixed(2)} GiB reserved`);
  return column;
}
