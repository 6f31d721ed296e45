// The owner's side: the submitting machine is the project's single writer. It takes a finished
// job's return value (hashes only), fetches the renders from the store, checks each against its
// hash and stores a job's frames in one transaction, with the same crash-safe store a local run
// uses. A frame already holding a valid render is left alone, and one whose key frames or
// settings changed since the submit (another params hash) is not written: never a stale or
// duplicate frame.
import { decodePng } from '../media/index.ts';
import type { Project, RenderInput } from '../project/index.ts';
import type { ArtifactStore } from './artifacts.ts';
import { FarmError } from './errors.ts';
import { parseOrThrow, propagateResultSchema } from './schemas.ts';
import type { MadeKeyframe } from './schemas.ts';
import { projectChain } from '../studio/params.ts';

export interface IngestReport {
  written: number;
  /** Frames whose render in the project was already valid. */
  alreadyValid: number;
  /** Frames the project no longer wants with these params (edited since the submit). */
  stale: number;
}

export interface IngestTarget {
  /** Each frame's params hash now (studio/propagate.ts propagationInputs). */
  hashes: readonly string[];
  width: number;
  height: number;
}

export async function ingestResult(project: Project, target: IngestTarget, store: ArtifactStore, jobId: string, value: unknown): Promise<IngestReport> {
  const { hashes, width, height } = target;
  const result = parseOrThrow(propagateResultSchema, value, `the result of job ${jobId}`);
  const report: IngestReport = { written: 0, alreadyValid: 0, stale: 0 };
  const current = project.renderHashes();
  const items: RenderInput[] = [];
  for (const f of result.frames) {
    if (f.frame >= hashes.length || hashes[f.frame] !== f.paramsHash) {
      report.stale++;
      continue;
    }
    if (current.get(f.frame) === f.paramsHash) {
      report.alreadyValid++;
      continue;
    }
    const png = await store.get(f.png);
    // The hash proves the bytes are what the worker stored; the decode proves they are a frame.
    const img = decodePng(png);
    if (img.width !== width || img.height !== height) throw new FarmError('ARTIFACT_CORRUPT', `the render of frame ${f.frame} from job ${jobId} is ${img.width}x${img.height}, not ${width}x${height}`);
    items.push({ frame: f.frame, png, runId: jobId, paramsHash: f.paramsHash });
  }
  if (items.length > 0) project.putRenders(items);
  report.written = items.length;
  return report;
}

/**
 * Translated key frames from a translation job (its progress while it runs, its result at the
 * end): each stored as the project's key frame when the project still wants exactly that chain
 * hash there and has no artist-edited image in its place.
 */
export async function ingestKeyframes(project: Project, store: ArtifactStore, jobId: string, made: readonly MadeKeyframe[], size: { width: number; height: number }): Promise<IngestReport> {
  const report: IngestReport = { written: 0, alreadyValid: 0, stale: 0 };
  const chain = projectChain(project);
  for (const m of made) {
    const k = project.getKeyframe(m.frame);
    if (!k || chain.get(m.frame) !== m.paramsHash || k.origin === 'edited') {
      report.stale++;
      continue;
    }
    if (k.origin === 'translated' && k.paramsHash === m.paramsHash && k.image) {
      report.alreadyValid++;
      continue;
    }
    const png = await store.get(m.png);
    const img = decodePng(png);
    if (img.width !== size.width || img.height !== size.height) throw new FarmError('ARTIFACT_CORRUPT', `key frame ${m.frame} from job ${jobId} is ${img.width}x${img.height}, not ${size.width}x${size.height}`);
    project.setKeyframeImage(m.frame, png, 'translated', m.paramsHash);
    report.written++;
  }
  return report;
}
