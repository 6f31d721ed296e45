// Jobs: progress (done/total), ETA, device (with a visible CPU-fallback note), cancel; and the
// two stages' buttons (translate every key frame, propagate), each disabled with the reason when
// it cannot run.
import type { Capabilities, JobInfo, ProjectSummary } from '../../src-main/api/contract.ts';
import { JOB_LABELS, fellBackToCpu, formatEta, isActive, progressFraction } from '../lib/jobs.ts';
import { formatStateCounts, keptNote, translateBlocker } from '../lib/translate.ts';
import type { Services } from './App.tsx';
import { Reason } from './Reason.tsx';

export interface JobsPanelProps {
  services: Services;
  project: ProjectSummary;
  jobs: JobInfo[];
  capabilities: Capabilities | null;
}

export function JobRow({ job, onCancel }: { job: JobInfo; onCancel?: () => void }) {
  const pct = Math.round(progressFraction(job) * 100);
  const cpu = fellBackToCpu(job);
  return (
    <li className={`job job-${job.status}`} data-testid="job" data-job-kind={job.kind} data-job-status={job.status}>
      <div className="job-head">
        <strong>{JOB_LABELS[job.kind]}</strong>
        <span className={`status status-${job.status}`}>{job.status}</span>
        {onCancel && isActive(job) && (
          <button className="small danger" onClick={onCancel} aria-label={`Cancel ${JOB_LABELS[job.kind]}`}>
            Cancel
          </button>
        )}
      </div>
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={job.total} aria-valuenow={job.done}>
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <div className="job-meta muted small">
        <span data-testid="job-progress">
          {job.total > 0 || job.status !== 'running' ? `${job.done}/${job.total}` : 'preparing…'}
        </span>
        <span>ETA {isActive(job) ? formatEta(job.etaSeconds) : '—'}</span>
        {job.device && <span data-testid="job-device">on {job.device}</span>}
      </div>
      {job.note && <div className={cpu ? 'job-note warn' : 'job-note'}>{cpu ? `⚠ ${job.note}` : job.note}</div>}
      {job.error && <div className="job-note error">{job.error}</div>}
    </li>
  );
}

export function JobsPanel({ services, project, jobs, capabilities }: JobsPanelProps) {
  const { api } = services.connection;
  const prop = capabilities?.propagate;
  const reason = !prop
    ? 'Checking the engine…'
    : !prop.available
      ? (prop.message ?? 'Propagation is not available in this build.')
      : project.keyframes.every((k) => k.state === 'none')
        ? 'Import or translate at least one key frame first.'
        : jobs.some((j) => j.kind === 'translate' && isActive(j))
          ? 'Wait for the key-frame translation to finish: propagation spreads its results.'
          : null;
  const running = jobs.some((j) => j.kind === 'propagate' && isActive(j));
  const translateReason = translateBlocker(capabilities, project, jobs);
  const states = formatStateCounts(project.keyframes);
  return (
    <div className="panel jobs-panel">
      <h2>Jobs</h2>
      <div className="button-row">
        <button
          className="primary"
          disabled={translateReason !== null}
          title={translateReason ?? 'Translate every key frame with Stable Diffusion + ControlNet under the cross-frame constraints'}
          onClick={() => void services.run(api.startJob({ kind: 'translate' }))}
        >
          Translate all key frames
        </button>
      </div>
      {translateReason && <Reason text={translateReason} testId="translate-all-reason" />}
      {states && (
        <p className="muted small" data-testid="keyframe-states">
          Key frames: {states}
          {keptNote(project.keyframes) && <> · {keptNote(project.keyframes)}</>}
        </p>
      )}
      <div className="button-row">
        <button
          className="primary"
          disabled={reason !== null || running}
          title={reason ?? 'Propagate the key frames to every frame'}
          onClick={() => void services.run(api.startJob({ kind: 'propagate' }))}
        >
          Propagate
        </button>
      </div>
      {reason && (
        <p className="reason" data-testid="propagate-reason">
          {reason}
        </p>
      )}
      {jobs.length === 0 ? (
        <p className="muted small">No jobs yet.</p>
      ) : (
        <ul className="jobs">
          {jobs.slice(0, 12).map((j) => (
            <JobRow key={j.id} job={j} onCancel={() => void services.run(api.cancelJob(j.id))} />
          ))}
        </ul>
      )}
    </div>
  );
}
