// Waiting for a services-host job event in tests.
import type { ApiHost } from '../../src-main/api/host.ts';
import type { JobInfo } from '../../src-main/api/contract.ts';

export function waitForJob(host: ApiHost, pred: (j: JobInfo) => boolean, timeoutMs = 60_000): Promise<JobInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for a job event')), timeoutMs);
    const off = host.api.on('job', (j) => {
      if (pred(j)) {
        clearTimeout(timer);
        off();
        resolve(j);
      }
    });
  });
}
