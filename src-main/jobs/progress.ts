// Progress with an ETA for long work. The rate is smoothed so one slow frame does not make the
// ETA jump, and the clock is injected so tests need no real time.

export interface Progress {
  stage: string;
  done: number;
  total: number;
  etaSeconds: number | null;
  /** The work's share done (0–1), finer than done/total where the units are coarse (key frames). */
  fraction?: number;
}

export type ProgressListener = (p: Progress) => void;

export interface ProgressTrackerOptions {
  stage: string;
  total: number;
  /** Units already done when this run starts (resumed work): they do not count toward the rate. */
  alreadyDone?: number;
  /** Units this run must finish before an ETA is given: one unit's time says little (default 2). */
  minUnitsForEta?: number;
  now?: () => number;
  onProgress?: ProgressListener;
}

const SMOOTHING = 0.3;

export class ProgressTracker {
  readonly stage: string;
  readonly total: number;
  private doneCount: number;
  private readonly now: () => number;
  private readonly listener: ProgressListener | undefined;
  private lastTime: number;
  private secondsPerUnit: number | null = null;
  private readonly minUnits: number;
  private unitsThisRun = 0;

  constructor(opts: ProgressTrackerOptions) {
    if (!Number.isInteger(opts.total) || opts.total < 0) throw new RangeError(`progress total must be a non-negative integer, got ${opts.total}`);
    this.stage = opts.stage;
    this.total = opts.total;
    this.doneCount = Math.min(opts.alreadyDone ?? 0, opts.total);
    this.now = opts.now ?? (() => performance.now());
    this.listener = opts.onProgress;
    this.lastTime = this.now();
    this.minUnits = opts.minUnitsForEta ?? 2;
  }

  get done(): number {
    return this.doneCount;
  }

  /** Marks `units` more as done and notifies the listener. */
  advance(units = 1): Progress {
    const t = this.now();
    const dt = (t - this.lastTime) / 1000;
    this.lastTime = t;
    if (units > 0) {
      const perUnit = dt / units;
      this.secondsPerUnit = this.secondsPerUnit === null ? perUnit : SMOOTHING * perUnit + (1 - SMOOTHING) * this.secondsPerUnit;
      this.doneCount = Math.min(this.total, this.doneCount + units);
      this.unitsThisRun += units;
    }
    return this.emit();
  }

  snapshot(): Progress {
    const remaining = this.total - this.doneCount;
    const eta = remaining === 0 ? 0 : this.secondsPerUnit === null || this.unitsThisRun < this.minUnits ? null : remaining * this.secondsPerUnit;
    return { stage: this.stage, done: this.doneCount, total: this.total, etaSeconds: eta };
  }

  emit(): Progress {
    const p = this.snapshot();
    this.listener?.(p);
    return p;
  }
}

/** Throws the signal's reason (an AbortError) if it has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const e = new Error('The operation was cancelled');
  e.name = 'AbortError';
  return e;
}

export function isAbortError(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}
