// Hostile key-frame images and masks for `rerender keyframe --import [--mask]`: a typed refusal
// (fast for absurd declared sizes) that leaves the project and its renders as they were.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FuzzClass } from '../harness.ts';
import { rng } from '../generators/prng.ts';
import { imageCase } from '../generators/images.ts';
import { baseFixture, copyProject, FRAMES, type BaseFixture } from '../fixtures.ts';
import { cli, expectIntact, expectTypedExit, fail, renderDigest } from '../support.ts';

interface ImageFixture extends BaseFixture {
  bytes: { png: Buffer; jpg: Buffer; mask: Buffer };
  renders: Map<number, string>;
}

export const image: FuzzClass<ImageFixture> = {
  name: 'image',
  async setup(dir) {
    const f = await baseFixture(dir);
    return { ...f, bytes: { png: readFileSync(f.png), jpg: readFileSync(f.jpg), mask: readFileSync(f.mask) }, renders: renderDigest(f.rendered) };
  },
  async run(f, seed, caseDir) {
    const r = rng(seed);
    const c = imageCase(r, f.bytes);
    const proj = copyProject(f.rendered, caseDir);
    const img = path.join(caseDir, `img.${c.imageExt}`);
    writeFileSync(img, c.image);
    const args = ['keyframe', proj, '--frame', String(r.bool(0.8) ? r.int(0, FRAMES - 1) : r.pick([FRAMES, 10_000])), '--import', img];
    if (c.mask) {
      const mask = path.join(caseDir, 'mask.png');
      writeFileSync(mask, c.mask);
      args.push('--mask', mask);
    }
    const res = await cli(args);
    expectTypedExit(res, `keyframe (${c.label})`, !c.mustFail);
    if (c.quick && res.code !== 0 && res.ms > 3000) fail('hang', `${c.label}: refused only after ${Math.round(res.ms)} ms`);
    // A refused import changes nothing; an accepted one may retire renders but keeps the file sound.
    expectIntact(proj, res.code === 0 ? null : f.renders);
    return `${c.label} -> exit ${res.code}`;
  },
};
