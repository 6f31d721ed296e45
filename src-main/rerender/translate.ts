// Rerender A Video, stage 1: key frames translated under the hierarchical cross-frame
// constraints. The first key frame is the anchor; each later one runs pass A (cross-frame
// attention, shape-aware fusion, AdaIN), then pixel-aware fusion and pass B pulled toward it.
import type { Progress } from '../jobs/progress.ts';
import { ProgressTracker, throwIfAborted } from '../jobs/progress.ts';
import type { RerenderConfig } from './config.ts';
import { RerenderConfigError, startStep } from './config.ts';
import { ContextStore } from './context-store.ts';
import { checkPipeline } from './pipeline-options.ts';
import type { FrameMotion, FusionTarget, LatentCodec } from './fusion.ts';
import { pixelFusion, shapeWarp } from './fusion.ts';
import type { Planes } from './image-ops.ts';
import { gaussianBlur } from './image-ops.ts';
import type { RerenderNoise } from './noise.ts';
import { rerenderNoise } from './noise.ts';
import type { KeyframeControl, PassSetup, RerenderPipeline } from './sampler-pass.ts';
import { runPass } from './sampler-pass.ts';
import { colorCorrect } from './color.ts';

export interface TranslateDeps {
  /** Loaded with ControlNet and with rerenderPipelineOptions(config) (cross-frame layers, FreeU factors). */
  pipeline: RerenderPipeline;
  /** Working size (multiples of 64). */
  width: number;
  height: number;
  /** Frame indices to translate, ascending; the first is the anchor. */
  keyframes: readonly number[];
  /** RGB bytes (HWC) of a frame at the working size. */
  frame(index: number): Promise<Uint8Array>;
  /**
   * ControlNet conditioning of a frame: one map [1, 3, H, W] in [0, 1] (e.g. its canny edges), one
   * ControlInput per ControlNet in the pipeline's order (several ControlNets), or null: none.
   */
  control(index: number, rgb: Uint8Array): Promise<KeyframeControl>;
  /** Backward flow from `from` into `to` and `to`'s occlusion (see flow-provider.ts). */
  motion(from: number, to: number): Promise<FrameMotion>;
  /** Painted mask of a key frame ([H·W], 1 = translate, 0 = keep the source); null: the whole frame. */
  mask?(index: number): Promise<Float32Array | null>;
  /** Noise override (references supply theirs); default: seeded streams from config.seed. */
  noise?: RerenderNoise;
  /** Resume: the stored result of a key frame already translated with these settings, else null. */
  done?(index: number): Promise<Uint8Array | null>;
  /** Each new key frame as soon as it is made (store it here to make runs resumable). */
  onKeyframe?(result: KeyframeResult): Promise<void> | void;
  onProgress?(p: Progress): void;
  signal?: AbortSignal;
  /** Intermediate results, for tests and diagnostics. */
  inspect?(event: InspectEvent): void;
}


export interface KeyframeResult {
  frame: number;
  /** RGB bytes (HWC) at the working size. */
  rgb: Uint8Array;
  /** True when it came from `done` (resumed), not from this run. */
  resumed: boolean;
}

export type InspectEvent =
  | { frame: number; stage: 'anchor' | 'passA' | 'passB'; latents: Float32Array; image: Planes }
  | { frame: number; stage: 'fusion'; target: FusionTarget };

export interface TranslateResult {
  keyframes: KeyframeResult[];
  /** Peak bytes of kept self-attention contexts (anchor + previous, and the step being replaced). */
  contextBytes: number;
  /** The part of contextBytes that was in GPU memory (WebGPU); the rest was host memory. */
  contextDeviceBytes: number;
}

