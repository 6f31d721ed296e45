// `farm cancel`: waiting segments are removed, running ones are flagged and their workers stop
// them through the job's AbortSignal (at their next heartbeat). Finished segments stay, so a
// later submit queues only what is left.
import type { Queue } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { cancelKey, connect, queueOf, readSubmissions, submissionJobsToCancel, writeSubmission } from './queue.ts';

export interface CancelReport {
  removed: number;
  stopping: number;
  finished: number;
}

/** Cancels the given projects' work (by project key), or everything submitted when none is given. */
export async function cancelFarm(options: RedisOptions, keys?: readonly string[]): Promise<CancelReport> {
  const redis = connect(options, 'rerender-farm-cancel');
  const queue = queueOf(options);
  try {
    const subs = (await readSubmissions(redis)).filter((s) => !keys || keys.includes(s.key));
    const report = await cancelJobs(queue, redis, subs.flatMap(submissionJobsToCancel));
    // Stages still to be queued by the owner (after a translation) are called off too.
    for (const s of subs) if (s.next && s.next.length > 0) await writeSubmission(redis, { ...s, next: [] });
    return report;
  } finally {
    await queue.close().catch(() => undefined);
    redis.disconnect();
  }
}

/** Removes the waiting ones of `ids` and flags the running ones for their workers to stop. */
export async function cancelJobs(queue: Queue, redis: Redis, ids: readonly string[]): Promise<CancelReport> {
  const report: CancelReport = { removed: 0, stopping: 0, finished: 0 };
  for (const id of ids) {
    const job = await queue.getJob(id);
    if (!job) continue;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') {
      report.finished++;
    } else if (state === 'active') {
      await redis.sadd(cancelKey(), id);
      report.stopping++;
    } else {
      // Removal can race with a worker taking the job: then it is flagged like a running one.
      try {
        await job.remove({ removeChildren: false });
        report.removed++;
      } catch {
        await redis.sadd(cancelKey(), id);
        report.stopping++;
      }
    }
  }
  return report;
}
