// Job list bookkeeping and display text.
import type { JobInfo } from '../../src-main/api/contract.ts';

/** Inserts or replaces a job (by id); newest first. */
export function upsertJob(list: readonly JobInfo[], job: JobInfo): JobInfo[] {
  const i = list.findIndex((j) => j.id === job.id);
  if (i === -1) return [job, ...list];
  const out = list.slice();
  out[i] = job;
  return out;
}

export function isActive(job: JobInfo): boolean {
  return job.status === 'queued' || job.status === 'running';
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function progressFraction(job: JobInfo): number {
  if (job.total <= 0) return job.status === 'done' ? 1 : 0;
  return Math.min(1, Math.max(0, job.done / job.total));
}

/** True when the job runs on the CPU although a GPU was wanted (the services say so in `note`). */
export function fellBackToCpu(job: JobInfo): boolean {
  const device = (job.device ?? '').toLowerCase();
  const note = (job.note ?? '').toLowerCase();
  return device.includes('cpu') && ['fall', 'gpu', 'cuda', 'accelerat'].some((w) => note.includes(w));
}

export const JOB_LABELS: Record<JobInfo['kind'], string> = {
  propagate: 'Propagate',
  translate: 'Translate key frames',
  export: 'Export video',
  thumbnails: 'Thumbnails',
  proxy: 'Fast preview',
  farm: 'Render on farm',
};
