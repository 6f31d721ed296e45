// The stages a farm submission can run, in order. Pure: the editor's renderer imports it too.
export const FARM_STAGES = ['translate', 'propagate', 'export'] as const;
export type FarmStage = (typeof FARM_STAGES)[number];

/** Stages as given (any order, repeats allowed), in run order; a RangeError names an unknown one. */
export function orderStages(stages: readonly string[]): FarmStage[] {
  for (const s of stages) {
    if (!(FARM_STAGES as readonly string[]).includes(s)) throw new RangeError(`unknown farm stage '${s}' (stages: ${FARM_STAGES.join(', ')})`);
  }
  if (stages.length === 0) throw new RangeError(`name at least one farm stage (${FARM_STAGES.join(', ')})`);
  return FARM_STAGES.filter((s) => stages.includes(s));
}
