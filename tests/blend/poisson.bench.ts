// Benchmark (not a test): the DCT screened-Poisson solve against a naive Gauss-Seidel iteration
// of the same equations on 512x512. Run after building the addon:
//   node tests/blend/poisson.bench.ts
import { addon, maxAbsDiff, texture } from './helpers.ts';

const SIZE = 512;
const N = SIZE * SIZE;

/** Gauss-Seidel sweeps of (deg + lambda) u_p - sum(neighbours) = lambda f_p - div g, g = grad img. */
function gaussSeidel(img: Float32Array, target: Float32Array, lambda: number, reference: Float32Array, tolerance: number, maxSweeps: number) {
  const rhs = new Float64Array(N);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const p = y * SIZE + x;
      let div = 0;
      if (x + 1 < SIZE) div += img[p + 1]! - img[p]!;
      if (x > 0) div -= img[p]! - img[p - 1]!;
      if (y + 1 < SIZE) div += img[p + SIZE]! - img[p]!;
      if (y > 0) div -= img[p]! - img[p - SIZE]!;
      rhs[p] = lambda * target[p]! - div;
    }
  }
  const u = Float64Array.from(target);
  const start = performance.now();
  let sweeps = 0;
  let error = maxAbsDiff(u, reference);
  while (sweeps < maxSweeps && error > tolerance) {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const p = y * SIZE + x;
        let sum = rhs[p]!;
        let deg = lambda;
        if (x > 0) { sum += u[p - 1]!; deg++; }
        if (x + 1 < SIZE) { sum += u[p + 1]!; deg++; }
        if (y > 0) { sum += u[p - SIZE]!; deg++; }
        if (y + 1 < SIZE) { sum += u[p + SIZE]!; deg++; }
        u[p] = sum / deg;
      }
    }
    sweeps++;
    if (sweeps % 10 === 0) error = maxAbsDiff(u, reference);
  }
  return { ms: performance.now() - start, sweeps, error };
}

const native = addon();
const t = texture(5);
const img = Float32Array.from({ length: N }, (_, i) => 80 * t(i % SIZE, Math.floor(i / SIZE)));

for (const lambda of [0.1, 1e-3]) {
  const target = new Float32Array(N).fill(40);
  const times: number[] = [];
  let solution: Float32Array = new Float32Array(0);
  for (let run = 0; run < 5; run++) {
    const start = performance.now();
    solution = await native.poissonFuse({ a: img, target, width: SIZE, height: SIZE, channels: 1, screening: lambda, gradClip: 1e6 });
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  const dct = times[2]!;
  const gs = gaussSeidel(img, target, lambda, solution, 0.01, 1000);
  const reached = gs.error <= 0.01 ? `reached 0.01 after ${gs.sweeps} sweeps` : `still ${gs.error.toFixed(3)} off after ${gs.sweeps} sweeps`;
  console.log(
    `screened Poisson ${SIZE}x${SIZE}, lambda=${lambda}: DCT solve ${dct.toFixed(1)} ms (median of 5, exact); ` +
      `Gauss-Seidel ${gs.ms.toFixed(0)} ms, ${reached}; speed-up >= ${(gs.ms / dct).toFixed(0)}x`,
  );
}

// Whole blendFrame (selection, Lab, histogram blend, 3-channel fusion) at video sizes.
for (const [w, h] of [[1280, 720], [1920, 1080]] as const) {
  const n = w * h;
  const a = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 7) % 251);
  const b = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 13) % 241);
  const errA = Float32Array.from({ length: n }, (_, i) => (i % w) / w);
  const errB = Float32Array.from({ length: n }, (_, i) => 1 - (i % w) / w);
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    await native.blendFrame({ a, b, errA, errB, w: 0.5, width: w, height: h });
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  console.log(`blendFrame ${w}x${h}: ${times[1]!.toFixed(0)} ms (median of 3)`);
}
