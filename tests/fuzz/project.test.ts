// Fuzz class 'project' (see classes/project.ts); FUZZ_SEED=<n> [FUZZ_CASES=<k>] replays seeds n..n+k-1.
import { fuzzTests } from './harness.ts';
import { project } from './classes/project.ts';

fuzzTests(project);
