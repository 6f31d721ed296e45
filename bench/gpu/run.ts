// One command for a real GPU: our engine on the WebGPU EP (through the NVIDIA Vulkan driver) in
// fp16, on the FULL-SIZE random-weight SD 1.5 + ControlNet at 512×512, and the same work in
// diffusers fp16 when the machine's Python has torch with CUDA and diffusers. Prints one table and
// writes the figures as JSON; every stage has a deadline so the whole run fits the budget.
//   node bench/gpu/run.ts [--json FILE] [--budget 470] [--provider webgpu] [--steps 20] [--size 512]
//        [--python python3] [--no-diffusers] [--diffusers] [--tiny]
// --tiny: the tiny fixture models at 64×64 and 4 steps on any --provider (cpu here), to smoke-test
// the plumbing; diffusers runs in --tiny only with --diffusers. See bench/gpu/README.md.
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ProviderSetting } from '../../src-main/engine/runtime/providers.ts';
import { sampleGpuMemory } from '../gpu-memory.ts';
import type { GpuMemorySample } from '../gpu-memory.ts';
import { probeDiffusers, runDiffusers } from './diffusers.ts';
import type { OursJob, OursMessage } from './ours.ts';
import { formatTable, writeReport } from './report.ts';
import type { BenchReport, Column, RowKey } from './report.ts';
import { webgpuEnvironment } from './vulkan.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SKIPPED = 'skipped (time)';
/** Seconds kept for the diffusers column when it runs (model build, warm-up, two key frames, steps). */
const DIFFUSERS_RESERVE_S = { full: 150, tiny: 60 };
/** Seconds past its deadline before a stuck child is killed. */
const GRACE_S = 10;

const { values: flags } = parseArgs({
  options: {
    json: { type: 'string' },
    budget: { type: 'string' },
    provider: { type: 'string' },
    steps: { type: 'string' },
    size: { type: 'string' },
    python: { type: 'string' },
    'no-diffusers': { type: 'boolean' },
    diffusers: { type: 'boolean' },
    tiny: { type: 'boolean' },
  },
});

const now = (): number => Date.now();
const gib = (mib: number): number => mib / 1024;

/** The GPU's name and driver, for the report; null without nvidia-smi. */
function gpuName(): string | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    return out.split('\n')[0]!.trim() || null;
  } catch {
    return null;
  }
}

/** Runs ours.ts in a child with `env`, filling `column` as figures arrive; kills it at the deadline. */
function runOurs(job: OursJob, env: NodeJS.ProcessEnv, column: Column, log: (l: string) => void): Promise<string | null> {
  return new Promise((done) => {
    const child = fork(fileURLToPath(new URL('./ours.ts', import.meta.url)), [JSON.stringify(job)], { env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    let fatal: string | null = null;
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000); });
    child.on('message', (m: OursMessage) => {
      if (m.type === 'figure') {
        column.figures[m.key] = m.value;
        log(`  ours: ${m.key} = ${typeof m.value === 'number' ? m.value.toFixed(3) : m.value}`);
      } else if (m.type === 'note') column.notes.push(m.text);
      else if (m.type === 'label') column.label = m.text;
      else if (m.type === 'fatal') fatal = m.message;
      else child.disconnect();
    });
    const timer = setTimeout(() => {
      fatal ??= `ours: killed ${GRACE_S} s past its deadline`;
      child.kill('SIGKILL');
    }, Math.max(1000, job.deadline - now() + GRACE_S * 1000));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (fatal === null && code !== 0) {
        // a crash in native code leaves no message: the last line of its stderr says the most
        const last = stderr.trim().split('\n').filter((l) => l.trim()).pop();
        fatal = `ours: the engine process ended (${signal ?? `exit ${code}`})${last ? `: ${last.slice(0, 200)}` : ''}`;
      }
      done(fatal);
    });
  });
}

function fillMissing(column: Column, keys: readonly RowKey[], why: string): void {
  for (const k of keys) column.figures[k] ??= why;
}

function memory(column: Column, g: GpuMemorySample | null): void {
  column.figures.peakGpuGiB = g ? gib(g.peakMiB) : 'n/a (no nvidia-smi)';
  column.figures.gpuAboveBaselineGiB = g ? gib(g.peakMiB - g.baselineMiB) : 'n/a';
}

/**
 * Stage 2 on the GPU: WebGPU patch synthesis at the propagation defaults on generated frames
 * (bench/gpu/propagate.ts --synth-only: no OpenCV addon needed). An interior frame costs two
 * directions' frames (guides and synthesis, the state kept on the device) and the blend, all on
 * the GPU; flow is not counted here.
 */
