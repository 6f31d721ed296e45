// The editor's farm requests: the remembered connection, "Render on farm" (a 'farm' job in the
// Jobs panel, farm-job.ts) and the workers list. A Redis that cannot be reached fails the request
// at once with REDIS_UNAVAILABLE: the farm's own clients would wait for it forever.
import { makeFolders } from '../folders.ts';
import { checkExportTarget } from '../studio/export.ts';
import path from 'node:path';
import type { FarmSettingsInfo, FarmStage, FarmWorkersInfo, JobInfo, RequestArgs, StartJobRequest } from './contract.ts';
import type { MediaTools } from '../media/index.ts';
import type { Project } from '../project/index.ts';
import { cancelFarm } from '../farm/cancel.ts';
import { projectKeyOf } from '../farm/project-key.ts';
import { checkRedis, redactRedisUrl, redisOptionsFromUrl, type RedisTarget } from '../farm/redis.ts';
import { FARM_STAGES } from '../farm/stages.ts';
import { farmStatus } from '../farm/status.ts';
import { renderStatus } from '../studio/render-status.ts';
import { translationWork } from '../studio/translate.ts';
import { FarmJobError, runFarmJob } from './farm-job.ts';
import { readFarmConnection, writeFarmConnection } from './farm-settings.ts';
import type { JobRunner } from './job-runner.ts';

export interface FarmHandlerDeps {
  dataDir: string;
  current: () => Project;
  tools: () => Promise<MediaTools>;
  jobs: JobRunner;
  /** Sends the project summary again (the timeline and views refresh). */
  changed: () => void;
  /** Redis reachability (tests stub it). */
  check?: (t: RedisTarget) => Promise<void>;
  /** The watch's poll interval (tests). */
  pollMs?: number;
}

/** How long a Redis call of the workers list may take before it is answered as unreachable. */
const STATUS_TIMEOUT_MS = 5000;
/** The project summary is sent at most this often while results land. */
const LANDED_INTERVAL_MS = 1000;

