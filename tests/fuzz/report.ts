// Runs every fuzz class (each in its own child, so one class crashing cannot stop the others)
// and prints a markdown table of outcomes:
//   node_modules/.bin/node tests/fuzz/report.ts [--cases N] [--only a,b] [--details]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLASSES, type ClassName } from './config.ts';
import type { CaseResult } from './harness.ts';
import type { Failure } from './support.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const COLUMNS: Failure[] = ['crash', 'hang', 'exit1', 'lost', 'other'];

interface Row {
  cls: ClassName;
  cases: number;
  counts: Record<Failure, number>;
  failures: CaseResult[];
  seconds: number;
}

function runWorker(cls: ClassName, cases: number | undefined): Promise<Row> {
  const args = [path.join(HERE, 'replay.ts'), cls, ...(cases !== undefined ? ['--cases', String(cases)] : [])];
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // The class's whole budget, then it counts as hung.
    const expected = cases ?? CLASSES[cls].cases;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000 + expected * CLASSES[cls].caseMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const results = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as CaseResult);
      const counts = Object.fromEntries(COLUMNS.map((c) => [c, 0])) as Record<Failure, number>;
      for (const r of results) if (r.failure) counts[r.failure]++;
      const failures = results.filter((r) => r.failure);
      // Cases the worker never reported: it died (a crash) or was stopped (a hang).
      const missing = expected - results.length;
      if (missing > 0) {
        const kind: Failure = signal === 'SIGKILL' ? 'hang' : 'crash';
        counts[kind] += missing;
        failures.push({ cls, seed: NaN, failure: kind, message: `${missing} case(s) unreported; worker ended with ${signal ?? `exit ${code}`}: ${err.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`, ms: 0 });
      }
      resolve({ cls, cases: expected, counts, failures, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf('--cases');
  const cases = at >= 0 ? Number(argv[at + 1]) : undefined;
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1]!.split(',') : null;
  const names = (Object.keys(CLASSES) as ClassName[]).filter((c) => !only || only.includes(c));
  const rows: Row[] = [];
  // Two at a time, as node --test runs the suite.
  const queue = [...names];
  await Promise.all([0, 1].map(async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) rows.push(await runWorker(c, cases));
  }));
  rows.sort((a, b) => names.indexOf(a.cls) - names.indexOf(b.cls));
  const lines = ['| probe class | cases | crash | hang | exit 1 | lost data | other failures | seconds |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of rows) lines.push(`| ${r.cls} | ${r.cases} | ${COLUMNS.map((c) => r.counts[c]).join(' | ')} | ${r.seconds.toFixed(1)} |`);
  const total = (c: Failure): number => rows.reduce((s, r) => s + r.counts[c], 0);
  lines.push(`| **all** | ${rows.reduce((s, r) => s + r.cases, 0)} | ${COLUMNS.map(total).join(' | ')} | |`);
  process.stdout.write(lines.join('\n') + '\n');
  if (argv.includes('--details')) {
    process.stdout.write('\nFailures (replay: FUZZ_SEED=<seed> node --test tests/fuzz/<class>.test.ts):\n');
    for (const r of rows) for (const f of r.failures) process.stdout.write(`- ${f.cls} seed=${f.seed} [${f.failure}] ${f.message.replace(/\s+/g, ' ').slice(0, 300)}\n`);
  }
}

await main(process.argv.slice(2));
