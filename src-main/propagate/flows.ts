// Source frames and the optical flow between neighbours, loaded once per interval and shared by
// both propagation directions, with an optional persistent cache.
import type { ByteImage } from './image.ts';
import type { FlowMethod, PropagateAddon } from './native.ts';

/** 'forward' is the flow of frame i towards i+1; 'backward' the flow of frame i+1 towards i. */
export type FlowDirection = 'forward' | 'backward';

export interface FlowCache {
  get(i: number, dir: FlowDirection): Promise<Float32Array | undefined> | Float32Array | undefined;
  put(i: number, dir: FlowDirection, data: Float32Array): Promise<void> | void;
}

/** A FlowCache in memory, for benchmarks and tests that run one clip in one process. */
export class MemoryFlowCache implements FlowCache {
  readonly #flows = new Map<string, Float32Array>();

  get(i: number, dir: FlowDirection): Float32Array | undefined {
    return this.#flows.get(`${i}:${dir}`);
  }

  put(i: number, dir: FlowDirection, data: Float32Array): void {
    this.#flows.set(`${i}:${dir}`, data);
  }
}

export interface FramePair {
  /** Flow at `to` pointing into `from`: warps data of `from` onto `to`. */
  toFrom: Float32Array;
  /** Flow at `from` pointing into `to`: the other half of the occlusion check. */
  fromTo: Float32Array;
}

export interface FrameSourceParams {
  addon: PropagateAddon;
  width: number;
  height: number;
  sourceFrame(i: number): Promise<Uint8Array>;
  flowCache?: FlowCache | undefined;
  method: FlowMethod;
  signal?: AbortSignal | undefined;
  /** Time spent computing flow (ms) is added here. */
  timing: { flowMs: number };
}

export class FrameSource {
  private readonly p: FrameSourceParams;
  private readonly frames = new Map<number, Promise<ByteImage>>();
  private readonly flows = new Map<number, Promise<{ forward: Float32Array; backward: Float32Array }>>();

  constructor(p: FrameSourceParams) {
    this.p = p;
  }

  frame(i: number): Promise<ByteImage> {
    let f = this.frames.get(i);
    if (!f) {
      const { width, height } = this.p;
      f = this.p.sourceFrame(i).then((data) => {
        if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
          throw new RangeError(`sourceFrame(${i}) must return ${width * height * 3} RGB bytes, got ${data instanceof Uint8Array ? data.length : typeof data}`);
        }
        return { data, width, height, channels: 3 };
      });
      this.frames.set(i, f);
    }
    return f;
  }

  /** Flows between frames i and i+1. */
  pair(i: number): Promise<{ forward: Float32Array; backward: Float32Array }> {
    let f = this.flows.get(i);
    if (!f) {
      f = this.loadPair(i);
      this.flows.set(i, f);
    }
    return f;
  }

  /** Flows to carry data from frame `from` to its neighbour `to`. */
  async step(from: number, to: number): Promise<FramePair> {
    if (to === from + 1) {
      const { forward, backward } = await this.pair(from);
      return { toFrom: backward, fromTo: forward };
    }
    if (to === from - 1) {
      const { forward, backward } = await this.pair(to);
      return { toFrom: forward, fromTo: backward };
    }
    throw new RangeError(`frames ${from} and ${to} are not neighbours`);
  }

  /** Drops cached frames and flows outside [lo, hi] to bound memory. */
  retain(lo: number, hi: number): void {
    for (const k of [...this.frames.keys()]) if (k < lo || k > hi) this.frames.delete(k);
    for (const k of [...this.flows.keys()]) if (k < lo || k >= hi) this.flows.delete(k);
  }

  private async loadPair(i: number): Promise<{ forward: Float32Array; backward: Float32Array }> {
    const n = this.p.width * this.p.height * 2;
    const cache = this.p.flowCache;
    if (cache) {
      const [forward, backward] = await Promise.all([cache.get(i, 'forward'), cache.get(i, 'backward')]);
      if (forward instanceof Float32Array && backward instanceof Float32Array && forward.length === n && backward.length === n) {
        return { forward, backward };
      }
    }
    const [a, b] = await Promise.all([this.frame(i), this.frame(i + 1)]);
    const t0 = performance.now();
    const flows = await this.p.addon.computeFlow(a, b, this.p.method, this.p.signal);
    this.p.timing.flowMs += performance.now() - t0;
    if (cache) await Promise.all([cache.put(i, 'forward', flows.forward), cache.put(i, 'backward', flows.backward)]);
    return flows;
  }
}
