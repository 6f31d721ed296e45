// Render status in the editor: the per-frame states the services compute (rendered, out of date,
// not rendered, being rendered), their colours and plain words, and what an export would write.
import type { JobInfo, ProjectSummary, RenderSpan, RenderState, RenderStatus } from '../../src-main/api/contract.ts';

export const RENDER_STATES: readonly RenderState[] = ['rendered', 'stale', 'missing', 'rendering'];

export const RENDER_STATE_STYLES: Record<RenderState, { colour: string; label: string; description: string }> = {
  rendered: { colour: '#3fb950', label: 'Rendered', description: 'Rendered from the current key frames and settings' },
  stale: { colour: '#e3a008', label: 'Out of date', description: 'Rendered before a key frame or a setting changed: propagate again to update it' },
  missing: { colour: '#5a6172', label: 'Not rendered', description: 'Not rendered yet (a shot with no key frame cannot be)' },
  rendering: { colour: '#58a6ff', label: 'Rendering', description: 'Being rendered by the propagation that is running' },
};

/** The status the services sent, or, from older services, all renders counted as up to date. */
export function statusOf(project: Pick<ProjectSummary, 'renderStatus' | 'renderedFrames' | 'source'>): RenderStatus {
  if (project.renderStatus) return project.renderStatus;
  const n = project.source.frameCount;
  const done = Math.min(n, project.renderedFrames);
  return { counts: { rendered: done, stale: 0, missing: n - done, rendering: 0 }, spans: [] };
}

/** The state of `frame` (binary search over the spans); 'missing' outside them. */
export function stateAt(spans: readonly RenderSpan[], frame: number): RenderState {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = spans[mid]!;
    if (frame < s.start) hi = mid - 1;
    else if (frame > s.end) lo = mid + 1;
    else return s.state;
  }
  return 'missing';
}

/** The span holding `frame`, or null. */
export function spanAt(spans: readonly RenderSpan[], frame: number): RenderSpan | null {
  const state = stateAt(spans, frame);
  return spans.find((s) => s.start <= frame && frame <= s.end && s.state === state) ?? null;
}

/** "Frames 30–99: Out of date. Rendered before …": the band's tooltip. */
export function spanTooltip(span: RenderSpan): string {
  const where = span.start === span.end ? `Frame ${span.start}` : `Frames ${span.start}–${span.end}`;
  const s = RENDER_STATE_STYLES[span.state];
  return `${where}: ${s.label}. ${s.description}.`;
}

/** Compact form for tests and e2e checks: "0-9:rendered 10-20:stale". */
export function formatSpans(spans: readonly RenderSpan[]): string {
  return spans.map((s) => `${s.start}-${s.end}:${s.state}`).join(' ');
}

export interface ExportReadiness {
  stale: number;
  missing: number;
  rendering: number;
  /** The propagation running now, if any: an export then waits for it. */
  propagation: JobInfo | null;
  /** Whether anything would be written from something other than a fresh render. */
  needsWarning: boolean;
  /** One short line per problem, for the artist. */
  lines: string[];
  /** What "Export anyway" writes for the frames that are not up to date. */
  anyway: string | null;
}

const frames = (n: number): string => `${n} frame${n === 1 ? '' : 's'}`;

/** What an export of the project would write now, and what to say about it. */
export function exportReadiness(project: Pick<ProjectSummary, 'renderStatus' | 'renderedFrames' | 'source'>, jobs: readonly JobInfo[]): ExportReadiness {
  const { counts } = statusOf(project);
  const propagation = jobs.find((j) => j.kind === 'propagate' && (j.status === 'running' || j.status === 'queued')) ?? null;
  const rendering = propagation ? counts.rendering : 0;
  const lines: string[] = [];
  if (propagation) lines.push(`A propagation is running${rendering > 0 ? `: ${frames(rendering)} still to render` : ''}.`);
  if (counts.stale > 0) lines.push(`${frames(counts.stale)} out of date: a key frame or a setting changed since they were rendered.`);
  if (counts.missing > 0) lines.push(`${frames(counts.missing)} not rendered yet.`);
  const anyway: string[] = [];
  if (counts.stale > 0) anyway.push(`the old renders for the ${frames(counts.stale)} out of date`);
  if (counts.missing > 0) anyway.push(`the source picture (or the key frame's image) for the ${frames(counts.missing)} not rendered`);
  return {
    stale: counts.stale,
    missing: counts.missing,
    rendering,
    propagation,
    needsWarning: propagation !== null || counts.stale > 0 || counts.missing > 0,
    lines,
    anyway: anyway.length > 0 ? `Export anyway writes ${anyway.join(', and ')}.` : null,
  };
}

/** Browser mode: where a finished export is fetched (src-main/serve/downloads.ts). */
export function exportDownloadUrl(jobId: string, download = false): string {
  return `/exports/${encodeURIComponent(jobId)}${download ? '?download=1' : ''}`;
}