/** What the project still needs, in run order: the farm dialog's default stages. */
export function neededStages(project: Project): FarmStage[] {
  const needed = new Set<FarmStage>();
  try {
    if (translationWork(project).todo > 0) needed.add('translate');
  } catch {
    // no key frames: nothing to translate (the dialog says why propagation cannot run either)
  }
  const { counts } = renderStatus(project);
  if (needed.has('translate') || counts.missing + counts.stale > 0) needed.add('propagate');
  return FARM_STAGES.filter((s) => needed.has(s));
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FarmJobError('REDIS_UNAVAILABLE', message)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export function farmHandlers(deps: FarmHandlerDeps) {
  const check = deps.check ?? ((t: RedisTarget) => checkRedis(t, 3000));
  /** Live farm jobs: where to cancel them on the farm, and whether the artist asked to. */
  const live = new Map<string, { redis: RedisTarget; key: string; cancelling: boolean; ended: boolean }>();

  /** The URL given, or the remembered one (also when the UI sends back its redacted form). */
  async function target(url: string | null): Promise<{ target: RedisTarget; url: string }> {
    const saved = (await readFarmConnection(deps.dataDir)).redisUrl;
    const chosen = url === null || (saved !== null && url.trim() === redactRedisUrl(saved)) ? saved : url.trim();
    if (chosen === null) throw new FarmJobError('INVALID_ARGUMENT', "Enter the farm's Redis address (redis://host:6379).");
    return { target: redisOptionsFromUrl(chosen), url: chosen };
  }

  function landedThrottle(): () => void {
    let last = 0;
    return () => {
      const now = Date.now();
      if (now - last < LANDED_INTERVAL_MS) return;
      last = now;
      deps.changed();
    };
  }

  return {
    async farmSettings(): Promise<FarmSettingsInfo> {
      const c = await readFarmConnection(deps.dataDir);
      return { redis: c.redisUrl === null ? null : redactRedisUrl(c.redisUrl), store: c.store, needed: neededStages(deps.current()) };
    },

    async farmSubmit(req: RequestArgs<'farmSubmit'>[0]): Promise<JobInfo> {
      const project = deps.current();
      if (deps.jobs.list().some((j) => j.kind === 'propagate' && (j.status === 'running' || j.status === 'queued'))) {
        throw new FarmJobError('JOB_RUNNING', 'A propagation is running here: wait for it or cancel it before rendering on the farm.');
      }
      const store = req.store.trim();
      if (!path.isAbsolute(store)) throw new FarmJobError('INVALID_ARGUMENT', `The artifact store must be a full folder path (got '${store}').`);
      const exportPath = req.exportPath?.trim() || undefined;
      if (exportPath !== undefined && (!path.isAbsolute(exportPath) || !/\.mp4$/i.test(exportPath))) {
        throw new FarmJobError('INVALID_ARGUMENT', `The video must be a full path to an .mp4 file (got '${exportPath}').`);
      }
      // The export's rules (an existing folder, nothing but a video replaced), checked before any farm work.
      if (exportPath !== undefined && req.stages.includes('export')) await checkExportTarget(project, exportPath);
      const { target: redis, url } = await target(req.redisUrl);
      await check(redis);
      await makeFolders(store);
      await writeFarmConnection(deps.dataDir, { redisUrl: url, store });
      const stages = FARM_STAGES.filter((s) => req.stages.includes(s));
      const tools = await deps.tools();
      const onLanded = landedThrottle();
      const key = projectKeyOf(project.path);
      const entry = { redis, key, cancelling: false, ended: false };
      // The total is known only once the submit has planned the work: the job says "preparing…" until then.
      const job = await deps.jobs.startWork('farm', 0, { stages, store, redis: redis.display }, `the farm at ${redis.display}`, async (signal, onProgress, running) => {
        try {
          return await runFarmJob({ project, redis, store, stages, ...(exportPath && stages.includes('export') ? { exportPath } : {}) }, { tools, signal, onProgress, onLanded, ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}) });
        } catch (e) {
          if (signal.aborted && !entry.cancelling) running.update({ note: 'Stopped watching; the farm keeps working. Choose Render on farm again to pick it up.' });
          throw e;
        } finally {
          entry.ended = true;
          for (const [id, e] of live) if (e === entry) live.delete(id);
        }
      }, () => deps.changed());
      if (!entry.ended) live.set(job.id, entry);
      return job;
    },

    async farmWorkers(url: string | null): Promise<FarmWorkersInfo> {
      const { target: redis } = await target(url);
      await check(redis);
      const st = await withTimeout(farmStatus(redis.options), STATUS_TIMEOUT_MS, `The farm at ${redis.display} did not answer in time.`);
      return {
        etaSeconds: st.etaSeconds,
        workers: st.workers.map((w) => ({
          name: w.name, host: w.host, device: w.device, concurrency: w.concurrency, done: w.done,
          current: w.current.map((c) => ({ project: c.project, frames: c.frames })),
          secondsSinceHeartbeat: w.secondsSinceHeartbeat, alive: w.alive,
        })),
      };
    },

    /** A local propagation (or an export that starts one) is refused while the farm renders this project. */
    refuseLocal(req: StartJobRequest): void {
      if (live.size > 0 && (req.kind === 'propagate' || (req.kind === 'export' && req.propagateFirst === true))) {
        throw new FarmJobError('JOB_RUNNING', 'The farm is rendering this project: wait for it, or cancel the farm job first.');
      }
    },

    /**
     * Cancel of a farm job: the watch stops and the project's work is called off on the farm.
     * Null when `id` is no live farm job (the runner cancels it as any other).
     */
    async cancel(id: string): Promise<JobInfo | null> {
      const entry = live.get(id);
      if (!entry) return null;
      entry.cancelling = true;
      const stopped = await deps.jobs.cancel(id);
      live.delete(id);
      await withTimeout(cancelFarm(entry.redis.options, [entry.key]), STATUS_TIMEOUT_MS, `The farm at ${entry.redis.display} did not answer: its work goes on.`);
      return stopped;
    },
  };
}
