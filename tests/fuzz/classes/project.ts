// Mutated project files (damaged pages, truncation, hostile stored JSON) for `rerender info` and
// `rerender export`: a typed refusal, never a half-written output, and the file left as it was.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FuzzClass } from '../harness.ts';
import { rng } from '../generators/prng.ts';
import { mutateProject } from '../generators/project.ts';
import { baseFixture, copyProject, type BaseFixture } from '../fixtures.ts';
import { cli, exists, expectTypedExit, leftovers, fail, sha, rawRenders } from '../support.ts';

export const project: FuzzClass<BaseFixture> = {
  name: 'project',
  setup: (dir) => baseFixture(dir),
  async run(f, seed, caseDir) {
    const r = rng(seed);
    const proj = copyProject(f.rendered, caseDir);
    const m = mutateProject(r, proj);
    const bytesBefore = sha(readFileSync(proj));
    const rendersBefore = m.kind === 'sql' ? rawRenders(proj) : null;
    const out = path.join(caseDir, 'out.mp4');
    const info = await cli(['info', proj]);
    expectTypedExit(info, `info (${m.label})`);
    const exp = await cli(['export', proj, out]);
    expectTypedExit(exp, `export (${m.label})`);
    if (exp.code === 0 && !exists(out)) fail('other', `export exit 0 but no ${path.basename(out)} (${m.label})`);
    if (exp.code !== 0 && exists(out)) fail('lost', `a failed export left ${path.basename(out)} (${m.label})`);
    // A damaged file is the user's only copy: reading it must not change it.
    if (m.kind === 'bytes' && sha(readFileSync(proj)) !== bytesBefore) fail('lost', `info/export modified the damaged file (${m.label})`);
    if (rendersBefore) {
      // Still a sound database: every render is still there, byte for byte (garbage included).
      const now = rawRenders(proj);
      for (const [frame, h] of rendersBefore) if (now.get(frame) !== h) fail('lost', `render ${frame} changed or gone (${m.label})`);
    }
    const left = leftovers(caseDir);
    if (left.length > 0) fail('lost', `left behind: ${left.join(', ')} (${m.label})`);
    return `${m.label} -> info ${info.code}, export ${exp.code}`;
  },
};
