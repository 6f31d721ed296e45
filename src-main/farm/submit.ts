// The submit side: a project becomes one BullMQ flow per shot, its propagation segments the
// children of the shot's finishing job. Inputs go to the artifact store first, so a worker never
// waits on the owner. Segments already rendered in the project, or finished or in flight on the
// farm (same content, same job id), are not queued again.
import path from 'node:path';
import { FlowProducer } from 'bullmq';
import type { ConnectionOptions, FlowJob } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { MediaTools } from '../media/index.ts';
import { packFrame } from './frame-codec.ts';
import { Project } from '../project/index.ts';
import { propagateOptions, propagationInputs } from '../studio/propagate.ts';
import { SourceFrames } from '../studio/source-frames.ts';
import type { FolderArtifactStore } from './artifacts.ts';
import { planFarm, shotJobIdOf } from './plan.ts';
import type { FarmJobPlan } from './plan.ts';
import { projectKeyOf } from './project-key.ts';
import { cancelJobs } from './cancel.ts';
import { cancelKey, connect, JOB_OPTIONS, QUEUE_NAME, queueOf, readSubmission, readSubmissions, writeSubmission } from './queue.ts';
import type { Submission } from './queue.ts';
import { parseOrThrow, propagateJobSchema, propagateResultSchema, shotJobSchema } from './schemas.ts';
import type { PropagateJobData, ShotJobData } from './schemas.ts';

export interface SubmitDeps {
  redis: RedisOptions;
  /** Where the owner writes the inputs. */
  store: FolderArtifactStore;
  /** How workers reach that store when not by the folder's path: a served store's URL. */
  storeUrl?: string;
  tools: MediaTools;
  signal?: AbortSignal;
  onInfo?(message: string): void;
}

export interface SubmitSummary {
  project: string;
  key: string;
  shots: number;
  /** Segments queued now. */
  queued: number;
  /** Segments already on the farm (finished, waiting or running) under the same id. */
  onFarm: number;
  /** Segments whose frames are all rendered in the project already. */
  alreadyDone: number;
  framesQueued: number;
  /** Waiting segments of an earlier submit that the project no longer needs, removed. */
  withdrawn: number;
}

