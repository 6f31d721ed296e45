// The owner's side of a translation job: the project's key-frame chain as a job payload. Inputs go
// to the artifact store (each key frame's source frame, its mask, the images that stand as made),
// the models are named by content hash, and the job's id is a hash of the chain's hashes, so the
// same chain gets the same id on every submit.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { MediaTools } from '../media/index.ts';
import type { Project } from '../project/index.ts';
import { resolveTranslationModels } from '../studio/models.ts';
import { openSource } from '../studio/source.ts';
import { SourceFrames } from '../studio/source-frames.ts';
import { translationWork } from '../studio/translate.ts';
import type { ArtifactStore } from './artifacts.ts';
import { packFrame } from './frame-codec.ts';
import { modelContentHash } from './model-hash.ts';
import type { ModelHashCache } from './model-hash.ts';
import { parseOrThrow, translateJobSchema } from './schemas.ts';
import type { TranslateJobData } from './schemas.ts';

export interface TranslatePlan {
  id: string;
  /** Key frames the job will make (the others in the chain stand as they are). */
  todo: number;
  data: TranslateJobData;
}

export function translateJobIdOf(projectKey: string, chain: readonly [number, string][]): string {
  return `tr-${createHash('sha256').update(JSON.stringify({ projectKey, chain })).digest('hex').slice(0, 32)}`;
}

/** The translation job of the project's chain, or null when every key frame stands as made. */
export async function planTranslation(
  project: Project,
  ident: { key: string; name: string },
  storeRef: string,
  deps: { store: ArtifactStore; tools: MediaTools; hashes: ModelHashCache; signal?: AbortSignal },
): Promise<TranslatePlan | null> {
  const work = translationWork(project);
  if (work.todo === 0) return null;
  const settings = project.settings();
  // The owner names the models by their bytes: it must have them (MODEL_MISSING says how).
  const models = resolveTranslationModels(settings);
  const ref = async (p: string) => ({ hash: await modelContentHash(p, deps.hashes), name: path.basename(p).slice(0, 256) });
  const refs = {
    model: await ref(models.model),
    controlnet: await ref(models.controlnet),
    extra: await Promise.all(models.extraControlnets.map((e) => ref(e.path))),
    loras: await Promise.all(models.loras.map((l) => ref(l.path))),
  };
  deps.hashes.save();
  const src = await openSource(project);
  const { width, height } = src.geometry;
  const frames = new SourceFrames(src, deps.tools, deps.signal);
  const keys: TranslateJobData['keys'] = [];
  for (const f of work.run) {
    const k = project.getKeyframe(f)!;
    const stands = k.image && (k.origin === 'edited' || (k.origin === 'translated' && k.paramsHash === work.chain.get(f)));
    keys.push({
      frame: f,
      paramsHash: work.chain.get(f)!,
      prompt: k.prompt ?? null,
      mask: k.mask ? await deps.store.put(k.mask) : null,
      source: await deps.store.put(await packFrame(await frames.get(f))),
      done: stands ? await deps.store.put(k.image!) : null,
    });
  }
  const data: TranslateJobData = { v: 1, kind: 'translate', project: ident, store: storeRef, width, height, settings, models: refs, keys };
  parseOrThrow(translateJobSchema, data, 'the translation job');
  return { id: translateJobIdOf(ident.key, work.run.map((f) => [f, work.chain.get(f)!])), todo: work.todo, data };
}
