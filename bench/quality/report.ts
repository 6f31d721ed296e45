// Markdown table of the quality figures, and one summary line per configuration.
import type { QualityResult, QualityRow } from './quality.ts';

const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

export function markdownTable(rows: readonly QualityRow[]): string {
  const head = '| clip | style | len | config | PSNR | PSNR mid | SSIM | SSIM mid | warp (truth) | warp max (truth) | s/frame |';
  const rule = '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  const body = rows.map((r) => `| ${r.clip} | ${r.style} | ${r.length} | ${r.config} | ${f(r.psnr, 2)} | ${f(r.psnrMid, 2)} | ${f(r.ssim, 3)} | ${f(r.ssimMid, 3)} | ${f(r.warp, 2)} (${f(r.truthWarp, 2)}) | ${f(r.warpMax, 2)} (${f(r.truthWarpMax, 2)}) | ${f(r.secPerFrame, 2)} |`);
  return [head, rule, ...body].join('\n');
}

/** One config's rows averaged: the row's figures, and how many rows went in. */
export type ConfigSummary = Pick<QualityRow, 'config' | 'psnr' | 'psnrMid' | 'ssim' | 'ssimMid' | 'warp' | 'truthWarp' | 'warpMax' | 'truthWarpMax' | 'secPerFrame'> & { rows: number };

/** Plain means over all rows of each configuration, in first-seen order. */
export function summarise(rows: readonly QualityRow[]): ConfigSummary[] {
  const names = [...new Set(rows.map((r) => r.config))];
  return names.map((config) => {
    const rs = rows.filter((r) => r.config === config);
    const m = (k: keyof Omit<QualityRow, 'clip' | 'style' | 'config' | 'length' | 'frames'>) => rs.reduce((a, r) => a + r[k], 0) / rs.length;
    return { config, rows: rs.length, psnr: m('psnr'), psnrMid: m('psnrMid'), ssim: m('ssim'), ssimMid: m('ssimMid'), warp: m('warp'), truthWarp: m('truthWarp'), warpMax: m('warpMax'), truthWarpMax: m('truthWarpMax'), secPerFrame: m('secPerFrame') };
  });
}

export function summaryLines(rows: readonly QualityRow[]): string[] {
  return summarise(rows).map((s) => `summary ${s.config} (${s.rows} rows): PSNR ${f(s.psnr, 2)} dB (mid ${f(s.psnrMid, 2)}), SSIM ${f(s.ssim, 4)} (mid ${f(s.ssimMid, 4)}), warp ${f(s.warp, 2)} (truth ${f(s.truthWarp, 2)}), warp max ${f(s.warpMax, 2)} (truth ${f(s.truthWarpMax, 2)}), ${f(s.secPerFrame, 2)} s/frame`);
}

export function formatReport(r: QualityResult): string {
  return [
    `quality at ${r.width}x${r.height}; PSNR/SSIM (luma, Gaussian 11/1.5) vs the per-frame styled truth over interior frames; warp = mean abs error of out_t vs out_{t-1} warped by the source flow, occlusions left out (lower is steadier; below the truth's = over-smoothed), max = worst single pair (a seam or pop); s/frame = wall seconds per interior frame, flow excluded (${f(r.flowSecPerPair, 2)} s per pair, shared)`,
    '',
    markdownTable(r.rows),
    '',
    ...summaryLines(r.rows),
  ].join('\n');
}
