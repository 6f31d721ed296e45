import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, copyFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Project } from '../../src-main/project/index.ts';
import { hashFile, initFor, makeVideo, tempDir } from './fixtures.ts';

/** Counts hashed files, so the test sees that only same-size candidates get hashed. */
function countingHash(): { fn: (p: string) => Promise<string>; hashed: string[] } {
  const hashed: string[] = [];
  return { hashed, fn: (p) => (hashed.push(path.basename(p)), hashFile(p)) };
}

test('resolveSource: linked, re-linked by hash after a move, then missing', async (t) => {
  const dir = tempDir(t);
  const media = path.join(dir, 'media');
  const elsewhere = path.join(dir, 'elsewhere');
  mkdirSync(media);
  mkdirSync(elsewhere);
  const video = makeVideo(media, 'take1.mov', 5000);
  const file = path.join(dir, 'proj', 'p.rrproj');
  mkdirSync(path.dirname(file));
  const p = Project.create(file, initFor(video));
  t.after(() => p.close());

  let h = countingHash();
  assert.deepEqual(await p.resolveSource([], h.fn), { status: 'linked', path: video });
  assert.deepEqual(h.hashed, [], 'an unchanged file is not hashed');

  // Moved and renamed; decoys: same size different bytes, and a different size.
  const moved = path.join(elsewhere, 'renamed.mov');
  renameSync(video, moved);
  writeFileSync(path.join(elsewhere, 'decoy.mov'), randomBytes(5000));
  writeFileSync(path.join(elsewhere, 'other.mov'), randomBytes(4000));
  h = countingHash();
  const r = await p.resolveSource([media, elsewhere], h.fn);
  assert.deepEqual(r, { status: 'relinked', path: moved, previousPath: video });
  assert.deepEqual(h.hashed.sort(), ['decoy.mov', 'renamed.mov']);
  assert.equal(p.source().path, moved);
  assert.equal(p.source().mtimeMs, statSync(moved).mtimeMs);
  p.close();

  // The new location is what a reopened project sees.
  const q = Project.open(file);
  t.after(() => q.close());
  assert.deepEqual(await q.resolveSource([], hashFile), { status: 'linked', path: moved });

  rmSync(moved);
  assert.deepEqual(await q.resolveSource([media, elsewhere, path.join(dir, 'no-such-dir')], hashFile), {
    status: 'missing',
    path: moved,
  });
});

test("resolveSource looks in the project's own folder and accepts a touched file in place", async (t) => {
  const dir = tempDir(t);
  const outside = path.join(dir, 'outside');
  mkdirSync(outside);
  const video = makeVideo(outside, 'v.mp4', 3000);
  const file = path.join(dir, 'p.rrproj');
  const p = Project.create(file, initFor(video));
  t.after(() => p.close());

  // Copied next to the project, original gone: found without any search folder.
  copyFileSync(video, path.join(dir, 'v.mp4'));
  rmSync(video);
  const r = await p.resolveSource([], hashFile);
  assert.deepEqual(r, { status: 'relinked', path: path.join(dir, 'v.mp4'), previousPath: video });

  // Same bytes, new mtime: still linked, mtime refreshed.
  utimesSync(path.join(dir, 'v.mp4'), new Date(2001, 1, 1), new Date(2001, 1, 1));
  assert.deepEqual(await p.resolveSource([], hashFile), { status: 'linked', path: path.join(dir, 'v.mp4') });
  assert.equal(p.source().mtimeMs, statSync(path.join(dir, 'v.mp4')).mtimeMs);

  // Same size, different bytes at the stored path: not the source.
  writeFileSync(path.join(dir, 'v.mp4'), randomBytes(3000));
  assert.equal((await p.resolveSource([], hashFile)).status, 'missing');
});
