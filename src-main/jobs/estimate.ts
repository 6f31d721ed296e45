// How long a translate or propagate job will take, said before it starts: from timings of earlier
// jobs on this machine, kept per device in the data folder (the same device makes the same speed
// whatever the project). The unit scales with the work: a propagated frame or one diffusion step
// on one key frame, per megapixel of the working size. Nothing measured yet: "first run" says so
// rather than guess.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type TimedKind = 'translate' | 'propagate';

export interface TimingRecord {
  kind: TimedKind;
  device: string;
  /** Seconds per unit (frame·MP for propagate, step·key frame·MP for translate). */
  secondsPerUnit: number;
  /** Fixed cost per job (loading the models). */
  overheadSeconds: number;
  samples: number;
  updatedAt: string;
}

export interface TimingSample {
  seconds: number;
  units: number;
  overheadSeconds?: number;
}

/** Weight of the newest job against what was known (machines change: a new driver, other load). */
const NEW_WEIGHT = 0.5;

export const FIRST_RUN = 'first run: estimate after a few frames';

export class TimingStore {
  readonly file: string;
  readonly #now: () => Date;

  constructor(dataDir: string, now: () => Date = () => new Date()) {
    this.file = path.join(dataDir, 'job-timings.json');
    this.#now = now;
  }

  all(): TimingRecord[] {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      return Array.isArray(parsed) ? parsed.filter(isRecord) : [];
    } catch {
      return [];
    }
  }

  get(kind: TimedKind, device: string): TimingRecord | null {
    return this.all().find((r) => r.kind === kind && r.device === device) ?? null;
  }

  /** The device this machine used last for `kind` (propagation picks its own backend). */
  latest(kind: TimedKind): TimingRecord | null {
    return this.all().filter((r) => r.kind === kind).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0] ?? null;
  }

  /** Folds one finished job in; a job too small to time says nothing. */
  record(kind: TimedKind, device: string, sample: TimingSample): TimingRecord | null {
    if (!(sample.units > 0) || !(sample.seconds > 0) || !Number.isFinite(sample.seconds)) return null;
    const perUnit = sample.seconds / sample.units;
    const overhead = Math.max(0, sample.overheadSeconds ?? 0);
    const list = this.all();
    const old = list.find((r) => r.kind === kind && r.device === device);
    const rec: TimingRecord = old
      ? {
          ...old,
          secondsPerUnit: old.secondsPerUnit + NEW_WEIGHT * (perUnit - old.secondsPerUnit),
          overheadSeconds: old.overheadSeconds + NEW_WEIGHT * (overhead - old.overheadSeconds),
          samples: old.samples + 1,
          updatedAt: this.#now().toISOString(),
        }
      : { kind, device, secondsPerUnit: perUnit, overheadSeconds: overhead, samples: 1, updatedAt: this.#now().toISOString() };
    const next = [...list.filter((r) => r !== old), rec];
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(next, null, 2));
      renameSync(tmp, this.file);
    } catch {
      // An estimate is a nicety: a data folder that cannot be written never fails the job.
      return null;
    }
    return rec;
  }
}

function isRecord(x: unknown): x is TimingRecord {
  const r = x as Partial<TimingRecord> | null;
  return typeof r === 'object' && r !== null && (r.kind === 'translate' || r.kind === 'propagate') && typeof r.device === 'string'
    && typeof r.secondsPerUnit === 'number' && Number.isFinite(r.secondsPerUnit) && r.secondsPerUnit >= 0
    && typeof r.overheadSeconds === 'number' && Number.isFinite(r.overheadSeconds) && typeof r.updatedAt === 'string';
}

export function megapixels(size: { width: number; height: number }): number {
  return (size.width * size.height) / 1e6;
}

/** Seconds for `units` of work, or null when nothing is known (or nothing is to do: 0). */
export function estimateSeconds(rec: TimingRecord | null, units: number): number | null {
  if (units <= 0) return 0;
  if (!rec) return null;
  return rec.overheadSeconds + rec.secondsPerUnit * units;
}

/** "about 4 min on the CPU"; rounded as a person would, never claiming more precision than it has. */
export function describeEstimate(seconds: number | null, where: string): string {
  if (seconds === null) return FIRST_RUN;
  if (seconds <= 0) return 'nothing to do';
  const on = where ? ` on ${where}` : '';
  if (seconds < 45) return `under a minute${on}`;
  const min = Math.round(seconds / 60);
  if (min < 60) return `about ${min} min${on}`;
  const h = Math.floor(min / 60);
  const rest = Math.round((min % 60) / 10) * 10;
  return `about ${h} h${rest > 0 && rest < 60 ? ` ${rest} min` : ''}${on}`;
}