export async function translateKeyframes(deps: TranslateDeps, config: RerenderConfig): Promise<TranslateResult> {
  const { pipeline, width, height, keyframes } = deps;
  if (keyframes.length === 0) return { keyframes: [], contextBytes: 0, contextDeviceBytes: 0 };
  for (let i = 1; i < keyframes.length; i++) {
    if (!(keyframes[i]! > keyframes[i - 1]!)) throw new RerenderConfigError('key frames must be distinct and ascending');
  }
  checkPipeline(pipeline, config);
  const signal = deps.signal;

  const stored: (Uint8Array | null)[] = [];
  for (const f of keyframes) stored.push(deps.done ? await deps.done(f) : null);
  const firstPending = stored.findIndex((s) => s === null);
  if (firstPending < 0) return { keyframes: keyframes.map((frame, k) => ({ frame, rgb: stored[k]!, resumed: true })), contextBytes: 0, contextDeviceBytes: 0 };

  // Frames that must run: the anchor (its stores), the last style-updating frame before the
  // first pending one (the "previous" store), and everything from the first pending one on.
  const every = config.crossFrame.styleUpdateEvery;
  let refresh = -1;
  for (let k = firstPending - 1; k >= 1; k--) {
    if ((k - 1) % every === 0) {
      refresh = k;
      break;
    }
  }
  const perLater = config.pixelFusion.enabled ? 2 : 1;
  const runSteps = config.steps - startStep(config).start;
  const totalPasses = 1 + (refresh > 0 ? perLater : 0) + (keyframes.length - Math.max(1, firstPending)) * perLater;
  const tracker = new ProgressTracker({ stage: 'translate', total: totalPasses * runSteps, ...(deps.onProgress ? { onProgress: deps.onProgress } : {}) });

  const text = await pipeline.encodePrompt({ prompt: config.prompt, negative: config.negativePrompt }, signal);
  const store = new ContextStore((keys) => pipeline.dropContexts(keys));
  const setup: PassSetup = {
    pipeline, config, text, width, height, store,
    noise: deps.noise ?? rerenderNoise(pipeline, config.seed, width, height),
    onStepDone: () => tracker.advance(),
    ...(signal ? { signal } : {}),
  };
  const codec: LatentCodec = {
    encode: async (img) => pipeline.encodeImage({ data: img.data, dims: [1, 3, height, width] }, { mode: config.vaeEncode, seed: config.seed, ...(signal ? { signal } : {}) }),
    decode: async (lat) => toPlanes((await pipeline.decodeLatents(lat, width, height, signal)).data, width, height),
  };
  await pipeline.contextMemory({ resetPeak: true });
  try {
    const keyframes = await translateAll(deps, config, { setup, codec, stored, refresh });
    const memory = await pipeline.contextMemory();
    return { keyframes, contextBytes: memory.peakBytes, contextDeviceBytes: memory.peakDeviceBytes };
  } finally {
    // Release the worker's contexts; failing that must not hide the run's own error.
    await store.clear().catch(() => undefined);
  }
}

interface RunState {
  setup: PassSetup;
  codec: LatentCodec;
  stored: (Uint8Array | null)[];
  /** The resumed frame replayed to refresh the "previous" store, or -1. */
  refresh: number;
}

function checkControl(control: KeyframeControl): KeyframeControl {
  if (Array.isArray(control) && control.length === 0) throw new RerenderConfigError('a key frame\'s control list is empty (give null for no ControlNet)');
  return control;
}

async function translateAll(deps: TranslateDeps, config: RerenderConfig, { setup, codec, stored, refresh }: RunState): Promise<KeyframeResult[]> {
  const { width, height, keyframes, signal } = deps;
  const every = config.crossFrame.styleUpdateEvery;
  const results: KeyframeResult[] = [];

  // Anchor
  const anchorFrame = keyframes[0]!;
  const anchorRgb = await deps.frame(anchorFrame);
  const anchorPaint = await latentMask(deps, anchorFrame, width, height);
  const anchorSource = await codec.encode(rgbToPlanes(anchorRgb, width, height));
  const anchorLat = await runPass(setup, { role: 'anchor', source: anchorSource, control: checkControl(await deps.control(anchorFrame, anchorRgb)), paint: anchorPaint?.latent ?? null });
  let anchorImg = composite(await codec.decode(anchorLat), anchorRgb, anchorPaint?.pixels ?? null, config.maskFeather, width, height);
  deps.inspect?.({ frame: anchorFrame, stage: 'anchor', latents: anchorLat, image: anchorImg });
  if (stored[0]) {
    results.push({ frame: anchorFrame, rgb: stored[0], resumed: true });
  } else {
    const r = { frame: anchorFrame, rgb: planesToRgb(anchorImg), resumed: false };
    results.push(r);
    await deps.onKeyframe?.(r);
  }
  const anchorResultRgb = stored[0] ?? results[0]!.rgb;
  if (stored[0]) anchorImg = rgbToPlanes(stored[0], width, height);

  let previous: { frame: number; image: Planes } = { frame: anchorFrame, image: anchorImg };
  for (let k = 1; k < keyframes.length; k++) {
    throwIfAborted(signal);
    const frame = keyframes[k]!;
    const resumed = stored[k];
    if (resumed && k !== refresh) {
      results.push({ frame, rgb: resumed, resumed: true });
      previous = { frame, image: rgbToPlanes(resumed, width, height) };
      continue;
    }
    if (resumed && k === refresh && k > 1) {
      // Replaying this frame refreshes the "previous" store; its own predecessor is the stored one.
      const before = stored[k - 1];
      if (before) previous = { frame: keyframes[k - 1]!, image: rgbToPlanes(before, width, height) };
    }
    const srcRgb = await deps.frame(frame);
    const encRgb = config.colorPreserve ? srcRgb : colorCorrect(srcRgb, anchorResultRgb, width, height);
    const source = await codec.encode(rgbToPlanes(encRgb, width, height));
    const control = checkControl(await deps.control(frame, srcRgb));
    const paint = await latentMask(deps, frame, width, height);
    const toAnchor = await deps.motion(anchorFrame, frame);
    const toPrevious = previous.frame === anchorFrame ? toAnchor : await deps.motion(previous.frame, frame);
    const warp = config.shapeFusion.enabled ? shapeWarp(toAnchor) : null;
    const update = (k - 1) % every === 0;
    const base = { role: 'later' as const, source, control, warp, paint: paint?.latent ?? null };

    const latA = await runPass(setup, { ...base, updateStyle: update && !config.pixelFusion.enabled });
    const direct = await codec.decode(latA);
    deps.inspect?.({ frame, stage: 'passA', latents: latA, image: direct });
    let result = direct;
    if (config.pixelFusion.enabled) {
      const target = await pixelFusion(codec, config.pixelFusion, direct, { result: previous.image, motion: toPrevious }, { result: anchorImg, motion: toAnchor });
      deps.inspect?.({ frame, stage: 'fusion', target });
      const latB = await runPass(setup, { ...base, target, updateStyle: update });
      result = await codec.decode(latB);
      deps.inspect?.({ frame, stage: 'passB', latents: latB, image: result });
    }
    result = composite(result, srcRgb, paint?.pixels ?? null, config.maskFeather, width, height);
    if (resumed) {
      results.push({ frame, rgb: resumed, resumed: true });
      previous = { frame, image: rgbToPlanes(resumed, width, height) };
    } else {
      const r = { frame, rgb: planesToRgb(result), resumed: false };
      results.push(r);
      await deps.onKeyframe?.(r);
      previous = { frame, image: result };
    }
  }
  return results;
}

