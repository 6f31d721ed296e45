// Fuzz class 'kill' (see classes/kill.ts); FUZZ_SEED=<n> [FUZZ_CASES=<k>] replays seeds n..n+k-1.
import { fuzzTests } from './harness.ts';
import { kill } from './classes/kill.ts';

fuzzTests(kill);
