// The figures bench/gpu collects, the one table it prints and the JSON it writes. A figure is a
// number, or the reason it has none ('skipped (time)', 'failed: …', 'n/a'), so a partial run
// still reports everything that was measured.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type Figure = number | string;

/** The table's rows, in order, with their units; both columns use the same keys. */
export const ROWS = [
  ['weightsS', 'random weights made (s)'],
  ['compileS', 'compile, every graph (s)'],
  ['loadS', 'load: sessions / models (s)'],
  ['stepS', 'UNet+ControlNet step, batch 2, median (s)'],
  ['warmupS', 'first runs (2-step key frames, s)'],
  ['anchorS', 'anchor key frame (s)'],
  ['keyframeS', 'key frame: pass A + fusion + pass B (s)'],
  ['peakGpuGiB', 'peak GPU memory, nvidia-smi (GiB)'],
  ['gpuAboveBaselineGiB', '  above the baseline (GiB)'],
  ['contextGiB', 'stored contexts (GiB)'],
  ['propagationFps', 'propagation: frames/s (2 syntheses each)'],
] as const;

export type RowKey = (typeof ROWS)[number][0];

export interface Column {
  /** e.g. 'ours webgpu fp16', 'diffusers cuda fp16'. */
  label: string;
  figures: Partial<Record<RowKey, Figure>>;
  /** Anything a reader needs to trust the figures (provider notes, counts, fallbacks). */
  notes: string[];
}

export interface BenchReport {
  bench: 'gpu';
  mode: 'full' | 'tiny';
  size: number;
  steps: number;
  gpu: string | null;
  startedAt: string;
  totalS: number;
  budgetS: number;
  /** The one-line reason the run stopped early, if it did. */
  error: string | null;
  environment: string[];
  columns: Column[];
}

/** Longest text in a cell: a failure's whole message is in the JSON. */
const CELL_CHARS = 40;

function cell(f: Figure | undefined): string {
  if (f === undefined) return '—';
  if (typeof f === 'string') return f.length > CELL_CHARS ? `${f.slice(0, CELL_CHARS - 1)}…` : f;
  return f >= 100 ? f.toFixed(0) : f >= 1 ? f.toFixed(2) : f.toFixed(3);
}

export function formatTable(report: BenchReport): string {
  const header = ['', ...report.columns.map((c) => c.label)];
  const rows = ROWS.map(([key, label]) => [label, ...report.columns.map((c) => cell(c.figures[key]))]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function writeReport(path: string, report: BenchReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
