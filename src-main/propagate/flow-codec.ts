// The native packing of a flow-cache entry's payload (native/src/flow/flow_codec.h), off the JS
// thread: at 512x512 a frame needs four entries, and packing them in JavaScript cost the main
// thread about 9 ms each, time a GPU propagation spends waiting.
import { defaultAddonPath } from './blend.ts';
import { requireAddon } from './native.ts';

export interface PackedFlow {
  /** Low-byte plane, high-byte plane, then 8 bytes per listed value. */
  payload: Uint8Array;
  /** Components kept exactly in the list (beyond the fixed point's range, or NaN). */
  outOfRange: number;
}

export interface FlowCodec {
  packFlow(flow: Float32Array, width: number, height: number, log2Scale: number): Promise<PackedFlow>;
  /** null when the payload does not hold what its size and count say. */
  unpackFlow(payload: Uint8Array, width: number, height: number, log2Scale: number, outOfRange: number): Promise<Float32Array | null>;
}

export function loadFlowCodec(addonPath: string = process.env.RERENDER_NATIVE_ADDON ?? defaultAddonPath()): FlowCodec {
  const n = requireAddon(addonPath, ['packFlow', 'unpackFlow']) as unknown as FlowCodec;
  return {
    // async: argument errors thrown synchronously by the addon become rejections too.
    packFlow: async (flow, width, height, log2Scale) => n.packFlow(flow, width, height, log2Scale),
    unpackFlow: async (payload, width, height, log2Scale, outOfRange) => n.unpackFlow(payload, width, height, log2Scale, outOfRange),
  };
}