function propagationRow(column: Column, env: NodeJS.ProcessEnv, size: number, deadline: number, log: (l: string) => void): void {
  const leftMs = deadline - now() - 5000;
  if (leftMs < 20_000) {
    column.figures.propagationFps = SKIPPED;
    return;
  }
  try {
    const text = execFileSync(process.execPath, [fileURLToPath(new URL('./propagate.ts', import.meta.url)), '--synth-only', '--size', String(size), '--runs', '10'], { env, encoding: 'utf8', timeout: leftMs });
    const frame = /interior frame on the GPU[^:]*: ([0-9.]+) frames\/s/.exec(text);
    const m = /median ([0-9.]+) s/.exec(text);
    if (!frame && !m) throw new Error(`no figures in: ${text.trim().split('\n').pop() ?? ''}`);
    column.figures.propagationFps = frame ? Number(frame[1]) : 1 / (2 * Number(m![1]));
    column.notes.push(`propagation row: ${text.trim().split('\n').filter((l) => l.startsWith('synthesize') || l.startsWith('direction') || l.startsWith('blend') || l.startsWith('interior')).join(' ')}`);
  } catch (err) {
    column.figures.propagationFps = `failed: ${(err as Error).message.split('\n')[0] ?? ''}`;
  }
  log(`  propagation: ${String(column.figures.propagationFps)} frames/s`);
}

async function main(): Promise<number> {
  const started = now();
  const tiny = flags.tiny === true;
  const budgetS = Number(flags.budget ?? 470);
  const deadline = started + budgetS * 1000;
  const provider = (flags.provider ?? 'webgpu') as ProviderSetting;
  const size = Number(flags.size ?? (tiny ? 64 : 512));
  const steps = Number(flags.steps ?? (tiny ? 4 : 20));
  const out = resolve(flags.json ?? (process.env['OUT'] ? join(process.env['OUT'], 'bench-gpu.json') : 'bench-gpu.json'));
  const python = flags.python ?? 'python3';
  const log = (l: string): void => console.log(l);
  const report: BenchReport = {
    bench: 'gpu', mode: tiny ? 'tiny' : 'full', size, steps, gpu: gpuName(), startedAt: new Date(started).toISOString(), totalS: 0, budgetS, error: null, environment: [], columns: [],
  };
  console.log(`bench:gpu ${report.mode}: SD 1.5 + ControlNet${tiny ? ' (tiny fixtures)' : ' (full size, random weights)'}, ${size}×${size}, ${steps} steps, provider ${provider}, fp16; budget ${budgetS} s${report.gpu ? `; ${report.gpu}` : ''}`);

  const env = provider === 'webgpu' || provider === 'auto' ? webgpuEnvironment(process.env, join(ROOT, '.gl')) : { env: { ...process.env }, notes: [] };
  report.environment.push(...env.notes);
  for (const n of env.notes) log(`  env: ${n}`);

  // Importing torch takes seconds: find out about diffusers while our engine runs.
  const wantDiffusers = !flags['no-diffusers'] && (!tiny || flags.diffusers === true);
  const probe = wantDiffusers ? probeDiffusers(python, env.env) : Promise.resolve({ device: null, reason: 'not asked' });
  const reserveS = wantDiffusers ? DIFFUSERS_RESERVE_S[report.mode] : 0;

  const ours: Column = { label: `ours ${provider} fp16`, figures: {}, notes: [] };
  report.columns.push(ours);
  const gpuMem = sampleGpuMemory();
  const work = mkdtempSync(join(tmpdir(), 'bench-gpu-'));
  const fatal = await runOurs({ tiny, provider, size, steps, work, deadline: deadline - reserveS * 1000 }, env.env, ours, log);
  memory(ours, await gpuMem.stop());
  fillMissing(ours, ['weightsS', 'compileS', 'loadS', 'stepS', 'warmupS', 'anchorS', 'keyframeS', 'contextGiB'], fatal ? 'not run' : SKIPPED);
  report.error = fatal;
  if (provider === 'webgpu' || provider === 'auto') propagationRow(ours, env.env, size, deadline - reserveS * 1000, log);

  const d = await probe;
  if (d.device && (d.device === 'cuda' || tiny)) {
    const leftMs = deadline - now() - 5000;
    const column: Column = { label: `diffusers ${d.device}`, figures: {}, notes: [] };
    if (leftMs < 30_000) {
      fillMissing(column, ['loadS', 'stepS', 'anchorS', 'keyframeS'], SKIPPED);
    } else {
      const mem = sampleGpuMemory();
      const c = await runDiffusers({ python, env: env.env, device: d.device, tiny, size, steps, timeoutMs: leftMs, log });
      Object.assign(column, c);
      memory(column, await mem.stop());
    }
    report.columns.push(column);
  } else if (wantDiffusers) {
    report.environment.push(`diffusers column left out: ${d.device === 'cpu' ? 'torch sees no CUDA GPU' : d.reason}`);
  }

  report.totalS = (now() - started) / 1000;
  console.log('');
  console.log(formatTable(report));
  for (const c of report.columns) for (const n of c.notes) console.log(`  ${n}`);
  for (const e of report.environment) console.log(`  ${e}`);
  console.log(`total ${report.totalS.toFixed(0)} s of the ${budgetS} s budget`);
  writeReport(out, report);
  console.log(`figures written to ${out}`);
  if (fatal) {
    console.error(`bench:gpu: ${fatal}`);
    return 4;
  }
  return 0;
}

process.exitCode = await main();
