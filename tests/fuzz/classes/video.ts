// Mutated small videos for `rerender init`: a typed refusal or a project that is whole.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FuzzClass } from '../harness.ts';
import { rng } from '../generators/prng.ts';
import { mutateBytes, swapRanges } from '../generators/bytes.ts';
import { videoClip } from '../fixtures.ts';
import { cli, exists, expectIntact, expectTypedExit, leftovers, fail } from '../support.ts';
import { CLASSES } from '../config.ts';

export const video: FuzzClass<{ clip: Buffer }> = {
  name: 'video',
  async setup(dir) {
    return { clip: readFileSync(await videoClip(dir)) };
  },
  async run({ clip }, seed, caseDir) {
    const r = rng(seed);
    // Header swaps are their own strategy: the mp4 index (moov) sits at the end of this clip.
    const m = r.bool(0.25) ? swapRanges(r, clip, clip.length) : mutateBytes(r, clip);
    const input = path.join(caseDir, 'in.mp4');
    writeFileSync(input, m.bytes);
    const proj = path.join(caseDir, 'p.rrproj');
    const res = await cli(['init', input, '-o', proj, '--size', '64'], CLASSES.video.caseMs - 2000);
    expectTypedExit(res, `init (${m.label})`);
    let exported = '';
    if (res.code === 0) {
      expectIntact(proj, null);
      // The probe may pass a file whose frames are damaged: decoding them all must fail typed too.
      const out = path.join(caseDir, 'out.mp4');
      const exp = await cli(['export', proj, out], CLASSES.video.caseMs - 2000);
      expectTypedExit(exp, `export (${m.label})`);
      if (exp.code !== 0 && exists(out)) fail('lost', `a failed export left ${path.basename(out)} (${m.label})`);
      expectIntact(proj, null);
      exported = `, export ${exp.code}`;
    } else if (exists(proj)) fail('lost', `a refused init left ${path.basename(proj)} behind (${m.label})`);
    const left = leftovers(caseDir);
    if (left.length > 0) fail('lost', `left behind: ${left.join(', ')}`);
    return `${m.label} -> init ${res.code}${exported}`;
  },
};
