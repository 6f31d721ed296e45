// Render status: which frames are rendered, stale (their key frames or settings changed), missing,
// or about to be rewritten by a running propagation; computed from hashes only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Project } from '../../src-main/project/index.ts';
import { frameHashes, propagateProject } from '../../src-main/studio/propagate.ts';
import {
  hashRuns,
  keyDigests,
  propagationBase,
  renderStatus,
  spansOf,
  type KeyDigest,
} from '../../src-main/studio/render-status.ts';
import { initProject } from '../../src-main/studio/init.ts';
import { importKeyframe } from '../../src-main/studio/keyframe-image.ts';
import { locateTools } from '../../src-main/media/index.ts';
import type { RenderState } from '../../src-main/api/contract.ts';
import { initFor, makeVideo, pngBytes, tempDir } from '../project/fixtures.ts';
import { makeClip } from '../helpers/clips.ts';

const N = 120;

function open(t: { after: (fn: () => void) => void }): Project {
  const dir = tempDir(t);
  const p = Project.create(path.join(dir, 's.rrproj'), initFor(makeVideo(dir), N));
  t.after(() => p.close());
  return p;
}

/** Stores a render for every frame a propagation would write now (keyed shots), as it would tag it. */
function renderAll(p: Project, frames?: (f: number) => boolean): void {
  const runs = hashRuns(p.frameCount, keyDigests(p), propagationBase(p), p.shotCuts()?.frames ?? []);
  const items = [];
  for (const r of runs) {
    if (r.hash === null) continue;
    for (let f = r.start; f <= r.end; f++) if (!frames || frames(f)) items.push({ frame: f, png: pngBytes(1000 + f, 16), runId: 'r', paramsHash: r.hash });
  }
  p.putRenders(items);
}

/** The state of every frame, as a compact string for readable failures: e.g. "R×10 S×5". */
function states(p: Project, opts?: Parameters<typeof renderStatus>[1]): RenderState[] {
  const s = renderStatus(p, opts);
  const out: RenderState[] = [];
  for (const span of s.spans) for (let f = span.start; f <= span.end; f++) out.push(span.state);
  assert.equal(out.length, p.frameCount);
  return out;
}

