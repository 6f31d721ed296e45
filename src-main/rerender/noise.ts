// The noise a translation draws. The official code reseeds before every sampler pass, so every
// key frame and pass starts from the same x_T and re-noises with the same draws; ours does the
// same with seeded streams derived from the run's seed.

export interface RerenderNoise {
  /** Starting noise when x0Strength < 0. */
  xT: Float32Array;
  /** Noise of the source latent when the run starts part-way (x0Strength in (0, 1]). */
  x0: Float32Array;
  /** Noise of the fused target when pass B pulls toward it at step `i`. */
  step(i: number): Float32Array;
}

/** Seeds of the streams: xT = seed, x0 = seed + K, step i = seed + (i + 2)·K (mod 2³²). */
const STREAM = 0x6a09e667;

export function rerenderNoise(source: { noise(seed: number, width: number, height: number): Float32Array }, seed: number, width: number, height: number): RerenderNoise {
  const at = (k: number): Float32Array => source.noise(Number((BigInt(seed) + BigInt(k) * BigInt(STREAM)) % 4294967296n), width, height);
  const cache = new Map<number, Float32Array>();
  return {
    xT: at(0),
    x0: at(1),
    step(i) {
      let v = cache.get(i);
      if (!v) {
        v = at(i + 2);
        cache.set(i, v);
      }
      return v;
    },
  };
}
