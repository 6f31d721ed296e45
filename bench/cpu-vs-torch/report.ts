// Figures: per-op median and min for each side, the ours/torch ratio, peak RSS; as a table and JSON.
import { OP_LABELS } from './ops.ts';
import type { OpName } from './ops.ts';

export interface OpFigures { op: OpName; ours: number[]; torch: number[]; oursCpu: number[]; torchCpu: number[] }

export interface Agreement { output: string; maxAbsDiff: number; maxAbsTorch: number }

export interface Report {
  size: number;
  threads: number;
  rounds: number;
  ops: { op: OpName; ours: Summary; torch: Summary | null; ratio: number | null }[];
  peakRssGiB: { ours: number; torch: number | null };
  agreement: Agreement[];
  torchMissing: string | null;
  compileOps: unknown;
}

export interface Summary {
  medianMs: number;
  minMs: number;
  samplesMs: number[];
  /** Process CPU time over wall time, all samples together: about the threads when they all work. */
  cpuPerWall: number;
}

export function summarize(ms: number[], cpuMs: number[]): Summary {
  const s = [...ms].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0);
  return { medianMs: median, minMs: s[0]!, samplesMs: ms, cpuPerWall: sum(cpuMs) / sum(ms) };
}

export const gib = (kb: number): number => kb / 1024 / 1024;

export function table(r: Report): string {
  const rows: string[][] = [['op', 'ours median', 'ours min', 'torch median', 'torch min', 'ours/torch', 'cpu/wall ours', 'cpu/wall torch']];
  const f = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(0)} ms`);
  for (const o of r.ops) {
    rows.push([OP_LABELS[o.op], f(o.ours.medianMs), f(o.ours.minMs), f(o.torch?.medianMs), f(o.torch?.minMs), o.ratio === null ? '-' : o.ratio.toFixed(2), o.ours.cpuPerWall.toFixed(2), o.torch ? o.torch.cpuPerWall.toFixed(2) : '-']);
  }
  rows.push(['peak RSS', `${r.peakRssGiB.ours.toFixed(2)} GiB`, '', r.peakRssGiB.torch === null ? '-' : `${r.peakRssGiB.torch.toFixed(2)} GiB`, '', '', '', '']);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string => row.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ');
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  return out.join('\n');
}
