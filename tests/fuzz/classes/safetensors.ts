// Mutated safetensors through the engine's weights reader (header, then every tensor's data):
// either all values come back finite or the loader refuses with BAD_MODEL; nothing else escapes.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FuzzClass } from '../harness.ts';
import { rng } from '../generators/prng.ts';
import { mutateSafetensors } from '../generators/safetensors.ts';
import { loadControlNet } from '../../../src-main/engine/weights/checkpoint.ts';
import { CaseFailure, fail, ROOT } from '../support.ts';

const SOURCE = path.join(ROOT, 'tests', 'fixtures', 'engine', 'tiny-controlnet', 'diffusion_pytorch_model.safetensors');

function codeOf(e: unknown): string | null {
  return e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : null;
}

export const safetensors: FuzzClass<{ src: Buffer }> = {
  name: 'safetensors',
  async setup() {
    return { src: readFileSync(SOURCE) };
  },
  async run({ src }, seed, caseDir) {
    const m = mutateSafetensors(rng(seed), src);
    const file = path.join(caseDir, 'diffusion_pytorch_model.safetensors');
    writeFileSync(file, m.bytes);
    const t0 = performance.now();
    try {
      const tensors = loadControlNet(file);
      for (const [name, t] of tensors) {
        const v = t.read();
        for (let i = 0; i < v.length; i++) {
          if (!Number.isFinite(v[i]!)) fail('other', `${m.label}: ${name}[${i}] = ${v[i]} was handed out as a weight (want BAD_MODEL)`);
        }
      }
    } catch (e) {
      if (codeOf(e) === 'BAD_MODEL') return `${m.label} -> BAD_MODEL`;
      if (e instanceof CaseFailure) throw e;
      fail('crash', `${m.label}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (code ${String(codeOf(e))})`);
    }
    if (performance.now() - t0 > 3000) fail('hang', `${m.label}: loading took ${Math.round(performance.now() - t0)} ms`);
    return `${m.label} -> loaded`;
  },
};
