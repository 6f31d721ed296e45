// Optical flow computed ahead of propagation, while key frames are translated on a GPU. The CPU
// is mostly idle then, and a first propagation otherwise computes each frame pair's flow as it
// goes: on a fast GPU that is what it waits for (dis-fine takes ~150 ms a pair at 512x512 on two
// cores, where the GPU's share of a frame is meant to be ~33 ms). What the warm-up stores, the
// propagation reads, and an interrupted warm-up leaves only whole entries.
import { ProgressTracker, type Progress } from '../jobs/progress.ts';
import type { MediaTools } from '../media/index.ts';
import type { Project } from '../project/index.ts';
import { loadFlowCodec, type FlowCodec } from '../propagate/flow-codec.ts';
import { abortError, loadPropagateAddon, type PropagateAddon } from '../propagate/native.ts';
import { shotsOf } from '../propagate/plan.ts';
import { projectFlowCache } from './flow-cache.ts';
import { SourceFrames } from './source-frames.ts';
import type { SourceAccess } from './source.ts';

export interface FlowWarmupDeps {
  tools: MediaTools;
  signal?: AbortSignal;
  /** The flow's computation; the native addon's by default. */
  addon?: Pick<PropagateAddon, 'computeFlow'>;
  codec?: FlowCodec;
  /** Pairs done of those to prepare (stage 'flow'), cached ones counted done from the start. */
  onProgress?: (p: Progress) => void;
}

export interface FlowWarmupResult {
  /** Frame pairs a propagation can use: neighbours inside a shot that has a key frame. */
  pairs: number;
  /** Of those, found in the cache already. */
  cached: number;
  /** Computed and stored now. */
  computed: number;
}

/**
 * The frame pairs a propagation of the project's current key frames uses, in time order: pair i
 * (frames i, i+1) inside every shot holding a key frame. Pairs across a cut never carry anything.
 */
export function pairsToWarm(frameCount: number, cuts: readonly number[], keyframes: readonly number[]): number[] {
  const pairs: number[] = [];
  for (const shot of shotsOf(frameCount, cuts)) {
    if (!keyframes.some((k) => k >= shot.first && k <= shot.last)) continue;
    for (let i = shot.first; i < shot.last; i++) pairs.push(i);
  }
  return pairs;
}

/**
 * Computes and stores the flow of every pair in pairsToWarm that the project's cache lacks, one at
 * a time, until done or aborted (then it rejects with the AbortError; what it stored stays).
 * `result` is filled as it goes, so a caller that stops it early still has the counts.
 */
export async function warmFlowCache(project: Project, src: SourceAccess, deps: FlowWarmupDeps, result: FlowWarmupResult = { pairs: 0, cached: 0, computed: 0 }): Promise<FlowWarmupResult> {
  const { width, height } = src.geometry;
  const method = project.settings().propagation.flowMethod;
  const cache = projectFlowCache(project, width, height, method, deps.codec ?? loadFlowCodec());
  const addon = deps.addon ?? loadPropagateAddon();
  const keys = project.listKeyframes(() => '').map((k) => k.frame);
  const pairs = pairsToWarm(src.probe.frameCount, project.shotCuts()?.frames ?? [], keys);
  result.pairs = pairs.length;
  const missing: number[] = [];
  for (const i of pairs) {
    if ((await cache.has(i, 'forward')) && (await cache.has(i, 'backward'))) result.cached++;
    else missing.push(i);
  }
  const progress = new ProgressTracker({ stage: 'flow', total: pairs.length, alreadyDone: result.cached, onProgress: deps.onProgress });
  progress.emit();
  // Frames decoded by a stream of their own: translation's windows stay where translation is.
  const frames = new SourceFrames(src, deps.tools, deps.signal);
  const image = (data: Uint8Array) => ({ data, width, height, channels: 3 });
  for (const i of missing) {
    if (deps.signal?.aborted) throw abortError(deps.signal);
    const [a, b] = await Promise.all([frames.get(i), frames.get(i + 1)]);
    const flows = await addon.computeFlow(image(a), image(b), method, deps.signal);
    await Promise.all([cache.put(i, 'forward', flows.forward), cache.put(i, 'backward', flows.backward)]);
    result.computed++;
    progress.advance();
  }
  return result;
}

export interface FlowWarmup {
  /**
   * Stops the warm-up where it is and waits until it has let go of the cache: its counts so far,
   * and why it failed, if it did. A warm-up is a head start: its failure never fails anything else.
   */
  stop(): Promise<FlowWarmupResult & { error: string | null }>;
}

/** Runs warmFlowCache in the background until stop(), or until `deps.signal` aborts. */
export function startFlowWarmup(project: Project, src: SourceAccess, deps: FlowWarmupDeps): FlowWarmup {
  const controller = new AbortController();
  const stopOnAbort = () => controller.abort();
  deps.signal?.addEventListener('abort', stopOnAbort, { once: true });
  const counts: FlowWarmupResult = { pairs: 0, cached: 0, computed: 0 };
  const running = warmFlowCache(project, src, { ...deps, signal: controller.signal }, counts).then(
    () => null,
    (err: unknown) => (controller.signal.aborted ? null : err instanceof Error ? err.message : String(err)),
  );
  return {
    async stop() {
      controller.abort();
      const error = await running;
      deps.signal?.removeEventListener('abort', stopOnAbort);
      return { ...counts, error };
    },
  };
}
