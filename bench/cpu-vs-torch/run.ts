// CPU speed of our engine against diffusers on torch, side by side and interleaved.
// Full-size SD 1.5 UNet + ControlNet + VAE with random weights (the SAME weights on both sides,
// written once as diffusers folders), fp32, batch 2 for the UNet step. Each side is one process
// using `--threads` cores; rounds alternate ours/torch op by op so load from other users of the
// machine hits both alike. Both sides are warmed up once, then their outputs are compared.
//   node bench/cpu-vs-torch/run.ts [--rounds 3] [--size 512] [--threads N] [--ops step,encode,decode]
//     [--cache DIR] [--python python3] [--skip-python] [--json FILE] [--compile-ops JSON]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readSafetensorsHeader, readTensorFloat32 } from '../../src-main/engine/weights/safetensors.ts';
import { makeInputs } from './inputs.ts';
import { OPS } from './ops.ts';
import type { OpName, Side } from './ops.ts';
import { OursSide } from './ours.ts';
import type { PreparedPaths } from './prepare.ts';
import { gib, summarize, table } from './report.ts';
import type { Agreement, OpFigures, Report } from './report.ts';
import { TorchSide } from './torch-side.ts';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string' }, size: { type: 'string' }, threads: { type: 'string' }, ops: { type: 'string' },
    cache: { type: 'string' }, python: { type: 'string' }, 'skip-python': { type: 'boolean' }, json: { type: 'string' },
    'compile-ops': { type: 'string' },
  },
});
const rounds = Number(flags.rounds ?? 3);
const size = Number(flags.size ?? 512);
const threads = Number(flags.threads ?? Math.min(availableParallelism(), 2 ** 31));
const ops = (flags.ops ? flags.ops.split(',') : OPS) as OpName[];
const cache = flags.cache ?? join(tmpdir(), 'rerender-cpu-vs-torch');
if (!(size % 64 === 0 && size > 0) || !(rounds >= 1) || !(threads >= 1) || ops.some((o) => !OPS.includes(o))) {
  console.error('usage: run.ts [--rounds N>=1] [--size multiple of 64] [--threads N>=1] [--ops step,encode,decode] ...');
  process.exit(2);
}

/** Weights, inputs and graphs, made in a child process so they do not count in our peak RSS. */
function prepare(): PreparedPaths {
  mkdirSync(cache, { recursive: true });
  const script = fileURLToPath(new URL('./prepare.ts', import.meta.url));
  const args = [script, '--cache', cache, '--size', String(size), ...(flags['compile-ops'] ? ['--ops', flags['compile-ops']] : [])];
  const out = execFileSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as PreparedPaths;
}

/** Largest |ours − torch| per output, against torch's largest magnitude: the two sides ran the same math. */
function agreement(ours: OursSide, torchFile: string): Agreement[] {
  const header = readSafetensorsHeader(torchFile);
  const out: Agreement[] = [];
  for (const [name, info] of header.tensors) {
    const mine = ours.last.get(name);
    if (!mine || mine.type !== 'float32') continue;
    const ref = readTensorFloat32(torchFile, info);
    let diff = 0;
    let mag = 0;
    for (let i = 0; i < ref.length; i++) {
      diff = Math.max(diff, Math.abs(mine.data[i]! - ref[i]!));
      mag = Math.max(mag, Math.abs(ref[i]!));
    }
    out.push({ output: name, maxAbsDiff: diff, maxAbsTorch: mag });
  }
  return out;
}

async function main(): Promise<void> {
  console.log(`SD 1.5 + ControlNet, random weights, fp32, ${size}x${size}, ${threads} threads per side, ${rounds} rounds`);
  const paths = prepare();
  const ours = await OursSide.open(paths, makeInputs(size), size, threads);
  let torch: TorchSide | null = null;
  let torchMissing: string | null = null;
  if (flags['skip-python']) torchMissing = 'skipped (--skip-python)';
  else {
    const started = await TorchSide.start(flags.python ?? 'python3', paths.weights, paths.inputs, threads);
    if (typeof started === 'string') {
      torchMissing = started;
      console.log(`torch side unavailable: ${started}. Reporting ours only (pip install torch diffusers safetensors).`);
    } else torch = started;
  }
  const sides: Side[] = torch ? [ours, torch] : [ours];
  const figures: OpFigures[] = ops.map((op) => ({ op, ours: [], torch: [], oursCpu: [], torchCpu: [] }));
  try {
    for (const op of ops) for (const side of sides) console.error(`warm-up ${op} ${side.name}: ${(await side.run(op)).ms.toFixed(0)} ms`);
    let agree: Agreement[] = [];
    if (torch) {
      const file = join(cache, 'torch-outputs.safetensors');
      await torch.save(file);
      agree = agreement(ours, file);
      for (const a of agree) console.log(`agreement ${a.output}: max |ours - torch| = ${a.maxAbsDiff.toExponential(2)} (max |torch| ${a.maxAbsTorch.toFixed(2)})`);
    }
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first each round, so neither side always follows the other's op.
      const order = r % 2 === 0 ? sides : [...sides].reverse();
      for (const fig of figures) {
        for (const side of order) {
          const t = await side.run(fig.op);
          (side === ours ? fig.ours : fig.torch).push(t.ms);
          (side === ours ? fig.oursCpu : fig.torchCpu).push(t.cpuMs);
          console.error(`round ${r + 1}/${rounds} ${fig.op} ${side.name}: ${t.ms.toFixed(0)} ms (cpu ${t.cpuMs.toFixed(0)} ms)`);
        }
      }
    }
    const report: Report = {
      size, threads, rounds, torchMissing, agreement: agree,
      compileOps: flags['compile-ops'] ? JSON.parse(flags['compile-ops']) : null,
      ops: figures.map((f) => {
        const o = summarize(f.ours, f.oursCpu);
        const t = f.torch.length ? summarize(f.torch, f.torchCpu) : null;
        return { op: f.op, ours: o, torch: t, ratio: t ? o.medianMs / t.medianMs : null };
      }),
      peakRssGiB: { ours: gib(await ours.peakRssKb()), torch: torch ? gib(await torch.peakRssKb()) : null },
    };
    console.log(table(report));
    if (torchMissing) console.log(`torch: ${torchMissing}`);
    if (flags.json) writeFileSync(flags.json, `${JSON.stringify(report, null, 1)}\n`);
  } finally {
    await ours.close();
    await torch?.close();
  }
}

await main();
