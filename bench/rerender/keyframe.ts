// What the Rerender key-frame benchmarks share (bench/rerender/run.ts, bench/gpu): the random
// full-size SD 1.5 + ControlNet written as diffusers folders, the synthetic frames and their exact
// motion, and one anchor + one later key frame through translateKeyframes, timed per key frame.
import { join } from 'node:path';
import type { StableDiffusionPipeline, Tensor } from '../../src-main/engine/pipeline/index.ts';
import { SD15_CONTROLNET_CONFIG, SD15_TEXT_CONFIG, SD15_UNET_CONFIG, SD15_VAE_CONFIG } from '../../src-main/engine/pipeline/sd15-configs.ts';
import { translateKeyframes, type FrameMotion, type RerenderConfig, type TranslateResult } from '../../src-main/rerender/index.ts';
import { parameterCount, sd15Shapes, writeRandomComponent } from '../engine/random-sd15.ts';

export interface ModelPaths {
  model: string;
  controlnet: string;
}

/**
 * The FULL-SIZE SD 1.5 (UNet, CLIP text encoder, VAE) and its ControlNet with random fp16 weights
 * under `work` (kept if already there). Speed and memory do not depend on the weights.
 */
export function buildRandomSd15(work: string, log: (line: string) => void = console.log): ModelPaths {
  const model = join(work, 'random-sd15');
  const controlnet = join(work, 'random-controlnet');
  const parts = sd15Shapes();
  for (const [k, s] of Object.entries(parts)) log(`  ${k}: ${(parameterCount(s) / 1e6).toFixed(1)} M parameters`);
  // fp16 files: half the bytes to write and to carry to a GPU machine.
  writeRandomComponent(join(model, 'unet'), 'diffusion_pytorch_model.safetensors', parts.unet, SD15_UNET_CONFIG, 'random-sd15-unet', 'F16');
  writeRandomComponent(join(model, 'text_encoder'), 'model.safetensors', parts.text, SD15_TEXT_CONFIG, 'random-sd15-text', 'F16');
  writeRandomComponent(join(model, 'vae'), 'diffusion_pytorch_model.safetensors', parts.vae, SD15_VAE_CONFIG, 'random-sd15-vae', 'F16');
  writeRandomComponent(controlnet, 'diffusion_pytorch_model.safetensors', parts.controlnet, SD15_CONTROLNET_CONFIG, 'random-sd15-controlnet', 'F16');
  return { model, controlnet };
}

/** Horizontal shift, in pixels, of the second synthetic frame (diffusers_keyframe.py uses the same). */
export const SYNTHETIC_SHIFT = 6;

/** Two frames of a moving gradient, SYNTHETIC_SHIFT pixels apart (RGB bytes, HWC). */
export function syntheticFrames(size: number): Uint8Array[] {
  return [0, SYNTHETIC_SHIFT].map((shift) => {
    const f = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) f.set([((x + shift) * 3) & 255, (y * 5) & 255, ((x + y) * 2) & 255], (y * size + x) * 3);
    return f;
  });
}

/**
 * The exact backward flow of syntheticFrames (frame 1 at p is the anchor at p + shift), with what
 * comes from beyond the anchor's right edge occluded: the motion diffusers_keyframe.py uses, and
 * one that needs no optical-flow addon.
 */
export function syntheticMotion(size: number): FrameMotion {
  const n = size * size;
  const flow = new Float32Array(2 * n);
  const occ = new Float32Array(n);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      flow[y * size + x] = SYNTHETIC_SHIFT;
      occ[y * size + x] = x + SYNTHETIC_SHIFT > size - 1 ? 1 : 0;
    }
  }
  return { flow: { data: flow, channels: 2, width: size, height: size }, occlusion: { data: occ, channels: 1, width: size, height: size } };
}

export interface KeyframePairInputs {
  pipeline: StableDiffusionPipeline;
  size: number;
  /** RGB bytes (HWC) of the anchor (0) and the later key frame (1). */
  frames: readonly Uint8Array[];
  control(index: number, rgb: Uint8Array): Promise<Tensor | null>;
  motion(from: number, to: number): Promise<FrameMotion>;
  signal?: AbortSignal;
}

export interface KeyframePairTimes {
  /** Seconds of the anchor key frame. */
  anchorS: number;
  /** Seconds of the later key frame: pass A + pixel-aware fusion + pass B. */
  laterS: number;
  result: TranslateResult;
}

/** Translates the anchor then the later key frame with `config`, timing each. */
export async function translatePair(inputs: KeyframePairInputs, config: RerenderConfig): Promise<KeyframePairTimes> {
  const { pipeline, size, frames } = inputs;
  const done: number[] = [];
  let last = performance.now();
  const result = await translateKeyframes({
    pipeline,
    width: size,
    height: size,
    keyframes: [0, 1],
    frame: async (i) => frames[i]!,
    control: inputs.control,
    motion: inputs.motion,
    onKeyframe: () => {
      const now = performance.now();
      done.push((now - last) / 1000);
      last = now;
    },
    ...(inputs.signal ? { signal: inputs.signal } : {}),
  }, config);
  return { anchorS: done[0]!, laterS: done[1]!, result };
}
