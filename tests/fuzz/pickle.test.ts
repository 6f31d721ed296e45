// Fuzz class 'pickle' (see classes/pickle.ts); FUZZ_SEED=<n> [FUZZ_CASES=<k>] replays seeds n..n+k-1.
import { fuzzTests } from './harness.ts';
import { pickle } from './classes/pickle.ts';

fuzzTests(pickle);
