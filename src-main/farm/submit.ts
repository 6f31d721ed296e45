// The submit side. With translation, a project's key-frame chain becomes one job first: its key
// frames decide what propagation renders, so the owner (`farm watch`) queues the later stages once
// they are in. Propagation becomes one BullMQ flow per shot, its segments the children of the
// shot's finishing job, or, with export, of the project's export job. Inputs go to the artifact
// store first, so a worker never waits on the owner. Work already done in the project, or
// finished or in flight on the farm (same content, same job id), is not queued again.
import { createHash } from 'node:crypto';
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
import { cancelKey, connect, JOB_OPTIONS, QUEUE_NAME, queueOf, readSubmission, readSubmissions, submissionJobIds, writeSubmission } from './queue.ts';
import type { Submission } from './queue.ts';
import { parseOrThrow, propagateJobSchema, propagateResultSchema, shotJobSchema, translateResultSchema } from './schemas.ts';
import type { PropagateJobData, ShotJobData } from './schemas.ts';
import { orderStages } from './stages.ts';
import type { FarmStage } from './stages.ts';
import { ModelHashCache } from './model-hash.ts';
import { prepareExportJob } from './export-job.ts';
import { FarmError } from './errors.ts';
import { ingestResult } from './ingest.ts';
import { planTranslation } from './translate-plan.ts';
import type { ArtifactStore } from './artifacts.ts';
import type { Job, Queue } from 'bullmq';
import type { ExportTarget } from './queue.ts';

export interface SubmitDeps {
  redis: RedisOptions;
  /** Where the owner writes the inputs. */
  store: FolderArtifactStore;
  /** How workers reach that store when not by the folder's path: a served store's URL. */
  storeUrl?: string;
  tools: MediaTools;
  signal?: AbortSignal;
  onInfo?(message: string): void;
  /** What to run (default: propagate). */
  stages?: readonly FarmStage[];
  /** Where the export stage writes the video (default: beside the project, `<name>.mp4`). */
  exportTo?: ExportTarget;
  /** The project when this process has it open already (the editor, `farm watch`): used, not closed. */
  project?: Project;
  /** Model content hashes, cached (default: the user's cache file). */
  modelHashes?: ModelHashCache;
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
  /** Key frames queued for translation (0: none needed, or none asked). */
  translating: number;
  /** Stages the owner's `farm watch` queues once the translation is in. */
  next: FarmStage[];
}

export async function submitProject(projectPath: string, deps: SubmitDeps): Promise<SubmitSummary> {
  const stages = orderStages(deps.stages ?? ['propagate']);
  const file = path.resolve(projectPath);
  const own = deps.project ? null : Project.open(file);
  const project = deps.project ?? own!;
  const redis = connect(deps.redis, 'rerender-farm-submit');
  const queue = queueOf(deps.redis);
  const flows = new FlowProducer({ connection: deps.redis as ConnectionOptions });
  try {
    const key = projectKeyOf(file);
    const ident = { key, name: project.name.slice(0, 256) };
    const storeRef = deps.storeUrl ?? deps.store.root;
    const summary: SubmitSummary = { project: file, key, shots: 0, queued: 0, onFarm: 0, alreadyDone: 0, framesQueued: 0, withdrawn: 0, translating: 0, next: [] };
    const record: Submission = { v: 1, key, name: ident.name, path: file, store: storeRef, submittedAt: Date.now(), frameCount: project.frameCount, shots: [] };
    if (deps.exportTo) record.exportTo = deps.exportTo;
    const translation = stages.includes('translate')
      ? await planTranslation(project, ident, storeRef, { store: deps.store, tools: deps.tools, hashes: deps.modelHashes ?? new ModelHashCache(), ...(deps.signal ? { signal: deps.signal } : {}) })
      : null;
    if (translation) {
      const existing = await reusable(queue, translation.id, (v) => resultInStore(v, deps.store, translateResultSchema, (r) => r.keyframes.map((k) => k.png)));
      if (existing) summary.onFarm++;
      else {
        await redis.srem(cancelKey(), translation.id);
        await queue.add('translate', translation.data, { ...JOB_OPTIONS, jobId: translation.id });
        summary.queued++;
      }
      summary.translating = translation.todo;
      record.translate = { id: translation.id, keys: translation.todo };
      record.next = stages.filter((s) => s !== 'translate');
      summary.next = record.next;
    } else if (stages.includes('propagate') || stages.includes('export')) {
      await queuePropagation(project, record, summary, { ...deps, stages, queue, redis, flows });
    }
    // Work of an earlier submit that this one no longer wants (key frames or settings changed since)
    // is taken off the farm rather than rendered for nothing.
    const previous = await readSubmission(redis, key).catch(() => null);
    // Ids follow content, so another project may want the same job: it stays.
    const others = (await readSubmissions(redis).catch(() => [])).filter((sub) => sub.key !== key);
    const wanted = new Set([record, ...others].flatMap(submissionJobIds));
    const dropped = (previous ? submissionJobIds(previous) : []).filter((id) => !wanted.has(id));
    if (dropped.length > 0) summary.withdrawn = (await cancelJobs(queue, redis, dropped)).removed;
    await writeSubmission(redis, record);
    return summary;
  } finally {
    own?.close();
    await Promise.allSettled([flows.close(), queue.close()]);
    redis.disconnect();
  }
}

