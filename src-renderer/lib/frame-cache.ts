// A small cache of frame images ahead of the playhead, so playback never waits on a request the
// moment a frame is due. Loads run a few at a time in the order asked for (nearest frame first);
// frames no longer wanted stop loading and are the first to go when the cache is full. The loader
// is a parameter: the browser one fetches and decodes, tests pass their own.

export interface LoadedFrame {
  /** What an <img> shows (an object URL in the browser). */
  display: string;
  /** Frees what the load holds (revokes the object URL). */
  release(): void;
}

export type FrameLoader = (url: string, signal: AbortSignal) => Promise<LoadedFrame>;

export type FrameStatus = 'missing' | 'loading' | 'ready' | 'failed';

export interface FrameCacheOptions {
  load: FrameLoader;
  /** Most entries kept (loaded or failed); wanted ones are never evicted. */
  capacity: number;
  /** Most loads at once. */
  concurrency: number;
  /** Called after any entry settles (a component re-renders). */
  onChange?: () => void;
}

interface Entry {
  status: 'loading' | 'ready' | 'failed';
  loaded: LoadedFrame | null;
  controller: AbortController | null;
}

export class FrameCache {
  readonly #opts: FrameCacheOptions;
  /** Insertion order is recency: touched entries move to the end. */
  readonly #entries = new Map<string, Entry>();
  #wanted: string[] = [];
  #wantedSet = new Set<string>();
  /** Loads that may finish but never start, least urgent last (see want). */
  #keep: string[] = [];
  #keepSet = new Set<string>();
  #inFlight = 0;
  #disposed = false;

  constructor(opts: FrameCacheOptions) {
    if (opts.capacity < 1 || opts.concurrency < 1) throw new RangeError('FrameCache needs a capacity and a concurrency of at least 1');
    this.#opts = opts;
  }

  get size(): number {
    return this.#entries.size;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  status(url: string): FrameStatus {
    return this.#entries.get(url)?.status ?? 'missing';
  }

  /** Loaded or failed: nothing more will come for this URL. */
  settled(url: string): boolean {
    const s = this.status(url);
    return s === 'ready' || s === 'failed';
  }

  displayUrl(url: string): string | null {
    return this.#entries.get(url)?.loaded?.display ?? null;
  }

  /** The first of `urls` that is loaded (most wanted first), or null. */
  firstReady(urls: readonly string[]): string | null {
    return urls.find((u) => this.#entries.get(u)?.status === 'ready') ?? null;
  }

  /**
   * Replaces the wanted list (most urgent first): starts what is missing, stops loads that are no
   * longer wanted, and evicts the least recently wanted entries beyond the capacity. Loads of
   * `keep` (most urgent first: the positions a drag passed) go on if already running, but are never
   * started, and give their slot to a wanted frame that needs one.
   */
  want(urls: readonly string[], keep: readonly string[] = []): void {
    if (this.#disposed) return;
    this.#wanted = [...new Set(urls)];
    this.#wantedSet = new Set(this.#wanted);
    this.#keep = [...new Set(keep)].filter((u) => !this.#wantedSet.has(u));
    this.#keepSet = new Set(this.#keep);
    for (const [url, e] of this.#entries) {
      if (e.status === 'loading' && !this.#wantedSet.has(url) && !this.#keepSet.has(url)) this.#drop(url, e);
    }
    // Touch the kept, then the wanted ones, least urgent first, so the most urgent end up the most recent.
    const order = [...this.#wanted, ...this.#keep];
    for (let i = order.length - 1; i >= 0; i--) {
      const url = order[i]!;
      const e = this.#entries.get(url);
      if (e) {
        this.#entries.delete(url);
        this.#entries.set(url, e);
      }
    }
    this.#evict();
    this.#pump();
  }

  dispose(): void {
    this.#disposed = true;
    for (const e of this.#entries.values()) {
      e.controller?.abort();
      e.loaded?.release();
    }
    this.#entries.clear();
  }

  #drop(url: string, e: Entry): void {
    e.controller?.abort();
    this.#entries.delete(url);
  }

  #evict(): void {
    for (const [url, e] of this.#entries) {
      if (this.#entries.size <= this.#opts.capacity) return;
      if (this.#wantedSet.has(url) || this.#keepSet.has(url) || e.status === 'loading') continue;
      e.loaded?.release();
      this.#entries.delete(url);
    }
  }

  #pump(): void {
    for (const url of this.#wanted) {
      if (this.#entries.has(url)) continue;
      if (this.#inFlight >= this.#opts.concurrency && !this.#preempt()) return;
      this.#start(url);
    }
  }

  /** Stops the least urgent kept load for a wanted one (its slot frees when it settles). */
  #preempt(): boolean {
    for (let i = this.#keep.length - 1; i >= 0; i--) {
      const url = this.#keep[i]!;
      const e = this.#entries.get(url);
      if (e?.status === 'loading' && e.controller && !e.controller.signal.aborted) {
        this.#drop(url, e);
        return true;
      }
    }
    return false;
  }

  #start(url: string): void {
    const controller = new AbortController();
    const entry: Entry = { status: 'loading', loaded: null, controller };
    this.#entries.set(url, entry);
    this.#inFlight++;
    const finish = (loaded: LoadedFrame | null): void => {
      this.#inFlight--;
      entry.controller = null;
      if (controller.signal.aborted || this.#disposed || this.#entries.get(url) !== entry) {
        loaded?.release();
      } else {
        entry.status = loaded ? 'ready' : 'failed';
        entry.loaded = loaded;
        this.#evict();
        this.#opts.onChange?.();
      }
      if (!this.#disposed) this.#pump();
    };
    this.#opts.load(url, controller.signal).then(finish, () => finish(null));
  }
}

/** How many frames to keep ready ahead of the playhead: about a second, within sensible bounds. */
export function lookaheadFrames(fps: { num: number; den: number }): number {
  if (fps.num <= 0 || fps.den <= 0) return 8;
  return Math.min(48, Math.max(8, Math.ceil(fps.num / fps.den)));
}

/** The frames to have loaded around `frame`, most urgent first: it, the ones ahead, one behind. */
export function framesToPreload(frame: number, ahead: number, frameCount: number): number[] {
  const out: number[] = [];
  for (let f = frame; f < Math.min(frameCount, frame + ahead + 1); f++) out.push(f);
  if (frame > 0) out.push(frame - 1);
  return out;
}

/**
 * Recent playhead positions while scrubbing, newest first, without repeats, at most `max`. Their
 * loads stay wanted (behind the current frame's), so a drag's pictures keep coming and show as
 * they land instead of being dropped at the next position; older ones are dropped as stale.
 */
export function pushTrail(trail: readonly number[], frame: number, max: number): number[] {
  return [frame, ...trail.filter((f) => f !== frame)].slice(0, Math.max(1, max));
}