function framesIn(all: RenderState[], state: RenderState): number[] {
  return all.flatMap((s, f) => (s === state ? [f] : []));
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

test('hash runs give every frame the hash frameHashes (what propagate tags renders with) gives it', () => {
  const k = (frame: number, image: string, mask: string | null = null): KeyDigest => ({ frame, image, mask });
  const cases: { n: number; keys: KeyDigest[]; cuts: number[] }[] = [
    { n: 30, keys: [k(0, 'a'), k(29, 'b')], cuts: [] },
    { n: 30, keys: [k(5, 'a'), k(6, 'b', 'm'), k(20, 'c')], cuts: [] },
    { n: 40, keys: [k(3, 'a'), k(25, 'b')], cuts: [10, 20] },
    { n: 40, keys: [k(10, 'a'), k(20, 'b')], cuts: [10, 20, 39] },
    { n: 12, keys: [], cuts: [] },
    { n: 12, keys: [k(4, 'a')], cuts: [0, 12] },
  ];
  for (const c of cases) {
    const want = frameHashes(c.n, c.keys, { b: 1 }, c.cuts);
    const runs = hashRuns(c.n, c.keys, { b: 1 }, c.cuts);
    const got = new Array<string | null>(c.n).fill('uncovered');
    for (const r of runs) for (let f = r.start; f <= r.end; f++) got[f] = r.hash;
    const shots = [0, ...c.cuts.filter((x) => x > 0 && x < c.n), c.n];
    for (let f = 0; f < c.n; f++) {
      const s = shots.findLastIndex((x) => x <= f);
      const keyed = c.keys.some((kk) => kk.frame >= shots[s]! && kk.frame < shots[s + 1]!);
      assert.equal(got[f], keyed ? want[f] : null, `frame ${f} of ${JSON.stringify(c)}`);
    }
  }
});

test('a real propagation leaves every frame rendered; a setting change makes them stale', async (t) => {
  const dir = tempDir(t);
  const clip = await makeClip(dir, { frames: 8, width: 64, height: 48, fps: { num: 25, den: 1 } });
  const tools = await locateTools({ env: process.env });
  const p = await initProject({ videoPath: clip, projectPath: path.join(dir, 'real.rrproj'), shortSide: 48 }, { tools });
  t.after(() => p.close());
  const src = path.join(dir, 'k.png');
  const { execFileSync } = await import('node:child_process');
  execFileSync(tools.ffmpeg, ['-v', 'error', '-y', '-i', clip, '-frames:v', '1', '-vf', 'negate', src]);
  p.addKeyframe(0);
  await importKeyframe(p, 0, { path: src }, null, { tools });
  assert.deepEqual(renderStatus(p).counts, { rendered: 0, stale: 0, missing: 8, rendering: 0 });
  await propagateProject(p, {}, { tools });
  // The hashes computed here are those the propagation wrote: nothing is out of date.
  assert.deepEqual(renderStatus(p).counts, { rendered: 8, stale: 0, missing: 0, rendering: 0 });
  p.updateSettings({ propagation: { patchSize: p.settings().propagation.patchSize + 2 } });
  assert.deepEqual(renderStatus(p).counts, { rendered: 0, stale: 8, missing: 0, rendering: 0 });
});

test('a propagation setting makes every rendered frame stale; threads do not', (t) => {
  const p = open(t);
  p.setKeyframeImage(10, pngBytes(10), 'edited', null);
  p.setKeyframeImage(60, pngBytes(60), 'edited', null);
  renderAll(p);
  assert.deepEqual(renderStatus(p).counts, { rendered: N, stale: 0, missing: 0, rendering: 0 });
  p.updateSettings({ propagation: { threads: 3 } });
  assert.equal(renderStatus(p).counts.rendered, N, 'the thread count does not change a render');
  p.updateSettings({ propagation: { uniformity: p.settings().propagation.uniformity + 1 } });
  assert.deepEqual(renderStatus(p).counts, { rendered: 0, stale: N, missing: 0, rendering: 0 });
});

test('changing one key frame makes only the frames that depend on it stale', (t) => {
  const p = open(t);
  for (const f of [10, 50, 90]) p.setKeyframeImage(f, pngBytes(f), 'edited', null);
  renderAll(p);
  p.setKeyframeImage(50, pngBytes(5000), 'edited', null);
  const s = states(p);
  assert.deepEqual(framesIn(s, 'stale'), range(11, 89));
  assert.deepEqual(framesIn(s, 'rendered'), [...range(0, 10), ...range(90, N - 1)]);
  // A mask is part of what a key frame gives: painting one is a change too.
  renderAll(p);
  p.setKeyframeMask(90, pngBytes(77));
  assert.deepEqual(framesIn(states(p), 'stale'), range(51, N - 1));
});

test('deleted renders are missing; with no key frame image everything is', (t) => {
  const p = open(t);
  assert.deepEqual(renderStatus(p).counts, { rendered: 0, stale: 0, missing: N, rendering: 0 });
  p.setKeyframeImage(0, pngBytes(1), 'edited', null);
  renderAll(p);
  p.deleteRenders([3, 4, 5, 100]);
  const s = states(p);
  assert.deepEqual(framesIn(s, 'missing'), [3, 4, 5, 100]);
  // Without any key frame image nothing can be rendered: the old renders are out of date.
  p.clearKeyframeImage(0);
  assert.deepEqual(renderStatus(p).counts, { rendered: 0, stale: N - 4, missing: 4, rendering: 0 });
});

test('a shot without key frames is missing (or stale where old renders remain)', (t) => {
  const p = open(t);
  p.setShotCuts([40, 80], 'test');
  p.setKeyframeImage(10, pngBytes(10), 'edited', null);
  p.setKeyframeImage(85, pngBytes(85), 'edited', null);
  renderAll(p);
  const s = states(p);
  assert.deepEqual(framesIn(s, 'missing'), range(40, 79));
  assert.deepEqual(framesIn(s, 'rendered'), [...range(0, 39), ...range(80, N - 1)]);
  // The key frame of the last shot goes: its old renders stay, out of date.
  p.removeKeyframe(85);
  assert.deepEqual(framesIn(states(p), 'stale'), range(80, N - 1));
});

test('a running propagation marks the frames it will rewrite as rendering', (t) => {
  const p = open(t);
  p.setShotCuts([100], 'test');
  p.setKeyframeImage(0, pngBytes(1), 'edited', null);
  renderAll(p, (f) => f < 30);
  // Given explicitly: all frames; fresh ones and the unkeyed shot keep their state.
  let s = states(p, { rendering: [0, N - 1] });
  assert.deepEqual(framesIn(s, 'rendering'), range(30, 99));
  assert.deepEqual(framesIn(s, 'missing'), range(100, N - 1));
  // From the project's job records (as `rerender info` sees a propagation in another process).
  const job = p.createJob({ kind: 'propagate', total: N, params: { kind: 'propagate', frames: [40, 49] } });
  p.updateJob(job.id, { status: 'running' });
  s = states(p);
  assert.deepEqual(framesIn(s, 'rendering'), range(40, 49));
  p.updateJob(job.id, { status: 'done' });
  assert.equal(renderStatus(p).counts.rendering, 0);
});

test('spans are run-length coded', () => {
  const st: RenderState[] = ['rendered', 'rendered', 'stale', 'missing', 'missing', 'missing', 'rendering', 'rendered'];
  const s = spansOf(st);
  assert.deepEqual(s.spans, [
    { start: 0, end: 1, state: 'rendered' },
    { start: 2, end: 2, state: 'stale' },
    { start: 3, end: 5, state: 'missing' },
    { start: 6, end: 6, state: 'rendering' },
    { start: 7, end: 7, state: 'rendered' },
  ]);
  assert.deepEqual(s.counts, { rendered: 3, stale: 1, missing: 3, rendering: 1 });
});

test('remembered key-frame digests never hide a new image written in the same millisecond', (t) => {
  const p = open(t);
  t.mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_000 });
  p.setKeyframeImage(0, pngBytes(1), 'edited', null);
  renderAll(p);
  assert.equal(renderStatus(p).counts.rendered, N);
  // Same millisecond, same updated_at: the digest must not come from the cache.
  p.setKeyframeImage(0, pngBytes(2), 'edited', null);
  assert.equal(renderStatus(p).counts.stale, N);
  renderAll(p);
  t.mock.timers.tick(5);
  assert.equal(renderStatus(p).counts.rendered, N); // now remembered
  p.setKeyframeImage(0, pngBytes(3), 'edited', null);
  assert.equal(renderStatus(p).counts.stale, N, 'a later write has a later time: a new cache key');
});
