// Fuzz class 'video' (see classes/video.ts); FUZZ_SEED=<n> [FUZZ_CASES=<k>] replays seeds n..n+k-1.
import { fuzzTests } from './harness.ts';
import { video } from './classes/video.ts';

fuzzTests(video);
