// The inputs both sides run on, seeded so every run feeds the same values. Written once to a
// safetensors file that the torch side reads, so the two sides compute the same thing.
export interface BenchInputs {
  sample: Float32Array; // [2, 4, h, w]
  timestep: Float32Array; // [1]
  encoder_hidden_states: Float32Array; // [2, 77, 768]
  controlnet_cond: Float32Array; // [2, 3, 8h, 8w] in [0, 1]
  image: Float32Array; // [1, 3, 8h, 8w] in [-1, 1]
  latents: Float32Array; // [1, 4, h, w]
}

export type InputName = keyof BenchInputs;

export function inputShapes(size: number): Record<InputName, number[]> {
  const h = size / 8;
  return {
    sample: [2, 4, h, h],
    timestep: [1],
    encoder_hidden_states: [2, 77, 768],
    controlnet_cond: [2, 3, size, size],
    image: [1, 3, size, size],
    latents: [1, 4, h, h],
  };
}

/** Uniform values in [lo, hi) from a 32-bit LCG. */
function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return out;
}

export function makeInputs(size: number): BenchInputs {
  const shapes = inputShapes(size);
  const n = (k: InputName): number => shapes[k].reduce((a, b) => a * b, 1);
  return {
    sample: uniform(n('sample'), 11, -1.7, 1.7),
    timestep: Float32Array.of(500),
    encoder_hidden_states: uniform(n('encoder_hidden_states'), 12, -1, 1),
    controlnet_cond: uniform(n('controlnet_cond'), 13, 0, 1),
    image: uniform(n('image'), 14, -1, 1),
    latents: uniform(n('latents'), 15, -3, 3),
  };
}
