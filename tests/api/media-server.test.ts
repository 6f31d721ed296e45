// The media server's source-frame cache across project switches: a decode still running for the
// old project must not fill the new project's cache nor drop the new project's in-flight entry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaServer } from '../../src-main/api/media-server.ts';
import type { MediaTools } from '../../src-main/media/index.ts';
import type { Project } from '../../src-main/project/index.ts';

/** Just what the source route reads from a project. */
function fakeProject(path: string, sha256: string): Project {
  const fake = {
    path,
    frameCount: 10,
    source: () => ({ sha256, working: { width: 4, height: 2, crop: null } }),
    getCache: () => null,
  };
  return fake as unknown as Project;
}

interface Held {
  project: Project;
  frame: number;
  release(): void;
}

/** A decoder whose every decode waits until released, and answers "<project path>#<frame>". */
function heldDecoder(): { decode: (p: Project, f: number) => Promise<Uint8Array>; calls: Held[] } {
  const calls: Held[] = [];
  const decode = (project: Project, frame: number): Promise<Uint8Array> =>
    new Promise((resolve) => {
      calls.push({ project, frame, release: () => resolve(new TextEncoder().encode(`${project.path}#${frame}`)) });
    });
  return { decode, calls };
}

const text = (b: Uint8Array | null): string => new TextDecoder().decode(b ?? new Uint8Array());
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup() {
  let current = fakeProject('/p/old.rrproj', 'a'.repeat(64));
  const dec = heldDecoder();
  const media = new MediaServer({
    project: () => current,
    tools: () => Promise.resolve({} as MediaTools),
    decode: dec.decode,
  });
  return { media, dec, open: (p: Project) => ((current = p), media.reset()) };
}

test('a decode finishing after another project opened never shows in the new project', async () => {
  const { media, dec, open } = setup();
  const oldReq = media.handle('frame/source/0.png', {});
  await tick();
  assert.equal(dec.calls.length, 1);

  open(fakeProject('/p/new.rrproj', 'b'.repeat(64)));
  dec.calls[0]!.release(); // the old project's decode ends only now
  assert.equal(text((await oldReq).body), '/p/old.rrproj#0');

  const newReq = media.handle('frame/source/0.png', {});
  await tick();
  assert.equal(dec.calls.length, 2, 'the new project decodes its own frame 0');
  dec.calls[1]!.release();
  assert.equal(text((await newReq).body), '/p/new.rrproj#0');
  // And the cache holds the new picture: no third decode, same bytes.
  assert.equal(text((await media.handle('frame/source/0.png', {})).body), '/p/new.rrproj#0');
  assert.equal(dec.calls.length, 2);
});

test("the old project's decode ending does not drop the new project's in-flight entry", async () => {
  const { media, dec, open } = setup();
  const oldReq = media.handle('frame/source/3.png', {});
  await tick();
  open(fakeProject('/p/new.rrproj', 'b'.repeat(64)));
  const first = media.handle('frame/source/3.png', {});
  await tick();
  assert.equal(dec.calls.length, 2);

  dec.calls[0]!.release();
  await oldReq;
  await tick();
  // A second request for frame 3 shares the new decode instead of starting a third.
  const second = media.handle('frame/source/3.png', {});
  await tick();
  assert.equal(dec.calls.length, 2, 'the in-flight decode was forgotten');
  dec.calls[1]!.release();
  assert.deepEqual([text((await first).body), text((await second).body)], ['/p/new.rrproj#3', '/p/new.rrproj#3']);
});

test('reopening the same project, or another, changes the media revision', () => {
  const { media, open } = setup();
  const a = fakeProject('/p/a.rrproj', 'a'.repeat(64));
  const b = fakeProject('/p/b.rrproj', 'a'.repeat(64)); // same video, another project
  open(a);
  const revA = media.rev(a);
  assert.equal(media.rev(a), revA, 'stable while the project stays open');
  assert.notEqual(media.rev(b), revA);
  open(a);
  assert.notEqual(media.rev(a), revA, 'a reopen gets a new revision');
  const resized = { ...a, source: () => ({ sha256: 'a'.repeat(64), working: { width: 8, height: 4, crop: null } }) } as unknown as Project;
  assert.notEqual(media.rev(resized), media.rev(a));
});