/** A job already on the farm under this id that still counts: waiting, running, or finished with its results in the store. A failed one is removed, to be queued again. */
async function reusable(queue: Queue, id: string, resultOk: (value: unknown) => Promise<boolean>): Promise<Job | null> {
  const existing = await queue.getJob(id);
  if (!existing) return null;
  const state = await existing.getState();
  const usable = state === 'completed' ? await resultOk(existing.returnvalue) : state !== 'failed' && state !== 'unknown';
  if (usable) return existing;
  // A failed or cancelled attempt is replaced; what it finished is in the project already.
  await existing.remove({ removeChildren: false });
  return null;
}

interface QueueContext extends Omit<SubmitDeps, 'redis' | 'stages'> {
  stages: FarmStage[];
  queue: Queue;
  redis: ReturnType<typeof connect>;
  flows: FlowProducer;
}

/** Queues the project's propagation segments (per shot, children of the shot's finishing job), recording them in `record`. */
async function queuePropagation(project: Project, record: Submission, summary: SubmitSummary, ctx: QueueContext): Promise<void> {
  const { queue, redis, flows } = ctx;
  const inputs = await propagationInputs(project, { tools: ctx.tools, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  const { width, height, frameCount, hashes } = inputs;
  const exporting = ctx.stages.includes('export');
  const planNow = () => {
    const renders = project.renderHashes();
    return ctx.stages.includes('propagate')
      ? planFarm({ frameCount, keyFrames: inputs.keyframes.map((k) => k.frame), cuts: inputs.cuts.frames, hashes, isValid: (f) => renders.get(f) === hashes[f] })
      : [];
  };
  let plan = planNow();
  if (exporting) {
    // The export is the parent of every segment it waits on, and a job has one parent: segments an
    // earlier submit finished are stored now (the owner is the writer), waiting ones are queued
    // again under the export, and running ones must finish first.
    let ingested = 0;
    for (const job of plan.flatMap((sh) => sh.jobs).filter((j) => j.pending.length > 0)) {
      const existing = await queue.getJob(job.id);
      if (!existing) continue;
      const state = await existing.getState();
      if (state === 'active') {
        throw new FarmError('IN_USE', `frames ${job.frames[0]}-${job.frames.at(-1)} of ${record.name} are being rendered by an earlier submit: let \`farm watch\` store them (or \`farm cancel\` them), then submit the export again`);
      }
      if (state === 'completed') {
        const r = await ingestResult(project, { hashes, width, height }, ctx.store, job.id, existing.returnvalue).catch(() => null);
        if (r) ingested += r.written;
      }
      await existing.remove({ removeChildren: false }).catch(() => undefined);
    }
    if (ingested > 0) {
      ctx.onInfo?.(`${record.name}: stored ${ingested} frame(s) an earlier submit rendered`);
      plan = planNow();
    }
  }
  const ident = { key: record.key, name: record.name };
  const storeRef = record.store;
  // Key-frame images once each; source frames decoded on demand, each at most once.
  const keyArtifacts = new Map<number, { image: string; mask: string | null }>();
  for (const k of inputs.keyPngs) {
    keyArtifacts.set(k.frame, { image: await ctx.store.put(k.image), mask: k.mask ? await ctx.store.put(k.mask) : null });
  }
  const frames = new SourceFrames(inputs.src, ctx.tools, ctx.signal);
  const sourceArtifacts = new Map<number, string>();
  const sourceOf = async (i: number) => {
    let h = sourceArtifacts.get(i);
    if (!h) {
      h = await ctx.store.put(await packFrame(await frames.get(i)));
      sourceArtifacts.set(i, h);
    }
    return h;
  };
  const settings = propagateOptions(inputs.settings);

  const exportChildren: FlowJob[] = [];
  for (const shot of plan) {
    const todo = shot.jobs.filter((j) => j.pending.length > 0);
    summary.alreadyDone += shot.jobs.length - todo.length;
    if (todo.length === 0) continue;
    summary.shots++;
    const children: FlowJob[] = [];
    for (const job of todo) {
      if (await reusable(queue, job.id, (v) => resultInStore(v, ctx.store, propagateResultSchema, (r) => r.frames.map((f) => f.png)))) {
        summary.onFarm++;
        continue;
      }
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
    if (childIds.length > 0) await redis.srem(cancelKey(), ...childIds);
    if (exporting) {
      exportChildren.push(...children);
      record.shots.push({ index: shot.index, first: shot.first, last: shot.last, id: null, jobs: todo.map((j) => ({ id: j.id, frames: j.pending.length })) });
      continue;
    }
    // The finishing job is new on each submit (its id names the submit too), so a resubmit never
    // meets an old parent whose children were replaced.
    const shotId = children.length > 0 ? shotJobIdOf(record.key, shot, [...childIds, String(record.submittedAt)]) : null;
    if (shotId) {
      const shotData: ShotJobData = { v: 1, kind: 'shot', project: ident, shot: { index: shot.index, first: shot.first, last: shot.last }, stages: ['propagate'] };
      parseOrThrow(shotJobSchema, shotData, 'the shot job');
      await flows.add({ name: 'shot', queueName: QUEUE_NAME, data: shotData, opts: { ...JOB_OPTIONS, jobId: shotId }, children });
    }
    record.shots.push({ index: shot.index, first: shot.first, last: shot.last, id: shotId, jobs: todo.map((j) => ({ id: j.id, frames: j.pending.length })) });
  }
  if (exporting) await queueExport(project, record, summary, exportChildren, ctx);
}

/** The project's export, parent of the segments queued with it: it runs once they all have. */
async function queueExport(project: Project, record: Submission, summary: SubmitSummary, children: FlowJob[], ctx: QueueContext): Promise<void> {
  const target = record.exportTo ?? { outPath: project.path.replace(/(\.rrproj)?$/i, '.mp4') };
  record.exportTo = target;
  const farmFrames = new Map<number, 'farm'>();
  for (const c of children) for (const f of (c.data as PropagateJobData).frames) farmFrames.set(f.frame, 'farm');
  const data = await prepareExportJob(project, ctx.store, { outPath: target.outPath, ...(target.size ? { size: target.size } : {}), ...(target.crf !== undefined ? { crf: target.crf } : {}), ...(target.audio !== undefined ? { audio: target.audio } : {}) },
    { key: record.key, name: record.name }, { index: 0, first: 0, last: project.frameCount - 1 }, farmFrames,
    { storeRef: record.store, tools: ctx.tools, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  // New on each submit (the id names it), like a shot's finishing job.
  const id = `ex-${createHash('sha256').update(JSON.stringify({ key: record.key, manifest: data.manifest, request: data.request, children: children.map((c) => c.opts!.jobId), at: record.submittedAt })).digest('hex').slice(0, 32)}`;
  await ctx.redis.srem(cancelKey(), id);
  await ctx.flows.add({ name: 'export', queueName: QUEUE_NAME, data, opts: { ...JOB_OPTIONS, jobId: id }, children });
  record.export = { id, out: target.outPath };
  summary.queued++;
}

async function sourcesOf(job: FarmJobPlan, sourceOf: (i: number) => Promise<string>): Promise<{ frame: number; rgb: string }[]> {
  const out: { frame: number; rgb: string }[] = [];
  for (let i = job.sources[0]; i <= job.sources[1]; i++) out.push({ frame: i, rgb: await sourceOf(i) });
  return out;
}

async function resultInStore<T>(value: unknown, store: ArtifactStore, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, artifacts: (r: T) => string[]): Promise<boolean> {
  const r = schema.safeParse(value);
  if (!r.success) return false;
  for (const h of artifacts(r.data)) if (!(await store.has(h))) return false;
  return true;
}
