// Fuzz class 'safetensors' (see classes/safetensors.ts); FUZZ_SEED=<n> [FUZZ_CASES=<k>] replays seeds n..n+k-1.
import { fuzzTests } from './harness.ts';
import { safetensors } from './classes/safetensors.ts';

fuzzTests(safetensors);
