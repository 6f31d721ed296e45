// Jobs: progress (done/total, fixed from the start), ETA, device, cancel; and the two stages'
// buttons (translate every key frame, propagate), each disabled with the reason when it cannot
// run and with an estimate of how long it takes. Notes and errors are one line each, with the
// technical part behind "details", so the panel stays compact; the CPU note shows once per
// project (DeviceNote), not in every job.
import { useState } from 'react';
import type { Capabilities, JobInfo, JobOutlook, ProjectSummary } from '../../src-main/api/contract.ts';
import { JOB_LABELS, fellBackToCpu, formatEta, isActive, progressFraction } from '../lib/jobs.ts';
import { formatStateCounts, keptNote, translateBlocker } from '../lib/translate.ts';
import type { Services } from './App.tsx';
import { jobText } from '../lib/messages.ts';
import { DeviceNote } from './DeviceLine.tsx';
import { Message, Reason } from './Reason.tsx';
import { FarmDialog } from './FarmDialog.tsx';

export interface JobsPanelProps {
  services: Services;
  project: ProjectSummary;
  jobs: JobInfo[];
  capabilities: Capabilities | null;
  /** The device and estimates (null until the services answer). */
  outlook?: JobOutlook | null;
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
      {job.note && <Message message={jobText(job.note)} prefix={cpu ? '⚠ ' : ''} className={cpu ? 'job-note warn' : 'job-note'} />}
      {job.error && <Message message={jobText(job.error)} className="job-note error" testId="job-error" />}
    </li>
  );
}

export function JobsPanel({ services, project, jobs, capabilities, outlook = null }: JobsPanelProps) {
  const { api } = services.connection;
  // The farm dialog, opened on its form or on the workers list.
  const [farm, setFarm] = useState<null | 'form' | 'workers'>(null);
  const farmRunning = jobs.some((j) => j.kind === 'farm' && isActive(j));
  const prop = capabilities?.propagate;
  const reason = !prop
    ? 'Checking the engine…'
    : !prop.available
      ? (prop.message ?? 'Propagation is not available in this build.')
      : project.keyframes.every((k) => k.state === 'none')
        ? 'Import or translate at least one key frame first.'
        : jobs.some((j) => j.kind === 'translate' && isActive(j))
          ? 'Wait for the key-frame translation to finish: propagation spreads its results.'
          : farmRunning
            ? 'The farm is rendering this project: wait for it, or cancel it in the list below.'
            : null;
  const running = jobs.some((j) => j.kind === 'propagate' && isActive(j));
  const translateReason = translateBlocker(capabilities, project, jobs);
  const states = formatStateCounts(project.keyframes);
  return (
    <div className="panel jobs-panel">
      <h2>Jobs</h2>
      <DeviceNote outlook={outlook} projectPath={project.path} />
      <div className="button-row">
        <button
          className="primary"
          disabled={translateReason !== null}
          title={translateReason ?? `Translate every key frame with Stable Diffusion + ControlNet (${outlook ? outlook.translate.text : 'estimating…'})`}
          onClick={() => void services.run(api.startJob({ kind: 'translate' }))}
        >
          Translate all key frames
        </button>
        {!translateReason && outlook && <span className="estimate muted small" data-testid="translate-estimate">{outlook.translate.text}</span>}
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
          title={reason ?? `Propagate the key frames to every frame (${outlook ? outlook.propagate.text : 'estimating…'})`}
          onClick={() => void services.run(api.startJob({ kind: 'propagate' }))}
        >
          Propagate
        </button>
        <button onClick={() => setFarm('form')} title="Send the work to other computers (a render farm); the results arrive here as they are made" data-testid="render-on-farm">
          Render on farm…
        </button>
        {!reason && !running && outlook && <span className="estimate muted small" data-testid="propagate-estimate">{outlook.propagate.text}</span>}
      </div>
      {reason && <Reason text={reason} testId="propagate-reason" />}
      {jobs.length === 0 ? (
        <p className="muted small">No jobs yet.</p>
      ) : (
        <ul className="jobs">
          {jobs.slice(0, 12).map((j) => (
            <JobRow key={j.id} job={j} onCancel={() => void services.run(api.cancelJob(j.id))} />
          ))}
        </ul>
      )}
      {jobs.some((j) => j.kind === 'farm') && (
        <button className="small" onClick={() => setFarm('workers')} data-testid="farm-workers-button">
          Farm workers…
        </button>
      )}
      {farm && <FarmDialog services={services} project={project} jobs={jobs} showWorkers={farm === 'workers'} onClose={() => setFarm(null)} />}
    </div>
  );
}
