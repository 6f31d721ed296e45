// "Propagate first, then export": the export is started at once (so the editor can follow it and
// cancel it) but writes nothing until the propagation it follows has finished; if that propagation
// is cancelled or fails, the export is cancelled too. And the rule behind it: an export never runs
// beside a propagation, since it would write some frames before and some after their re-render.
import type { JobKind, JobInfo, StartJobRequest } from './contract.ts';
import type { Project } from '../project/index.ts';
import { CodedError } from '../errors.ts';
import { checkExportTarget } from '../studio/export.ts';

export interface ExportChain {
  /** The propagation job this export waits for. */
  after?: string;
  /** Whether cancelling the export cancels that propagation too (it was started for this export). */
  owned?: boolean;
}

class ChainError extends CodedError {}

/** Throws when starting `kind` now would let an export and a propagation overlap. */
export function refuseMixing(kind: JobKind, chain: ExportChain, running: (k: JobKind) => boolean): void {
  if (kind === 'export' && chain.after === undefined && running('propagate')) {
    throw new ChainError(
      'PROPAGATION_RUNNING',
      'A propagation is rendering frames right now: wait for it to finish, or choose "Propagate first, then export" to export when it ends.',
    );
  }
  if (kind === 'propagate' && running('export')) {
    throw new ChainError('EXPORT_RUNNING', 'An export is running: wait for it to finish (or cancel it) before propagating again.');
  }
}

export interface WaitDeps {
  /** The job's completion while it runs in this process; undefined once it has ended. */
  live(id: string): Promise<void> | undefined;
  project: Project;
  cancel(id: string): Promise<unknown>;
}

/**
 * Waits (inside the export job) for the propagation `after.id`; resolves when it is done, throws
 * a cancellation when it was cancelled or failed, or when the export itself is cancelled.
 */
export async function waitForJob(
  after: string,
  deps: WaitDeps & { owned?: boolean },
  signal: AbortSignal,
  job: { update(patch: { note?: string | null }): void },
): Promise<void> {
  const done = deps.live(after);
  if (done) {
    job.update({ note: 'Waiting for the propagation to finish; the export starts then.' });
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(new ChainError('CANCELLED', 'The export was cancelled.'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void done.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    }).catch(async (err: unknown) => {
      if (deps.owned) await deps.cancel(after).catch(() => undefined);
      throw err;
    });
  }
  const status = deps.project.getJob(after)?.status;
  if (status !== 'done') {
    job.update({ note: `Not exported: the propagation ${status === 'failed' ? 'failed' : 'was cancelled'}.` });
    throw new ChainError('CANCELLED', 'The propagation this export waited for did not finish.');
  }
  job.update({ note: null });
}

export interface ChainRunner {
  start(req: StartJobRequest, onProjectChanged: () => void, chain?: ExportChain): Promise<JobInfo>;
  list(): JobInfo[];
  cancel(id: string): Promise<unknown>;
}

/**
 * Starts an export that follows a propagation: the one already running, or a new one over every
 * frame. An existing output file is refused before anything starts, so the editor can ask first.
 */
export async function startExportAfterPropagation(
  jobs: ChainRunner,
  project: Project,
  req: Extract<StartJobRequest, { kind: 'export' }>,
  onProjectChanged: () => void,
): Promise<{ propagation: JobInfo; export: JobInfo }> {
  await checkExportTarget(project, req.outPath, req.overwrite === true ? 'any' : 'never');
  const running = jobs.list().find((j) => j.kind === 'propagate' && (j.status === 'running' || j.status === 'queued'));
  const propagation = running ?? (await jobs.start({ kind: 'propagate' }, onProjectChanged));
  try {
    const exp = await jobs.start({ ...req, propagateFirst: undefined }, onProjectChanged, { after: propagation.id, owned: !running });
    return { propagation, export: exp };
  } catch (err) {
    if (!running) await jobs.cancel(propagation.id).catch(() => undefined);
    throw err;
  }
}
