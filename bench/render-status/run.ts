// How long the render status takes on a 10 000-frame project: the host recomputes it on every
// project change, so it must stay in the low milliseconds. A synthetic project (random "video"
// bytes, key-frame images of a realistic size, a render row per frame); prints the figures.
//   node bench/render-status/run.ts [--frames 10000] [--keys 40] [--key-kb 400]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Project } from '../../src-main/project/index.ts';
import { hashRuns, keyDigests, propagationBase, renderStatus } from '../../src-main/studio/render-status.ts';
import { initFor, makeVideo } from '../../tests/project/fixtures.ts';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '10000' }, keys: { type: 'string', default: '40' }, 'key-kb': { type: 'string', default: '400' } } });
const n = Number(values.frames);
const keys = Number(values.keys);
const keyBytes = Number(values['key-kb']) * 1024;

const png = (size: number): Buffer => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(size)]);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-status-'));
try {
  const p = Project.create(path.join(dir, 'b.rrproj'), initFor(makeVideo(dir), n));
  p.setShotCuts([Math.floor(n / 3), Math.floor((2 * n) / 3)], 'bench');
  for (let i = 0; i < keys; i++) p.setKeyframeImage(Math.floor(((i + 0.5) * n) / keys), png(keyBytes), 'edited', null);
  const runs = hashRuns(n, keyDigests(p), propagationBase(p), p.shotCuts()?.frames ?? []);
  const tiny = png(64);
  const items = runs.flatMap((r) => (r.hash === null ? [] : Array.from({ length: r.end - r.start + 1 }, (_, k) => ({ frame: r.start + k, png: tiny, runId: 'b', paramsHash: r.hash! }))));
  p.putRenders(items);
  p.deleteRenders(Array.from({ length: Math.floor(n / 10) }, (_, i) => n - 1 - i));
  p.setKeyframeImage(Math.floor((0.5 * n) / keys), png(keyBytes), 'edited', null);

  const time = (fn: () => void, reps: number): number[] => {
    const t: number[] = [];
    for (let i = 0; i < reps; i++) {
      const s = performance.now();
      fn();
      t.push(performance.now() - s);
    }
    return t.sort((a, b) => a - b);
  };
  const median = (t: number[]) => t[Math.floor(t.length / 2)]!.toFixed(1);
  const listed = p.listKeyframes(() => '');
  // The first call after opening digests every key-frame image; later ones only changed ones.
  const coldStart = performance.now();
  renderStatus(p, { keyframes: listed });
  const cold = performance.now() - coldStart;
  // As the host calls it: with the key-frame list its summary reads anyway.
  const total = time(() => renderStatus(p, { keyframes: listed }), 15);
  const digests = time(() => keyDigests(p, listed), 15);
  const list = time(() => p.listKeyframes(() => ''), 15);
  const stored = time(() => p.renderHashes(), 15);
  const s = renderStatus(p);
  console.log(`render status, ${n} frames, ${keys} key frames of ${values['key-kb']} KB, 2 cuts`);
  console.log(`| step | median ms | max ms |\n|---|---|---|`);
  console.log(`| whole renderStatus, first call (digests every key-frame image) | ${cold.toFixed(1)} | |`);
  console.log(`| whole renderStatus, as on each project change | ${median(total)} | ${total.at(-1)!.toFixed(1)} |`);
  console.log(`| key-frame digests (cached) | ${median(digests)} | ${digests.at(-1)!.toFixed(1)} |`);
  console.log(`| (not in the total) listKeyframes, which the summary reads anyway | ${median(list)} | ${list.at(-1)!.toFixed(1)} |`);
  console.log(`| stored render hashes | ${median(stored)} | ${stored.at(-1)!.toFixed(1)} |`);
  console.log(`counts ${JSON.stringify(s.counts)}, ${s.spans.length} spans`);
  p.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
