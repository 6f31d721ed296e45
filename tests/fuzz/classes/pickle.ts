// Mutated PyTorch checkpoints (real torch.save files, zip and legacy layouts, with views) through
// the weights reader: either every tensor comes back (finite where float) or the reader refuses
// with BAD_MODEL; nothing else escapes, nothing hangs, and no planted call ever runs.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FuzzClass } from '../harness.ts';
import { rng } from '../generators/prng.ts';
import { mutateTorchFile } from '../generators/pickle.ts';
import { readWeightsIndex } from '../../../src-main/engine/weights/tensor-file.ts';
import { readTensorFloat32 } from '../../../src-main/engine/weights/safetensors.ts';
import { CaseFailure, fail, ROOT } from '../support.ts';

const DIR = path.join(ROOT, 'tests', 'fixtures', 'engine', 'torch');
const SOURCES = ['views-zip.pt', 'views-legacy.pt', 'small-zip-fp16.pt', 'small-legacy-bf16.pt', 'lightning.ckpt', 'evil-zip.pt'];
// the payload planted by the generator and the evil fixtures (touch <marker>) must never run
const MARKER = '/tmp/rerender-studio-pickle-marker';

function codeOf(e: unknown): string | null {
  return e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : null;
}

export const pickle: FuzzClass<{ srcs: Buffer[] }> = {
  name: 'pickle',
  async setup() {
    return { srcs: SOURCES.map((f) => readFileSync(path.join(DIR, f))) };
  },
  async run({ srcs }, seed, caseDir) {
    const r = rng(seed);
    const i = r.int(0, srcs.length - 1);
    const m = mutateTorchFile(r, srcs[i]!);
    const label = `${SOURCES[i]} ${m.label}`;
    const file = path.join(caseDir, 'model.ckpt');
    writeFileSync(file, m.bytes);
    rmSync(MARKER, { force: true });
    const t0 = performance.now();
    try {
      const h = readWeightsIndex(file);
      for (const [name, info] of h.tensors) {
        const v = readTensorFloat32(file, info, { allowInteger: true });
        for (let k = 0; k < v.length; k++) {
          if (!Number.isFinite(v[k]!) && info.dtype !== 'I64') fail('other', `${label}: ${name}[${k}] = ${v[k]} was handed out as a weight (want BAD_MODEL)`);
        }
      }
    } catch (e) {
      if (existsSync(MARKER)) fail('other', `${label}: the planted call ran`);
      if (codeOf(e) === 'BAD_MODEL') return `${label} -> BAD_MODEL`;
      if (e instanceof CaseFailure) throw e;
      fail('crash', `${label}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (code ${String(codeOf(e))})`);
    }
    if (existsSync(MARKER)) fail('other', `${label}: the planted call ran`);
    if (performance.now() - t0 > 2000) fail('hang', `${label}: reading took ${Math.round(performance.now() - t0)} ms`);
    return `${label} -> loaded`;
  },
};
