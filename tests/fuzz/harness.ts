// One fuzz class = a fixture made once per process and a case run per seed. The same class runs
// under node:test (one test per seed) and under report.ts / replay.ts (a tally per seed).
import { test, before, after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLASSES, seedsFor, type ClassName } from './config.ts';
import { classify, within, type Failure } from './support.ts';

export interface FuzzClass<F> {
  name: ClassName;
  setup(dir: string): Promise<F>;
  /** Runs one case in its own empty `caseDir`; returns a label; throws CaseFailure (or anything: a crash). */
  run(fixture: F, seed: number, caseDir: string): Promise<string>;
  teardown?(fixture: F): Promise<void>;
}

export interface CaseResult {
  cls: ClassName;
  seed: number;
  failure: Failure | null;
  message: string;
  ms: number;
}

async function runOne<F>(cls: FuzzClass<F>, fixture: F, seed: number, dir: string): Promise<CaseResult> {
  const caseDir = await mkdtemp(path.join(dir, `case-${seed}-`));
  const t0 = performance.now();
  try {
    const label = await within(CLASSES[cls.name].caseMs, `${cls.name} seed=${seed}`, cls.run(fixture, seed, caseDir));
    return { cls: cls.name, seed, failure: null, message: label, ms: performance.now() - t0 };
  } catch (e) {
    const c = classify(e);
    return { cls: cls.name, seed, failure: c.failure, message: c.message, ms: performance.now() - t0 };
  } finally {
    await rm(caseDir, { recursive: true, force: true });
  }
}

/** Registers one node:test test per seed. */
export function fuzzTests<F>(cls: FuzzClass<F>): void {
  let dir = '';
  let fixture: F;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), `rr-fuzz-${cls.name}-`));
    fixture = await cls.setup(dir);
  });
  after(async () => {
    if (fixture !== undefined) await cls.teardown?.(fixture);
    await rm(dir, { recursive: true, force: true });
  });
  for (const seed of seedsFor(cls.name)) {
    test(`fuzz ${cls.name} seed=${seed}`, { timeout: CLASSES[cls.name].caseMs + 10_000 }, async () => {
      const r = await runOne(cls, fixture, seed, dir);
      if (r.failure) throw new Error(`[${r.failure}] ${cls.name} seed=${seed} (replay: FUZZ_SEED=${seed} node --test tests/fuzz/${cls.name}.test.ts): ${r.message}`);
    });
  }
}

/** Runs the given seeds and reports each; used by report.ts and replay.ts. */
export async function runClass<F>(cls: FuzzClass<F>, seeds: readonly number[], onCase: (r: CaseResult) => void): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `rr-fuzz-${cls.name}-`));
  try {
    const fixture = await cls.setup(dir);
    try {
      for (const seed of seeds) onCase(await runOne(cls, fixture, seed, dir));
    } finally {
      await cls.teardown?.(fixture);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
