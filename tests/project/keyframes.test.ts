import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Project, ProjectError, paramsHash } from '../../src-main/project/index.ts';
import { initFor, makeVideo, pngBytes, tempDir } from './fixtures.ts';

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof ProjectError && err.code === code, `expected ${code}`);
}

function open(t: { after: (fn: () => void) => void }, frames = 100): Project {
  const dir = tempDir(t);
  const p = Project.create(path.join(dir, 'k.rrproj'), initFor(makeVideo(dir), frames));
  t.after(() => p.close());
  return p;
}

test('key frame states: none, edited, translated, stale', (t) => {
  const p = open(t);
  const h1 = paramsHash({ prompt: 'a', seed: 1 });
  const h2 = paramsHash({ prompt: 'a', seed: 2 });
  assert.equal(p.addKeyframe(0), true);
  assert.equal(p.addKeyframe(0), false);
  p.setKeyframeImage(10, pngBytes(10), 'translated', h1); // creates the key frame
  p.setKeyframeImage(20, pngBytes(20), 'edited', null);
  p.setKeyframeImage(30, pngBytes(30), 'translated', h2);

  const states = (h: Parameters<Project['listKeyframes']>[0]) =>
    p.listKeyframes(h).map((k) => [k.frame, k.state]);
  assert.deepEqual(states(h1), [
    [0, 'none'],
    [10, 'translated'],
    [20, 'edited'],
    [30, 'stale'],
  ]);
  // A per-frame hash (prompt overrides): each translation is judged against its own frame's hash.
  assert.deepEqual(states((f) => (f === 30 ? h2 : h1)).map((s) => s[1]), ['none', 'translated', 'edited', 'translated']);

  const k = p.getKeyframe(10, h2);
  assert.ok(k);
  assert.equal(k.state, 'stale');
  assert.equal(k.origin, 'translated');
  assert.equal(k.paramsHash, h1);
  assert.deepEqual(k.image, pngBytes(10));
  assert.equal(k.mask, null);
  assert.match(k.updatedAt, /Z$/);
  assert.equal(p.getKeyframe(11), null);

  p.clearKeyframeImage(10);
  assert.equal(p.getKeyframe(10)?.state, 'none');
  assert.equal(p.getKeyframe(10)?.image, null);
});

test('mask, prompt override, move, remove and setKeyframes', (t) => {
  const p = open(t);
  p.setKeyframeImage(5, pngBytes(5), 'edited', null);
  p.setKeyframeMask(5, pngBytes(500, 64));
  p.setKeyframePrompt(5, 'a red scarf');
  let info = p.listKeyframes('h')[0];
  assert.equal(info?.hasMask, true);
  assert.equal(info?.prompt, 'a red scarf');

  p.addKeyframe(9);
  throwsCode(() => p.moveKeyframe(5, 9), 'EXISTS');
  throwsCode(() => p.moveKeyframe(6, 7), 'NO_KEYFRAME');
  p.moveKeyframe(5, 7);
  assert.equal(p.getKeyframe(5), null);
  const moved = p.getKeyframe(7);
  assert.deepEqual(moved?.image, pngBytes(5));
  assert.deepEqual(moved?.mask, pngBytes(500, 64));
  assert.equal(moved?.prompt, 'a red scarf');

  p.setKeyframeMask(7, null);
  p.setKeyframePrompt(7, null);
  info = p.listKeyframes('h').find((k) => k.frame === 7);
  assert.equal(info?.hasMask, false);
  assert.equal(info?.prompt, null);

  // Frames that stay keep their data; others go; new ones are empty.
  p.setKeyframes([7, 40, 60, 40]);
  assert.deepEqual(
    p.listKeyframes('h').map((k) => [k.frame, k.state]),
    [
      [7, 'edited'],
      [40, 'none'],
      [60, 'none'],
    ],
  );
  // All or nothing: one bad frame changes nothing.
  throwsCode(() => p.setKeyframes([7, 100]), 'OUT_OF_RANGE');
  assert.deepEqual(p.listKeyframes('h').map((k) => k.frame), [7, 40, 60]);

  p.removeKeyframe(40);
  throwsCode(() => p.removeKeyframe(40), 'NO_KEYFRAME');
  throwsCode(() => p.clearKeyframeImage(40), 'NO_KEYFRAME');
  throwsCode(() => p.setKeyframeMask(40, null), 'NO_KEYFRAME');
  throwsCode(() => p.setKeyframePrompt(40, 'x'), 'NO_KEYFRAME');
});

test('frame indexes outside the source and non-PNG images are refused', (t) => {
  const p = open(t, 100);
  for (const f of [-1, 100, 1.5, Number.NaN]) {
    throwsCode(() => p.addKeyframe(f), 'OUT_OF_RANGE');
    throwsCode(() => p.setKeyframeImage(f, pngBytes(1), 'edited', null), 'OUT_OF_RANGE');
    throwsCode(() => p.putRender(f, pngBytes(1), { runId: 'r', paramsHash: 'h' }), 'OUT_OF_RANGE');
  }
  p.addKeyframe(99);
  throwsCode(() => p.moveKeyframe(99, 100), 'OUT_OF_RANGE');
  throwsCode(() => p.setKeyframeImage(3, Buffer.from('GIF89a not a png'), 'edited', null), 'INVALID_IMAGE');
  throwsCode(() => p.setKeyframeImage(3, pngBytes(3), 'painted' as 'edited', null), 'INVALID_ARGUMENT');
  assert.deepEqual(p.listKeyframes('h').map((k) => k.frame), [99]);
});

test('plain Uint8Array images are stored byte for byte', (t) => {
  const p = open(t);
  const bytes = new Uint8Array(pngBytes(77, 1000));
  p.setKeyframeImage(1, bytes.subarray(0, 500), 'edited', null);
  assert.deepEqual(new Uint8Array(p.getKeyframe(1)?.image ?? []), bytes.subarray(0, 500));
});