async function latentMask(deps: TranslateDeps, frame: number, width: number, height: number): Promise<{ pixels: Float32Array; latent: Float32Array } | null> {
  const m = deps.mask ? await deps.mask(frame) : null;
  if (!m) return null;
  if (m.length !== width * height) throw new RerenderConfigError(`mask of frame ${frame} has ${m.length} values; ${width}×${height} expected`);
  const lw = width / 8;
  const lh = height / 8;
  const latent = new Float32Array(lw * lh);
  for (let y = 0; y < lh; y++) {
    for (let x = 0; x < lw; x++) {
      let s = 0;
      for (let j = 0; j < 8; j++) for (let i = 0; i < 8; i++) s += Math.min(1, Math.max(0, m[(y * 8 + j) * width + x * 8 + i]!));
      latent[y * lw + x] = s / 64;
    }
  }
  return { pixels: m, latent };
}

/** Feathered composite of the translation over the source outside a painted mask. */
function composite(result: Planes, srcRgb: Uint8Array, mask: Float32Array | null, feather: number, width: number, height: number): Planes {
  if (!mask) return result;
  const m = { data: Float32Array.from(mask, (v) => Math.min(1, Math.max(0, v))), channels: 1, width, height };
  const f = feather > 0 ? gaussianBlur(m, 2 * Math.ceil(2 * feather) + 1, feather) : m;
  const src = rgbToPlanes(srcRgb, width, height);
  const n = width * height;
  const out = new Float32Array(result.data.length);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < n; p++) out[c * n + p] = f.data[p]! * result.data[c * n + p]! + (1 - f.data[p]!) * src.data[c * n + p]!;
  }
  return { ...result, data: out };
}

function toPlanes(data: Float32Array, width: number, height: number): Planes {
  return { data, channels: 3, width, height };
}

/** RGB bytes → [3, H, W] in [-1, 1]. */
export function rgbToPlanes(rgb: Uint8Array, width: number, height: number): Planes {
  const n = width * height;
  if (rgb.length !== 3 * n) throw new RerenderConfigError(`frame has ${rgb.length} bytes; ${width}×${height}×3 expected`);
  const data = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) data[c * n + p] = rgb[p * 3 + c]! / 127.5 - 1;
  return toPlanes(data, width, height);
}

/** [3, H, W] in [-1, 1] → RGB bytes (clamped, rounded). */
export function planesToRgb(img: Planes): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(Math.min(255, Math.max(0, (img.data[c * n + p]! + 1) * 127.5)));
  return out;
}
