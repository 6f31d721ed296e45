// Reads tests/fixtures/rerender (made by tools/reference/rerender/make_rerender_refs.py, see its
// README) and turns the stored inputs into translateKeyframes dependencies.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { Period, RerenderConfigPatch } from '../../src-main/rerender/config.ts';
import type { FrameMotion } from '../../src-main/rerender/fusion.ts';
import type { RerenderNoise } from '../../src-main/rerender/noise.ts';
import { relError } from '../helpers/numeric.ts';

export { relError };

export const REF = fileURLToPath(new URL('../fixtures/rerender/', import.meta.url));
export const ENGINE = fileURLToPath(new URL('../fixtures/engine/', import.meta.url));
export const SIZE = 64;

interface Entry {
  file: string;
  shape: number[];
}

const manifest = JSON.parse(readFileSync(`${REF}manifest.json`, 'utf8')) as Record<string, Entry>;

export function has(name: string): boolean {
  return name in manifest;
}

export function ref(name: string): Float32Array {
  const e = manifest[name];
  if (!e) throw new Error(`reference ${name} not in manifest`);
  const b = readFileSync(REF + e.file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export interface Scenario {
  prompt: string;
  a_prompt: string;
  n_prompt: string;
  steps: number;
  scale: number;
  control_strength: number;
  x0_strength: number;
  frames: number;
  cross_frame: boolean;
  cross_period: Period;
  loose_cfattn: boolean;
  style_update_every: number;
  warp: boolean;
  warp_period: Period;
  pixel: boolean;
  mask_period: Period;
  mask_strength: number;
  inner_strength: number;
  smooth_boundary: boolean;
  fidelity_threshold: number;
  ada: boolean;
  ada_period: Period;
}

export const scenarios = (JSON.parse(readFileSync(`${REF}scenarios.json`, 'utf8')) as { scenarios: Record<string, Scenario> }).scenarios;

/** The reference's settings as our config (float32 contexts: the reference keeps them in float32). */
export function configOf(s: Scenario): RerenderConfigPatch {
  return {
    prompt: s.a_prompt ? `${s.prompt}, ${s.a_prompt}` : s.prompt,
    negativePrompt: s.n_prompt,
    steps: s.steps,
    guidance: s.scale,
    controlScale: s.control_strength,
    x0Strength: s.x0_strength,
    crossFrame: { enabled: s.cross_frame, period: s.cross_period, loose: s.loose_cfattn, styleUpdateEvery: s.style_update_every },
    shapeFusion: { enabled: s.warp, period: s.warp_period },
    pixelFusion: { enabled: s.pixel, period: s.mask_period, strength: s.mask_strength, innerStrength: s.inner_strength, smoothBoundary: s.smooth_boundary, fidelityThreshold: s.fidelity_threshold },
    adain: { enabled: s.ada, period: s.ada_period },
    contextPrecision: 'float32',
  };
}

/** Stored frames are uint8 values mapped to [-1, 1]; back to RGB bytes. */
export function frameRgb(k: number): Uint8Array {
  const planar = ref(`in.frame.${k}`);
  const n = SIZE * SIZE;
  const out = new Uint8Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round((planar[c * n + p]! + 1) * 127.5);
  return out;
}

/** Motion into key frame k from the anchor (from = 0) or from its predecessor. */
export function motion(from: number, k: number): FrameMotion {
  const kind = from === 0 ? '0' : 'pre';
  return {
    flow: { data: ref(`in.flow_${kind}.${k}`), channels: 2, width: SIZE, height: SIZE },
    occlusion: { data: ref(`in.occ_${kind}.${k}`), channels: 1, width: SIZE, height: SIZE },
  };
}

export function noise(): RerenderNoise {
  return { xT: ref('in.noise.xT'), x0: ref('in.noise.x0'), step: (i) => ref(`in.noise.mask.${i}`) };
}

export function assertClose(got: ArrayLike<number> | undefined, want: Float32Array, tol: number, what: string): void {
  assert.ok(got, `${what}: missing`);
  const err = relError(got, want);
  assert.ok(err <= tol, `${what}: relative error ${err.toExponential(2)} > ${tol}`);
}
