// What the anchor and the previous key frame leave for later key frames: per step, the decoder
// self-attention contexts (both CFG rows, [2, h·w, C] per layer), and the anchor's x̂0 and its
// per-channel statistics. Contexts are kept in float16 by default to halve their memory.
import { fromHalf, toHalf } from '../engine/half.ts';
import type { Tensor } from '../engine/pipeline/index.ts';
import { channelMeanStd } from './image-ops.ts';

type Stored = { half: Uint16Array; dims: number[] } | { full: Float32Array; dims: number[] };
type StepContexts = Map<string, Stored>;

export class ContextStore {
  private readonly precision: 'float16' | 'float32';
  private readonly first = new Map<number, StepContexts>();
  private readonly previous = new Map<number, StepContexts>();
  private readonly anchorX0 = new Map<number, Float32Array>();
  private readonly anchorStats = new Map<number, { mean: Float64Array; std: Float64Array }>();

  constructor(precision: 'float16' | 'float32') {
    this.precision = precision;
  }

  private pack(t: Tensor): Stored {
    return this.precision === 'float16' ? { half: toHalf(t.data), dims: [...t.dims] } : { full: Float32Array.from(t.data), dims: [...t.dims] };
  }

  /** The anchor's contexts of one step: they seed both the anchor and the previous store. */
  setAnchorContexts(step: number, contexts: ReadonlyMap<string, Tensor>): void {
    const packed = new Map([...contexts].map(([layer, t]) => [layer, this.pack(t)] as const));
    this.first.set(step, packed);
    this.previous.set(step, packed);
  }

  /** A later key frame's own contexts of one step replace the previous store's. */
  setPreviousContexts(step: number, contexts: ReadonlyMap<string, Tensor>): void {
    this.previous.set(step, new Map([...contexts].map(([layer, t]) => [layer, this.pack(t)] as const)));
  }

  setAnchorX0(step: number, x0: Float32Array, channels: number, width: number, height: number): void {
    this.anchorX0.set(step, Float32Array.from(x0));
    this.anchorStats.set(step, channelMeanStd({ data: x0, channels, width, height }));
  }

  hasContexts(step: number): boolean {
    return this.first.has(step) && this.previous.has(step);
  }

  /** Per layer [2, 2·h·w, C]: anchor ‖ previous along the tokens, per CFG row. */
  keyValueSources(step: number, layers: readonly string[]): Map<string, Tensor> {
    const a = this.first.get(step);
    const p = this.previous.get(step);
    if (!a || !p) throw new Error(`no stored contexts for step ${step}`);
    const out = new Map<string, Tensor>();
    for (const layer of layers) {
      const sa = a.get(layer);
      const sp = p.get(layer);
      if (!sa || !sp) throw new Error(`no stored context for layer ${layer} at step ${step}`);
      const [b, sA, c] = sa.dims as [number, number, number];
      const sP = sp.dims[1]!;
      const da = unpack(sa);
      const dp = unpack(sp);
      const data = new Float32Array(b * (sA + sP) * c);
      for (let r = 0; r < b; r++) {
        data.set(da.subarray(r * sA * c, (r + 1) * sA * c), r * (sA + sP) * c);
        data.set(dp.subarray(r * sP * c, (r + 1) * sP * c), r * (sA + sP) * c + sA * c);
      }
      out.set(layer, { data, dims: [b, sA + sP, c] });
    }
    return out;
  }

  x0(step: number): Float32Array {
    const v = this.anchorX0.get(step);
    if (!v) throw new Error(`no anchor x0 for step ${step}`);
    return v;
  }

  stats(step: number): { mean: Float64Array; std: Float64Array } {
    const v = this.anchorStats.get(step);
    if (!v) throw new Error(`no anchor statistics for step ${step}`);
    return v;
  }

  /** Bytes held by stored contexts (anchor and previous, counted once when shared). */
  contextBytes(): number {
    const seen = new Set<Stored>();
    let bytes = 0;
    for (const store of [this.first, this.previous]) {
      for (const step of store.values()) {
        for (const s of step.values()) {
          if (seen.has(s)) continue;
          seen.add(s);
          bytes += 'half' in s ? s.half.byteLength : s.full.byteLength;
        }
      }
    }
    return bytes;
  }
}

function unpack(s: Stored): Float32Array {
  return 'half' in s ? fromHalf(s.half) : s.full;
}

/**
 * Bytes one stored frame's contexts take: 2 CFG rows × steps × Σ over hooked layers of h·w·C.
 * SD 1.5 at 512×512, 20 steps, all decoder layers, float16: 2·20·3·(16²·1280 + 32²·640 + 64²·320)·2 B ≈ 550 MB.
 */
export function contextBytesPerFrame(opts: { width: number; height: number; steps: number; loose: boolean; bytesPerValue: 2 | 4; blockChannels?: readonly number[]; layersPerBlock?: number }): number {
  const channels = opts.blockChannels ?? [320, 640, 1280, 1280];
  const perBlock = (opts.layersPerBlock ?? 2) + 1;
  // Decoder attention blocks: resolutions latent/4, /2, /1 with channels 1280, 640, 320 (SD 1.5 order reversed).
  const lw = opts.width / 8;
  const lh = opts.height / 8;
  const blocks = [
    { tokens: (lw / 4) * (lh / 4), c: channels[2]! },
    { tokens: (lw / 2) * (lh / 2), c: channels[1]! },
    { tokens: lw * lh, c: channels[0]! },
  ].slice(opts.loose ? 1 : 0);
  const perStep = blocks.reduce((s, b) => s + perBlock * b.tokens * b.c, 0);
  return 2 * opts.steps * perStep * opts.bytesPerValue;
}