export async function submitProject(projectPath: string, deps: SubmitDeps): Promise<SubmitSummary> {
  const file = path.resolve(projectPath);
  const project = Project.open(file);
  const redis = connect(deps.redis, 'rerender-farm-submit');
  const queue = queueOf(deps.redis);
  const flows = new FlowProducer({ connection: deps.redis as ConnectionOptions });
  try {
    const key = projectKeyOf(file);
    const inputs = await propagationInputs(project, { tools: deps.tools, ...(deps.signal ? { signal: deps.signal } : {}) });
    const { width, height, frameCount, hashes } = inputs;
    const renders = project.renderHashes();
    const isValid = (f: number) => renders.get(f) === hashes[f];
    const plan = planFarm({ frameCount, keyFrames: inputs.keyframes.map((k) => k.frame), cuts: inputs.cuts.frames, hashes, isValid });
    const summary: SubmitSummary = { project: file, key, shots: 0, queued: 0, onFarm: 0, alreadyDone: 0, framesQueued: 0, withdrawn: 0 };
    const ident = { key, name: project.name.slice(0, 256) };
    const storeRef = deps.storeUrl ?? deps.store.root;
    const record: Submission = { v: 1, key, name: ident.name, path: file, store: storeRef, submittedAt: Date.now(), frameCount, shots: [] };

    // Key-frame images once each; source frames decoded on demand, each at most once.
    const keyArtifacts = new Map<number, { image: string; mask: string | null }>();
    for (const k of inputs.keyPngs) {
      keyArtifacts.set(k.frame, { image: await deps.store.put(k.image), mask: k.mask ? await deps.store.put(k.mask) : null });
    }
    const frames = new SourceFrames(inputs.src, deps.tools, deps.signal);
    const sourceArtifacts = new Map<number, string>();
    const sourceOf = async (i: number) => {
      let h = sourceArtifacts.get(i);
      if (!h) {
        h = await deps.store.put(await packFrame(await frames.get(i)));
        sourceArtifacts.set(i, h);
      }
      return h;
    };
    const settings = propagateOptions(inputs.settings);

    for (const shot of plan) {
      const todo = shot.jobs.filter((j) => j.pending.length > 0);
      summary.alreadyDone += shot.jobs.length - todo.length;
      if (todo.length === 0) continue;
      summary.shots++;
      const children: FlowJob[] = [];
      for (const job of todo) {
        const existing = await queue.getJob(job.id);
        const state = existing ? await existing.getState() : null;
        // A finished job counts only while its renders are still in the store to be ingested.
        const usable = state === 'completed' ? await resultInStore(existing!.returnvalue, deps.store) : state !== 'failed' && state !== 'unknown';
        if (existing && usable) {
          summary.onFarm++;
          continue;
        }
        // A failed or cancelled attempt is replaced; what it finished is in the project already.
        if (existing) await existing.remove({ removeChildren: false });
        const data: PropagateJobData = {
          v: 1,
          kind: 'propagate',
          project: ident,
          shot: { index: shot.index, first: shot.first, last: shot.last },
          store: storeRef,
          width,
          height,
          frameCount,
          cuts: inputs.cuts.frames,
          keys: job.keys.map((f) => ({ frame: f, ...keyArtifacts.get(f)! })),
          sources: await sourcesOf(job, sourceOf),
          frames: job.pending.map((f) => ({ frame: f, paramsHash: hashes[f]! })),
          settings: settings as PropagateJobData['settings'],
        };
        // What a worker will check, checked here too: a bad submission fails now, not on the farm.
        parseOrThrow(propagateJobSchema, data, `the job for frames ${job.frames[0]}-${job.frames.at(-1)}`);
        children.push({ name: 'propagate', queueName: QUEUE_NAME, data, opts: { ...JOB_OPTIONS, jobId: job.id, failParentOnFailure: true } });
        summary.queued++;
        summary.framesQueued += job.pending.length;
      }
      const childIds = children.map((c) => c.opts!.jobId!);
      // The finishing job is new on each submit (its id names the submit too), so a resubmit never
      // meets an old parent whose children were replaced.
      const shotId = children.length > 0 ? shotJobIdOf(key, shot, [...childIds, String(record.submittedAt)]) : null;
      if (shotId) {
        const shotData: ShotJobData = { v: 1, kind: 'shot', project: ident, shot: { index: shot.index, first: shot.first, last: shot.last }, stages: ['propagate'] };
        parseOrThrow(shotJobSchema, shotData, 'the shot job');
        if (childIds.length > 0) await redis.srem(cancelKey(), ...childIds);
        await flows.add({ name: 'shot', queueName: QUEUE_NAME, data: shotData, opts: { ...JOB_OPTIONS, jobId: shotId }, children });
      }
      record.shots.push({ index: shot.index, first: shot.first, last: shot.last, id: shotId, jobs: todo.map((j) => ({ id: j.id, frames: j.pending.length })) });
    }
    // Work of an earlier submit that this one no longer wants (key frames or settings changed since)
    // is taken off the farm rather than rendered for nothing.
    const previous = await readSubmission(redis, key).catch(() => null);
    // Ids follow content, so another project may want the same job: it stays.
    const others = (await readSubmissions(redis).catch(() => [])).filter((sub) => sub.key !== key);
    const wanted = new Set([record, ...others].flatMap((sub) => sub.shots.flatMap((sh) => sh.jobs.map((j) => j.id))));
    const dropped = (previous?.shots ?? []).flatMap((sh) => sh.jobs.map((j) => j.id)).filter((id) => !wanted.has(id));
    if (dropped.length > 0) summary.withdrawn = (await cancelJobs(queue, redis, dropped)).removed;
    await writeSubmission(redis, record);
    return summary;
  } finally {
    project.close();
    await Promise.allSettled([flows.close(), queue.close()]);
    redis.disconnect();
  }
}

async function sourcesOf(job: FarmJobPlan, sourceOf: (i: number) => Promise<string>): Promise<{ frame: number; rgb: string }[]> {
  const out: { frame: number; rgb: string }[] = [];
  for (let i = job.sources[0]; i <= job.sources[1]; i++) out.push({ frame: i, rgb: await sourceOf(i) });
  return out;
}

async function resultInStore(value: unknown, store: FolderArtifactStore): Promise<boolean> {
  const r = propagateResultSchema.safeParse(value);
  if (!r.success) return false;
  for (const f of r.data.frames) if (!(await store.has(f.png))) return false;
  return true;
}
