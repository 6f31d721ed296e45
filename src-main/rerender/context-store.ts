// What the anchor and the previous key frame leave for later key frames: per step, which kept
// self-attention contexts (held by the inference worker, on WebGPU in GPU memory) play the
// anchor and the previous frame, and the anchor's x̂0 and its per-channel statistics.
import { channelMeanStd } from './image-ops.ts';

export class ContextStore {
  private readonly dropKept: (keys: string[]) => Promise<unknown>;
  private readonly first = new Map<number, string>();
  private readonly previous = new Map<number, string>();
  private readonly anchorX0 = new Map<number, Float32Array>();
  private readonly anchorStats = new Map<number, { mean: Float64Array; std: Float64Array }>();
  private readonly issued = new Set<string>();
  private passes = 0;

  /** `dropKept` releases kept contexts (the pipeline's dropContexts). */
  constructor(dropKept: (keys: string[]) => Promise<unknown>) {
    this.dropKept = dropKept;
  }

  /** A fresh key prefix for one recording pass. */
  newPass(): string {
    return `p${++this.passes}`;
  }

  /** The key a pass keeps step `step` under (remembered, so clear() releases it even if unused). */
  key(pass: string, step: number): string {
    const k = `${pass}/${step}`;
    this.issued.add(k);
    return k;
  }

  /** The anchor kept step `step` under `key`: it plays both the anchor and the previous frame. */
  setAnchorContexts(step: number, key: string): void {
    this.first.set(step, key);
    this.previous.set(step, key);
  }

  /** A later key frame kept step `step` under `key`: it becomes the previous frame; the one it replaces is released. */
  async setPreviousContexts(step: number, key: string): Promise<void> {
    const old = this.previous.get(step);
    this.previous.set(step, key);
    if (old !== undefined && old !== key && old !== this.first.get(step)) {
      this.issued.delete(old);
      await this.dropKept([old]);
    }
  }

  setAnchorX0(step: number, x0: Float32Array, channels: number, width: number, height: number): void {
    this.anchorX0.set(step, Float32Array.from(x0));
    this.anchorStats.set(step, channelMeanStd({ data: x0, channels, width, height }));
  }

  /** The kept contexts a later frame attends to at `step`: anchor, then previous. */
  sources(step: number): [string, string] {
    const a = this.first.get(step);
    const p = this.previous.get(step);
    if (a === undefined || p === undefined) throw new Error(`no stored contexts for step ${step}`);
    return [a, p];
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

  /** Releases every kept context, also those of a pass that was cut short. */
  async clear(): Promise<void> {
    const keys = [...this.issued];
    this.issued.clear();
    this.first.clear();
    this.previous.clear();
    if (keys.length > 0) await this.dropKept(keys);
  }
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
