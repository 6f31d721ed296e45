// The optical flow computed ahead of propagation while key frames are translated: which pairs,
// that a later propagation computes none of them again, that stopping leaves only whole entries,
// that a failure fails nothing else, and that translation starts it only when asked to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { locateTools } from '../../src-main/media/index.ts';
import type { Project } from '../../src-main/project/index.ts';
import { loadPropagateAddon, type PropagateAddon } from '../../src-main/propagate/native.ts';
import { cacheDirOf } from '../../src-main/studio/flow-cache.ts';
import { pairsToWarm, startFlowWarmup, warmFlowCache } from '../../src-main/studio/flow-warmup.ts';
import { initProject } from '../../src-main/studio/init.ts';
import { importKeyframe } from '../../src-main/studio/keyframe-image.ts';
import { propagateProject } from '../../src-main/studio/propagate.ts';
import { openSource } from '../../src-main/studio/source.ts';
import { translateProject } from '../../src-main/studio/translate.ts';
import { makeClip } from '../helpers/clips.ts';
import { tempDir } from '../project/fixtures.ts';

const ENGINE = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');
const FRAMES = 8;

test('the pairs a propagation uses: inside shots that hold a key frame, never across a cut', () => {
  assert.deepEqual(pairsToWarm(10, [4, 7], [5]), [4, 5]);
  assert.deepEqual(pairsToWarm(10, [4, 7], [0, 8]), [0, 1, 2, 7, 8]);
  assert.deepEqual(pairsToWarm(10, [], [9]), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(pairsToWarm(10, [4], []), []);
});

async function project(t: { after: (fn: () => void) => void }): Promise<{ p: Project; dir: string; tools: Awaited<ReturnType<typeof locateTools>> }> {
  const dir = tempDir(t);
  const clip = await makeClip(dir, { frames: FRAMES, width: 64, height: 48, fps: { num: 25, den: 1 } });
  const tools = await locateTools({ env: process.env });
  const p = await initProject({ videoPath: clip, projectPath: path.join(dir, 'w.rrproj'), shortSide: 48 }, { tools });
  t.after(() => p.close());
  p.addKeyframe(0);
  return { p, dir, tools };
}

const flowFiles = (p: Project) => {
  const root = path.join(cacheDirOf(p.path), 'flow');
  return existsSync(root) ? readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(flq|tmp)/.test(f)) : [];
};

test('a warmed cache leaves a propagation no flow to compute', async (t) => {
  const { p, dir, tools } = await project(t);
  const src = await openSource(p);
  const first = await warmFlowCache(p, src, { tools });
  assert.deepEqual(first, { pairs: FRAMES - 1, cached: 0, computed: FRAMES - 1 });
  assert.equal(flowFiles(p).length, 2 * (FRAMES - 1), 'both directions of every pair, no temp file');
  assert.deepEqual(await warmFlowCache(p, src, { tools }), { pairs: FRAMES - 1, cached: FRAMES - 1, computed: 0 });

  const { execFileSync } = await import('node:child_process');
  const key = path.join(dir, 'k.png');
  execFileSync(tools.ffmpeg, ['-v', 'error', '-y', '-i', src.path, '-frames:v', '1', '-vf', 'negate', key]);
  await importKeyframe(p, 0, { path: key }, null, { tools });
  const r = await propagateProject(p, {}, { tools });
  assert.equal(r.framesWritten, FRAMES);
  assert.equal(r.ms.flow, 0, 'every flow came from the cache');
});

test('stopping keeps the whole entries written so far; a failure is reported, never thrown', async (t) => {
  const { p, tools } = await project(t);
  const src = await openSource(p);
  const real = loadPropagateAddon();
  let calls = 0;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => { release = resolve; });
  // The third pair's flow never finishes on its own: the warm-up is stopped while it is in there.
  const slow = {
    computeFlow: async (...args: Parameters<PropagateAddon['computeFlow']>) => {
      if (++calls === 3) {
        await new Promise<void>((resolve) => { args[3]?.addEventListener('abort', () => resolve(), { once: true }); void held.then(resolve); });
        throw new DOMException('The operation was aborted', 'AbortError');
      }
      return real.computeFlow(...args);
    },
  };
  const warm = startFlowWarmup(p, src, { tools, addon: slow });
  while (calls < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  const stopped = await warm.stop();
  release();
  assert.deepEqual(stopped, { pairs: FRAMES - 1, cached: 0, computed: 2, error: null });
  assert.deepEqual(flowFiles(p).map((f) => path.basename(f)).sort(), ['0-backward.flq', '0-forward.flq', '1-backward.flq', '1-forward.flq']);

  const failing = startFlowWarmup(p, src, { tools, addon: { computeFlow: async () => { throw new Error('flow exploded'); } } });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(await failing.stop(), { pairs: FRAMES - 1, cached: 2, computed: 0, error: 'flow exploded' });
});

test('translation prepares the flow meanwhile when asked, and by default only on a GPU', async (t) => {
  const { p, tools } = await project(t);
  p.addKeyframe(5);
  p.updateSettings({ model: path.join(ENGINE, 'tiny-sd'), controlnetModel: path.join(ENGINE, 'tiny-controlnet'), prompt: 'a fox', steps: 2 });
  const forced = await translateProject(p, {}, { tools, provider: 'cpu', flowWarmup: 'always' });
  assert.deepEqual(forced.translated, [0, 5]);
  assert.ok(forced.flowPairsPrepared >= 1 && forced.flowPairsPrepared <= FRAMES - 1, `prepared ${forced.flowPairsPrepared}`);
  assert.equal(flowFiles(p).filter((f) => f.endsWith('.flq')).length, 2 * forced.flowPairsPrepared);

  rmSync(path.join(cacheDirOf(p.path), 'flow'), { recursive: true, force: true });
  p.updateSettings({ prompt: 'a cat' });
  const onCpu = await translateProject(p, {}, { tools, provider: 'cpu' });
  assert.equal(onCpu.provider, 'cpu');
  assert.deepEqual(onCpu.translated, [0, 5]);
  assert.equal(onCpu.flowPairsPrepared, 0, 'the default leaves the CPU to the pipeline running on it');
});
