// Per-class default case counts and base seeds, in one place. Case i of a class runs with seed
// BASE + i; `FUZZ_SEED=<n> FUZZ_CASES=<k>` runs seeds n..n+k-1 instead (k defaults to 1 then),
// so a failing case named "… seed=1234" replays with FUZZ_SEED=1234.
export const CLASSES = {
  video: { cases: 12, base: 1000, caseMs: 20_000 },
  project: { cases: 16, base: 2000, caseMs: 20_000 },
  safetensors: { cases: 60, base: 3000, caseMs: 5_000 },
  image: { cases: 10, base: 4000, caseMs: 20_000 },
  server: { cases: 30, base: 5000, caseMs: 10_000 },
  kill: { cases: 5, base: 6000, caseMs: 60_000 },
  writers: { cases: 2, base: 7000, caseMs: 60_000 },
  pickle: { cases: 80, base: 8000, caseMs: 5_000 },
} as const;

export type ClassName = keyof typeof CLASSES;

export function seedsFor(name: ClassName, env: NodeJS.ProcessEnv = process.env, cases?: number): number[] {
  const fromEnv = env.FUZZ_SEED !== undefined && env.FUZZ_SEED !== '' ? Number(env.FUZZ_SEED) : null;
  const n = cases ?? (env.FUZZ_CASES ? Number(env.FUZZ_CASES) : fromEnv !== null ? 1 : CLASSES[name].cases);
  const base = fromEnv ?? CLASSES[name].base;
  return Array.from({ length: n }, (_, i) => base + i);
}
