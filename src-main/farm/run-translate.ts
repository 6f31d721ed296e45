// One translation job on a worker: a project's key frames as one chain, with the very code a local
// `translate` runs (studio/translate.ts translateChain), its inputs read from the artifact store
// and its models found by content hash in the worker's models folder. Each key frame is put in the
// store and reported as soon as it is made; a retry after a killed worker starts from those (the
// chain's own resume: the anchor is replayed for its contexts, made key frames are not redone).
import { decodePng } from '../media/index.ts';
import type { ProjectSettings } from '../project/index.ts';
import type { ProviderSetting } from '../engine/runtime/providers.ts';
import { StableProgress } from '../jobs/stable-progress.ts';
import { resolveTranslationModels } from '../studio/models.ts';
import { rerenderConfigOf, translateChain } from '../studio/translate.ts';
import type { TranslateProjectResult } from '../studio/translate.ts';
import type { ArtifactStore } from './artifacts.ts';
import { FarmError } from './errors.ts';
import { unpackFrame } from './frame-codec.ts';
import type { IndexedModel } from './model-hash.ts';
import type { MadeKeyframe, TranslateJobData, TranslateResult } from './schemas.ts';

export interface TranslateJobDeps {
  store: ArtifactStore;
  worker: string;
  device: string;
  /** This worker's models by content hash (model-hash.ts indexModels). */
  models: Map<string, IndexedModel>;
  /** The worker's models folder (HED and depth annotators live under it). */
  modelsDir: string;
  /** Compiled-graph cache, kept between jobs. */
  cacheDir: string;
  provider?: ProviderSetting;
  /** Key frames an earlier attempt of this job made (from its progress), to resume after. */
  resumed?: readonly MadeKeyframe[];
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
  /** Each key frame once it is in the store; awaited, so it is recorded before the next starts. */
  onKeyframe?(made: MadeKeyframe, all: readonly MadeKeyframe[]): Promise<void>;
  onDevice?(line: string): void;
}

/** The job's settings with the owner's model paths replaced by this worker's copies (MODEL_MISSING when one is absent). */
export function localModels(job: TranslateJobData, models: Map<string, IndexedModel>, worker: string): ProjectSettings {
  const s = job.settings;
  const missing: string[] = [];
  const find = (ref: { hash: string; name: string }, what: string): string => {
    const m = models.get(ref.hash);
    if (!m) {
      missing.push(`${what} '${ref.name}' (sha256 ${ref.hash.slice(0, 12)}…)`);
      return ref.name;
    }
    return m.path;
  };
  if (job.models.extra.length !== s.extraControlnets.length || job.models.loras.length !== s.loras.length) {
    throw new FarmError('BAD_JOB', 'the job\'s model list does not match its settings (extra ControlNets or LoRAs)');
  }
  const local: ProjectSettings = {
    ...s,
    model: find(job.models.model, 'Stable Diffusion model'),
    controlnetModel: find(job.models.controlnet, 'ControlNet'),
    extraControlnets: s.extraControlnets.map((e, i) => ({ ...e, path: find(job.models.extra[i]!, `ControlNet ${i + 2}`) })),
    loras: s.loras.map((l, i) => ({ ...l, path: find(job.models.loras[i]!, 'LoRA') })),
  };
  if (missing.length > 0) {
    throw new FarmError('MODEL_MISSING', `worker ${worker} does not have ${missing.join(', ')} in its models folder (found by content, whatever the file's name): copy it there, or run this job on a worker that has it`);
  }
  return local;
}

export async function runTranslateJob(job: TranslateJobData, deps: TranslateJobDeps): Promise<TranslateResult> {
  const started = performance.now();
  const { width, height } = job;
  const settings = localModels(job, deps.models, deps.worker);
  const models = resolveTranslationModels(settings);
  const config = rerenderConfigOf(settings);
  const keys = new Map(job.keys.map((k) => [k.frame, k]));
  const made = new Map<number, MadeKeyframe>();
  for (const r of deps.resumed ?? []) {
    // Only what this very job asked for, still in the store, counts as made.
    if (keys.get(r.frame)?.paramsHash === r.paramsHash && (await deps.store.has(r.png))) made.set(r.frame, r);
  }
  const run = job.keys.map((k) => k.frame);
  const todo = job.keys.filter((k) => k.done === null && !made.has(k.frame)).length;
  const png = async (h: string, what: string): Promise<Uint8Array> => {
    const bytes = await deps.store.get(h);
    const img = decodePng(bytes);
    if (img.width !== width || img.height !== height) throw new FarmError('BAD_JOB', `${what} is ${img.width}x${img.height}, not ${width}x${height}`);
    return bytes;
  };
  const result: TranslateProjectResult = { keyframes: run, translated: [], upToDate: [], kept: [], contextBytes: 0, contextDeviceBytes: 0, provider: null, floatType: null, device: null, flowPairsPrepared: 0, notes: [], warnings: [] };
  const progress = new StableProgress({ stage: 'translate', total: Math.max(1, todo), onProgress: (p) => deps.onProgress?.(p.done, p.total) });
  const all = (): MadeKeyframe[] => [...made.values()].sort((a, b) => a.frame - b.frame);
  if (todo > 0) {
    await translateChain({
      settings, models, config, run, width, height, result, progress,
      warn: () => undefined,
      io: {
        frame: async (i) => {
          const k = keys.get(i);
          if (!k) throw new FarmError('BAD_JOB', `the chain needs frame ${i}, which the job does not list`);
          return unpackFrame(await deps.store.get(k.source), width * height * 3, `source frame ${i}`);
        },
        prompt: (i) => keys.get(i)?.prompt ?? null,
        mask: async (i) => {
          const m = keys.get(i)?.mask;
          return m ? png(m, `the mask of key frame ${i}`) : null;
        },
        done: async (i) => {
          const k = keys.get(i)!;
          if (k.done) return png(k.done, `key frame ${i}`);
          const r = made.get(i);
          return r ? deps.store.get(r.png) : null;
        },
        store: async (i, bytes) => {
          const m: MadeKeyframe = { frame: i, paramsHash: keys.get(i)!.paramsHash, png: await deps.store.put(bytes) };
          made.set(i, m);
          await deps.onKeyframe?.(m, all());
        },
      },
    }, {
      cacheDir: deps.cacheDir,
      modelsDir: deps.modelsDir,
      ...(deps.provider ? { provider: deps.provider } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
      // Called once the pipeline is loaded, when result.device says where it runs.
      onDevice: () => {
        if (result.device) deps.onDevice?.(result.device);
      },
    });
  }
  const missing = job.keys.filter((k) => k.done === null && !made.has(k.frame)).map((k) => k.frame);
  if (missing.length > 0) throw new FarmError('JOB_FAILED', `the chain made no image for key frame(s) ${missing.join(', ')}`);
  return { keyframes: all(), worker: deps.worker, device: result.device ?? deps.device, ms: performance.now() - started };
}
