// Fuzz class 'writers' (see classes/writers.ts); FUZZ_SEED=<n> [FUZZ_CASES=<k>] replays seeds n..n+k-1.
import { fuzzTests } from './harness.ts';
import { writers } from './classes/writers.ts';

fuzzTests(writers);
