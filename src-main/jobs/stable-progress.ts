// Progress in units fixed before the work starts (frames of the range, key frames to translate),
// fed by inner stages whose own units differ and may be known only later (propagation's work
// units, diffusion steps). The total a job shows never changes mid-job and `done` never goes back;
// the ETA comes from the inner units, waits for a few of them, and is smoothed so one slow frame
// does not make it jump.
import type { Progress, ProgressListener } from './progress.ts';

export interface StableProgressOptions {
  stage: string;
  /** Fixed for the whole job. */
  total: number;
  now?: () => number;
  onProgress?: ProgressListener;
  /** Inner units timed (after the first) before an ETA is given (default 2). */
  minUnitsForEta?: number;
}

/** Weight of a new rate measurement against the running estimate. */
const ETA_SMOOTHING = 0.25;

export class StableProgress {
  readonly total: number;
  #stage: string;
  #done = 0;
  #base = 0;
  readonly #now: () => number;
  readonly #listener: ProgressListener | undefined;
  readonly #minUnits: number;
  /** The first inner unit seen: rates are measured from there (loading time is not work). */
  #first: { t: number; fraction: number; units: number } | null = null;
  #eta: number | null = null;
  #etaAt = 0;
  /** The inner work's fraction done, or null before any inner unit is reported. */
  #fraction: number | null = null;

  constructor(opts: StableProgressOptions) {
    if (!Number.isInteger(opts.total) || opts.total < 0) throw new RangeError(`progress total must be a non-negative integer, got ${opts.total}`);
    this.total = opts.total;
    this.#stage = opts.stage;
    this.#now = opts.now ?? (() => performance.now());
    this.#listener = opts.onProgress;
    this.#minUnits = opts.minUnitsForEta ?? 2;
  }

  get done(): number {
    return this.#done;
  }

  /** Names what runs now (loading, finding shot cuts) without moving the count. */
  mark(stage: string): Progress {
    this.#stage = stage;
    return this.emit();
  }

  /** Units found already done once the work is planned (resumed work): counted, not timed. */
  resume(alreadyDone: number): Progress {
    this.#base = Math.max(0, Math.min(this.total, Math.floor(alreadyDone)));
    this.#done = Math.max(this.#done, this.#base);
    return this.emit();
  }

  /**
   * The remaining work is `innerDone / innerTotal` done. `done`, when given, is the exact count of
   * finished units (e.g. frames stored); the count shown is never more than either, so the bar
   * follows the time the work takes even where units finish early (a range inside a longer shot:
   * its frames are stored before the propagation reaches the shot's end).
   */
  work(stage: string, innerDone: number, innerTotal: number, done?: number): Progress {
    this.#stage = stage;
    const fraction = innerTotal > 0 ? Math.min(1, Math.max(0, innerDone / innerTotal)) : 0;
    this.#fraction = fraction;
    const byFraction = this.#base + Math.floor(fraction * (this.total - this.#base));
    this.#done = Math.max(this.#done, Math.min(this.total, done === undefined ? byFraction : Math.min(done, byFraction)));
    const t = this.#now();
    if (this.#first === null) {
      if (innerDone > 0) this.#first = { t, fraction, units: innerDone };
    } else if (innerDone - this.#first.units >= this.#minUnits && fraction > this.#first.fraction) {
      const raw = ((t - this.#first.t) / 1000) * ((1 - fraction) / (fraction - this.#first.fraction));
      const predicted = this.#eta === null ? raw : Math.max(0, this.#eta - (t - this.#etaAt) / 1000);
      this.#eta = this.#eta === null ? raw : predicted + ETA_SMOOTHING * (raw - predicted);
      this.#etaAt = t;
    }
    return this.emit();
  }

  snapshot(): Progress {
    const finished = this.#fraction === null ? this.#done >= this.total : this.#fraction >= 1;
    const eta = finished ? 0 : this.#eta === null ? null : Math.max(0, this.#eta - (this.#now() - this.#etaAt) / 1000);
    const base = this.total > 0 ? this.#base / this.total : 0;
    const fraction = this.#fraction === null ? undefined : base + this.#fraction * (1 - base);
    return { stage: this.#stage, done: this.#done, total: this.total, etaSeconds: eta, ...(fraction === undefined ? {} : { fraction }) };
  }

  emit(): Progress {
    const p = this.snapshot();
    this.#listener?.(p);
    return p;
  }
}
