// The fast preview (the services' working-size proxy job) as the viewer shows it: the progress
// of the one being made, if any. Pure, so the renderer tests need no services.
import type { JobInfo } from '../../src-main/api/contract.ts';

/** Progress of the running proxy job, or null when none is being made. */
export function preparingPreview(jobs: readonly JobInfo[]): { done: number; total: number } | null {
  const job = jobs.find((j) => j.kind === 'proxy' && (j.status === 'running' || j.status === 'queued'));
  return job ? { done: job.done, total: job.total } : null;
}

/** "Preparing fast preview 40%" (whole percents, never 100% before it is done). */
export function preparingLabel(p: { done: number; total: number }): string {
  const percent = p.total > 0 ? Math.min(99, Math.floor((100 * p.done) / p.total)) : 0;
  return `Preparing fast preview ${percent}%`;
}
