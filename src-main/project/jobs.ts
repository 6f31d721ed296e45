// Job records: what ran on this project, how far it got, and how it ended. The runner owns the
// work; this only persists its state so a crash leaves a resumable trail.
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { JobKind, JobStatus } from '../api/contract.ts';
import { ProjectError } from './errors.ts';
import { nowIso, parseArg } from './validate.ts';

export interface JobRecord {
  id: string;
  kind: JobKind;
  status: JobStatus;
  done: number;
  total: number;
  params: unknown;
  error: string | null;
  device: string | null;
  note: string | null;
  output: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const statusSchema = z.enum(['queued', 'running', 'done', 'failed', 'cancelled']);
const count = z.number().int().nonnegative();
const text = z.string().nullable();

const newJobSchema = z.strictObject({
  id: z.string().min(1).optional(),
  kind: z.string().min(1),
  total: count.default(0),
  params: z.unknown().optional(),
  device: text.default(null),
  note: text.default(null),
});
export type NewJob = Omit<z.input<typeof newJobSchema>, 'kind'> & { kind: JobKind };

const jobPatchSchema = z.strictObject({
  status: statusSchema.optional(),
  done: count.optional(),
  total: count.optional(),
  error: text.optional(),
  device: text.optional(),
  note: text.optional(),
  output: text.optional(),
  startedAt: text.optional(),
  finishedAt: text.optional(),
});
export type JobPatch = z.input<typeof jobPatchSchema>;

const TERMINAL: ReadonlySet<JobStatus> = new Set(['done', 'failed', 'cancelled']);

interface Row {
  id: string;
  kind: string;
  status: string;
  done: number;
  total: number;
  params: string;
  error: string | null;
  device: string | null;
  note: string | null;
  output: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export class JobStore {
  readonly #insert: Database.Statement<[Row]>;
  readonly #update: Database.Statement<[Row]>;
  readonly #get: Database.Statement<[string], Row>;
  readonly #list: Database.Statement<[], Row>;
  readonly #interrupt: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(`
      INSERT INTO jobs (id, kind, status, done, total, params, error, device, note, output, created_at, started_at, finished_at)
      VALUES (@id, @kind, @status, @done, @total, @params, @error, @device, @note, @output, @created_at, @started_at, @finished_at)`);
    this.#update = db.prepare(`
      UPDATE jobs SET status = @status, done = @done, total = @total, error = @error, device = @device,
        note = @note, output = @output, started_at = @started_at, finished_at = @finished_at
      WHERE id = @id`);
    this.#get = db.prepare('SELECT * FROM jobs WHERE id = ?');
    this.#list = db.prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC');
    this.#interrupt = db.prepare(
      "UPDATE jobs SET status = 'cancelled', note = 'interrupted', finished_at = ? WHERE status = 'running'",
    );
  }

  create(input: NewJob): JobRecord {
    const j = parseArg(newJobSchema, input, 'job');
    const row: Row = {
      id: j.id ?? randomUUID(),
      kind: j.kind,
      status: 'queued',
      done: 0,
      total: j.total,
      params: JSON.stringify(j.params ?? {}),
      error: null,
      device: j.device,
      note: j.note,
      output: null,
      created_at: nowIso(),
      started_at: null,
      finished_at: null,
    };
    try {
      this.#insert.run(row);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new ProjectError('EXISTS', `A job with id ${row.id} already exists`, { cause: err });
      }
      throw err;
    }
    return toRecord(row);
  }

  /** Applies `patch`; entering 'running' stamps startedAt and ending stamps finishedAt unless given. */
  update(id: string, patch: JobPatch): JobRecord {
    const p = parseArg(jobPatchSchema, patch, `update of job ${id}`);
    const row = this.#get.get(id);
    if (!row) throw new ProjectError('NOT_FOUND', `No job ${id} in this project`);
    const now = nowIso();
    const next: Row = { ...row };
    if (p.status !== undefined) next.status = p.status;
    if (p.done !== undefined) next.done = p.done;
    if (p.total !== undefined) next.total = p.total;
    if (p.error !== undefined) next.error = p.error;
    if (p.device !== undefined) next.device = p.device;
    if (p.note !== undefined) next.note = p.note;
    if (p.output !== undefined) next.output = p.output;
    if (p.status === 'running' && p.startedAt === undefined) {
      next.started_at = now;
      next.finished_at = null;
    }
    if (p.status !== undefined && TERMINAL.has(p.status) && p.finishedAt === undefined) next.finished_at = now;
    if (p.startedAt !== undefined) next.started_at = p.startedAt;
    if (p.finishedAt !== undefined) next.finished_at = p.finishedAt;
    this.#update.run(next);
    return toRecord(next);
  }

  get(id: string): JobRecord | null {
    const row = this.#get.get(id);
    return row ? toRecord(row) : null;
  }

  /** Newest first. */
  list(filter: { status?: JobStatus; kind?: JobKind } = {}): JobRecord[] {
    return this.#list
      .all()
      .filter((r) => (filter.status === undefined || r.status === filter.status) && (filter.kind === undefined || r.kind === filter.kind))
      .map(toRecord);
  }

  /**
   * Jobs still 'running' when a project is opened belonged to a process that died: mark them
   * cancelled ('interrupted') so the runner can offer to resume them. Only called by the holder of
   * the project's lock (lock.ts), so no live process can own a 'running' job.
   */
  markInterrupted(): number {
    return this.#interrupt.run(nowIso()).changes;
  }
}

function parseParams(r: Row): unknown {
  try {
    return JSON.parse(r.params) as unknown;
  } catch (err) {
    throw new ProjectError('DAMAGED', `The stored parameters of job ${r.id} are not readable (${(err as Error).message})`, { cause: err });
  }
}

function toRecord(r: Row): JobRecord {
  return {
    id: r.id,
    kind: r.kind as JobKind,
    status: r.status as JobStatus,
    done: r.done,
    total: r.total,
    params: parseParams(r),
    error: r.error,
    device: r.device,
    note: r.note,
    output: r.output,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}
