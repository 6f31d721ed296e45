// `rerender info` says how many frames are up to date, out of date, missing or being rendered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Project } from '../../src-main/project/index.ts';
import { hashRuns, keyDigests, propagationBase } from '../../src-main/studio/render-status.ts';
import { rendersLine } from '../../src-main/cli/commands/info.ts';
import { initFor, makeVideo, pngBytes, tempDir } from '../project/fixtures.ts';
import { jsonLines, runCli } from './run-cli.ts';

const result = (stdout: string): Record<string, unknown> => jsonLines(stdout).find((l) => l.type === 'result')!;

test('info counts fresh, stale and missing renders (text and --json)', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'i.rrproj');
  const p = Project.create(file, initFor(makeVideo(dir), 30));
  p.setKeyframeImage(5, pngBytes(5), 'edited', null);
  p.setKeyframeImage(20, pngBytes(20), 'edited', null);
  const runs = hashRuns(30, keyDigests(p), propagationBase(p));
  p.putRenders(runs.flatMap((r) => Array.from({ length: r.end - r.start + 1 }, (_, i) => ({ frame: r.start + i, png: pngBytes(i, 8), runId: 'x', paramsHash: r.hash! }))));
  // Key frame 20 changes (frames 6..29 depend on it) and three renders go.
  p.setKeyframeImage(20, pngBytes(2020), 'edited', null);
  p.deleteRenders([27, 28, 29]);
  p.close();

  const text = await runCli(['info', file]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /renders +6 of 30 frames up to date, 21 out of date \(key frames or settings changed since\), 3 not rendered\n/);
  const json = await runCli(['info', file, '--json']);
  const r = result(json.stdout);
  assert.deepEqual(r.renderStatus, { rendered: 6, stale: 21, missing: 3, rendering: 0 });
  assert.equal(r.renderedFrames, 27, 'renderedFrames still counts stored renders');
});

test('the renders line names only the states present', () => {
  assert.equal(rendersLine({ rendered: 10, stale: 0, missing: 0, rendering: 0 }, 10), '10 of 10 frames up to date');
  assert.equal(rendersLine({ rendered: 0, stale: 0, missing: 4, rendering: 6 }, 10), '0 of 10 frames up to date, 6 being rendered now, 4 not rendered');
});
