// Shape-aware warp setup and pixel-aware fusion (the fused target of pass B), official semantics.
import type { Planes } from './image-ops.ts';
import { bilinearDownsample, dilateBlur, findFlatRegion, flowWarp, maxPoolBlocks, maxPoolSame } from './image-ops.ts';

/** Backward flow into the current frame ([2, H, W], pixels) and the current frame's occlusion ([1, H, W], 0..1). */
export interface FrameMotion {
  flow: Planes;
  occlusion: Planes;
}

/** VAE access the fusion needs: E(x) in UNet space and D(z). */
export interface LatentCodec {
  encode(image: Planes): Promise<Float32Array>;
  decode(latents: Float32Array): Promise<Planes>;
}

/** Latent-resolution flow (flow/8, bilinear ÷8) and visibility mask 1 − maxpool8(soft occlusion). */
export function shapeWarp(motion: FrameMotion): { flow: Planes; mask: Planes } {
  const scaled = { ...motion.flow, data: motion.flow.data.map((v) => v / 8) };
  const mask = maxPoolBlocks(dilateBlur(motion.occlusion), 8);
  return { flow: bilinearDownsample(scaled, 8), mask: { ...mask, data: mask.data.map((v) => 1 - v) } };
}

/** x̂0 ← warp(anchor x̂0, nearest)·mask + (1 − mask)·x̂0. */
export function applyShapeWarp(x0: Planes, anchorX0: Planes, warp: { flow: Planes; mask: Planes }): Float32Array {
  const warped = flowWarp(anchorX0, warp.flow, 'nearest');
  const n = x0.width * x0.height;
  const out = new Float32Array(x0.data.length);
  for (let c = 0; c < x0.channels; c++) {
    for (let p = 0; p < n; p++) {
      const m = warp.mask.data[p]!;
      out[c * n + p] = warped.data[c * n + p]! * m + (1 - m) * x0.data[c * n + p]!;
    }
  }
  return out;
}

export interface FusionTarget {
  /** The composed image ([3, H, W], [-1, 1] scale). */
  fused: Planes;
  /** Fidelity-oriented latent × mask ([4, h, w]). */
  xtrg: Float32Array;
  /** Latent-resolution pull mask ([1, h, w]). */
  mask: Planes;
  /** 1 where the fidelity correction made the reconstruction worse ([1, h, w]). */
  maskX: Planes;
  /** Smooth-boundary factor ([1, h, w]): 1 in flat mask regions (all ones when smoothing is off). */
  noiseRescale: Planes;
}

/**
 * Pass A's result composed with the previous key frame's result (warped) and the anchor's where
 * visible, then encoded with fidelity-oriented encoding E(x) + (E(x) − E(D(E(x)))), the
 * correction dropped near pixels where it makes the reconstruction worse.
 */
export async function pixelFusion(
  codec: LatentCodec,
  opts: { smoothBoundary: boolean; fidelityThreshold: number },
  direct: Planes,
  previous: { result: Planes; motion: FrameMotion },
  anchor: { result: Planes; motion: FrameMotion },
): Promise<FusionTarget> {
  const warpedPre = flowWarp(previous.result, previous.motion.flow, 'bilinear');
  const warped0 = flowWarp(anchor.result, anchor.motion.flow, 'bilinear');
  const bmPre = dilateBlur(previous.motion.occlusion);
  const bm0 = dilateBlur(anchor.motion.occlusion);
  const n = direct.width * direct.height;
  const fused = new Float32Array(direct.data.length);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < n; p++) {
      const i = c * n + p;
      const mp = bmPre.data[p]!;
      const m0 = bm0.data[p]!;
      const step1 = (1 - mp) * warpedPre.data[i]! + mp * direct.data[i]!;
      fused[i] = (1 - m0) * warped0.data[i]! + m0 * step1;
    }
  }
  const both = new Float32Array(n);
  for (let p = 0; p < n; p++) both[p] = 1 - Math.min(1, Math.max(0, 2 - previous.motion.occlusion.data[p]! - anchor.motion.occlusion.data[p]!));
  const blendMask = dilateBlur({ data: both, channels: 1, width: direct.width, height: direct.height });
  const fusedImg: Planes = { ...direct, data: fused };

  const xtrg = await codec.encode(fusedImg);
  const xtrgRec = await codec.encode(await codec.decode(xtrg));
  const corrected = new Float32Array(xtrg.length);
  for (let i = 0; i < xtrg.length; i++) corrected[i] = xtrg[i]! + (xtrg[i]! - xtrgRec[i]!);
  const recNew = await codec.decode(corrected);
  const worse = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let c = 0; c < 3; c++) s += Math.abs(recNew.data[c * n + p]! - fused[c * n + p]!);
    worse[p] = s / 3 > opts.fidelityThreshold ? 1 : 0;
  }
  const down = bilinearDownsample({ data: worse, channels: 1, width: direct.width, height: direct.height }, 8);
  const maskX = maxPoolSame({ ...down, data: down.data.map((v) => (v > 0 ? 1 : 0)) }, 3);
  // blendMask here is 1 − the official blend_mask, so mask = 1 − maxpool8(1 − blend_mask) = 1 − maxpool8(blendMask).
  const inv = maxPoolBlocks(blendMask, 8);
  const mask: Planes = { ...inv, data: inv.data.map((v) => 1 - v) };
  const noiseRescale = opts.smoothBoundary ? findFlatRegion(mask) : { ...mask, data: new Float32Array(mask.data.length).fill(1) };
  const hw = mask.width * mask.height;
  const target = new Float32Array(xtrg.length);
  for (let i = 0; i < xtrg.length; i++) {
    const p = i % hw;
    target[i] = (xtrg[i]! + (1 - maskX.data[p]!) * (xtrg[i]! - xtrgRec[i]!)) * mask.data[p]!;
  }
  return { fused: fusedImg, xtrg: target, mask, maskX, noiseRescale };
}
