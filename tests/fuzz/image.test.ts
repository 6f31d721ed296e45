// Fuzz class 'image' (see classes/image.ts); FUZZ_SEED=<n> [FUZZ_CASES=<k>] replays seeds n..n+k-1.
import { fuzzTests } from './harness.ts';
import { image } from './classes/image.ts';

fuzzTests(image);
