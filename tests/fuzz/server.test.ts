// Fuzz class 'server' (see classes/server.ts); FUZZ_SEED=<n> [FUZZ_CASES=<k>] replays seeds n..n+k-1.
import { fuzzTests } from './harness.ts';
import { server } from './classes/server.ts';

fuzzTests(server);
