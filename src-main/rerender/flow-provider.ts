// Motion between key frames from the native addon's DIS optical flow: the backward flow of the
// later frame (per pixel, where it lies in the earlier one) and its forward-backward occlusion.
import type { ByteImage, FlowMethod, PropagateAddon } from '../propagate/native.ts';
import type { FrameMotion } from './fusion.ts';

/** Interleaved (dx, dy) per pixel → planar [2, H, W]. */
export function planarFlow(interleaved: Float32Array, width: number, height: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(2 * n);
  for (let p = 0; p < n; p++) {
    out[p] = interleaved[2 * p]!;
    out[n + p] = interleaved[2 * p + 1]!;
  }
  return out;
}

export function nativeMotion(
  addon: Pick<PropagateAddon, 'computeFlow' | 'occlusionMask'>,
  frame: (index: number) => Promise<Uint8Array>,
  width: number,
  height: number,
  opts: { method?: FlowMethod; signal?: AbortSignal } = {},
): (from: number, to: number) => Promise<FrameMotion> {
  const image = async (i: number): Promise<ByteImage> => ({ data: await frame(i), width, height, channels: 3 });
  return async (from, to) => {
    const { forward, backward } = await addon.computeFlow(await image(from), await image(to), opts.method ?? 'dis-medium', opts.signal);
    const occ = await addon.occlusionMask(backward, forward, width, height);
    return {
      flow: { data: planarFlow(backward, width, height), channels: 2, width, height },
      occlusion: { data: Float32Array.from(occ, (v) => v / 255), channels: 1, width, height },
    };
  };
}
