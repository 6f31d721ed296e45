// Tuning aid: one of the prepared graphs on onnxruntime's CPU EP in this thread, under
// session-option overrides, timed over a few runs, optionally with ORT's profiler summed
// per op type. Used to pick session-options.ts settings and compiler op forms.
//   node bench/cpu-vs-torch/sweep.ts --graph PATH --feeds step-cn|step-unet|encode|decode [--size 512]
//     [--runs 2] [--variant 'label={"graphOptimizationLevel":"extended"}' ...] [--profile]
// A variant's JSON may also name another "graph" (e.g. compiled with other op forms).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { sessionOptions } from '../../src-main/engine/runtime/session-options.ts';
import { inputShapes, makeInputs } from './inputs.ts';
import type { BenchInputs } from './inputs.ts';

const { values: flags } = parseArgs({
  options: {
    graph: { type: 'string' }, feeds: { type: 'string' }, size: { type: 'string' }, runs: { type: 'string' },
    variant: { type: 'string', multiple: true }, profile: { type: 'boolean' }, 'top-nodes': { type: 'string' }, threads: { type: 'string' },
  },
});
const PROFILE_DIR = '/tmp';
const PROFILE_NAME = `cvt-profile-${process.pid}`;
const size = Number(flags.size ?? 512);
const inputs = makeInputs(size);
const dims = inputShapes(size);
const t = (k: keyof BenchInputs): Tensor => new ort.Tensor('float32', inputs[k], dims[k]);

function feeds(kind: string, session: InferenceSession): Record<string, Tensor> {
  const common = { sample: t('sample'), timestep: t('timestep'), encoder_hidden_states: t('encoder_hidden_states') };
  switch (kind) {
    case 'step-cn': return { ...common, controlnet_cond: t('controlnet_cond'), conditioning_scale: new ort.Tensor('float32', Float32Array.of(1), [1]) };
    case 'step-unet': {
      // Residual shapes of SD 1.5 at this size, filled with small values (their contents do not change the work).
      const h = size / 8;
      const res: Record<string, Tensor> = {};
      const spec: [number, number][] = [[320, h], [320, h], [320, h], [320, h / 2], [640, h / 2], [640, h / 2], [640, h / 4], [1280, h / 4], [1280, h / 4], [1280, h / 8], [1280, h / 8], [1280, h / 8]];
      spec.forEach(([c, s], i) => { res[`down_res_${i}`] = new ort.Tensor('float32', new Float32Array(2 * c * s * s).fill(0.01), [2, c, s, s]); });
      res['mid_res'] = new ort.Tensor('float32', new Float32Array(2 * 1280 * (h / 8) ** 2).fill(0.01), [2, 1280, h / 8, h / 8]);
      return Object.fromEntries(session.inputNames.map((n) => [n, (common as Record<string, Tensor>)[n] ?? res[n]!]));
    }
    case 'encode': return { image: t('image') };
    case 'decode': return { latents: t('latents') };
    default: throw new Error(`unknown --feeds ${kind}`);
  }
}

/** Sums an ORT profile's node events by op type, largest first. */
function summarizeProfile(path: string): string {
  const events = JSON.parse(readFileSync(path, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, { us: number; n: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const s = byOp.get(op) ?? { us: 0, n: 0 };
    s.us += e.dur; s.n += 1; total += e.dur;
    byOp.set(op, s);
  }
  const rows = [...byOp].sort((a, b) => b[1].us - a[1].us).map(([op, s]) => `  ${op.padEnd(28)} ${(s.us / 1000).toFixed(0).padStart(8)} ms ${((100 * s.us) / total).toFixed(1).padStart(5)}%  (${s.n} nodes)`);
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'))
    .sort((a, b) => b.dur - a.dur).slice(0, Number(flags['top-nodes'] ?? 0))
    .map((e) => `    ${(e.dur / 1000).toFixed(0).padStart(7)} ms ${e.args?.op_name} ${e.name.replace(/_kernel_time$/, '')} ${JSON.stringify((e.args as Record<string, unknown> | undefined)?.['input_type_shape'] ?? '')}`);
  return [`  kernel total ${(total / 1000).toFixed(0)} ms`, ...rows, ...nodes].join('\n');
}

interface Variant { label: string; graph: string; options: InferenceSession.SessionOptions }

/** `label=JSON`: session-option overrides, plus an optional "graph" path (a compiler variant). */
function parseVariant(spec: string): Variant {
  const eq = spec.indexOf('=');
  const label = eq < 0 ? spec : spec.slice(0, eq);
  const { graph, ...overrides } = (eq < 0 ? {} : JSON.parse(spec.slice(eq + 1))) as InferenceSession.SessionOptions & { graph?: string };
  const base = sessionOptions('cpu', { intraOpThreads: Number(flags.threads ?? 2) });
  const profile = flags.profile ? { enableProfiling: true, profileFilePrefix: join(PROFILE_DIR, `${PROFILE_NAME}-${label}`) } : {};
  return { label, graph: graph ?? flags.graph!, options: { ...base, ...overrides, ...profile } };
}

async function main(): Promise<void> {
  // Variants run alternately, A B A B ..., so the machine's other load hits each alike.
  const variants = (flags.variant ?? ['default']).map(parseVariant);
  const sessions: InferenceSession[] = [];
  for (const v of variants) {
    const t0 = performance.now();
    sessions.push(await ort.InferenceSession.create(v.graph, v.options));
    console.log(`${v.label}: load ${((performance.now() - t0) / 1000).toFixed(1)} s; ${JSON.stringify({ ...v.options, executionProviders: undefined })}`);
  }
  const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  console.log(`after load: rss ${gib(process.memoryUsage().rss)}, peak ${gib(process.resourceUsage().maxRSS * 1024)}`);
  const f = feeds(flags.feeds ?? 'decode', sessions[0]!);
  const times: number[][] = variants.map(() => []);
  // Process CPU time per variant: where it exceeds threads × wall, threads spun rather than worked.
  const cpu: number[] = variants.map(() => 0);
  for (let i = 0; i < Number(flags.runs ?? 2); i++) {
    for (const [j, session] of sessions.entries()) {
      const s = performance.now();
      const c = process.cpuUsage();
      await session.run(f);
      times[j]!.push(performance.now() - s);
      const used = process.cpuUsage(c);
      cpu[j]! += (used.user + used.system) / 1000;
    }
  }
  for (const [j, v] of variants.entries()) {
    const sorted = [...times[j]!].sort((a, b) => a - b);
    console.log(`${v.label.padEnd(16)} min ${sorted[0]!.toFixed(0)} ms, median ${sorted[sorted.length >> 1]!.toFixed(0)} ms; runs ${times[j]!.map((x) => x.toFixed(0)).join(' ')}; cpu/wall ${(cpu[j]! / times[j]!.reduce((a, b) => a + b, 0)).toFixed(2)}`);
  }
  console.log(`after runs: rss ${gib(process.memoryUsage().rss)}, peak ${gib(process.resourceUsage().maxRSS * 1024)}`);
  if (flags.profile) {
    // The Node binding's endProfiling returns nothing: the file is <prefix>_<timestamp>.json.
    for (const s of sessions) s.endProfiling();
    for (const v of variants) {
      for (const name of readdirSync(PROFILE_DIR).filter((n) => n.startsWith(`${PROFILE_NAME}-${v.label}_`))) {
        console.log(`${v.label} profile (all runs):\n${summarizeProfile(join(PROFILE_DIR, name))}`);
        rmSync(join(PROFILE_DIR, name), { force: true });
      }
    }
  }
  for (const s of sessions) await s.release();
}

await main();
