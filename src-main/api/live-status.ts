// While a propagation runs, the project summary (and with it the timeline's render-status band
// and the Output view) is sent again as its frames land, at most once per interval: the band
// fills in as the job goes, not only when it ends.
import type { JobInfo } from './contract.ts';

export function liveRenderStatus(onTick: () => void, intervalMs = 1000, now: () => number = Date.now): (job: JobInfo) => void {
  let last = -Infinity;
  return (job) => {
    if (job.kind !== 'propagate' || job.status !== 'running' || job.done === 0) return;
    const t = now();
    if (t - last < intervalMs) return;
    last = t;
    onTick();
  };
}
