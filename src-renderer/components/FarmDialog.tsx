// "Render on farm": which steps to run (ticked: what the project still needs), the farm's address
// and shared folder (remembered; the address's password shows as ***), Submit. The work then
// shows as a "Render on farm" job in the Jobs panel, with progress, ETA and Cancel.
import { useEffect, useState } from 'react';
import type { FarmSettingsInfo, JobInfo, ProjectSummary } from '../../src-main/api/contract.ts';
import { FARM_STAGES, STAGE_LABELS, farmRequest, initialForm, redisToSend, toggleStage, type FarmForm } from '../lib/farm.ts';
import { isActive } from '../lib/jobs.ts';
import { errorToMessage, type ArtistMessage } from '../lib/messages.ts';
import type { Services } from './App.tsx';
import { FarmWorkers } from './FarmWorkers.tsx';
import { JobRow } from './JobsPanel.tsx';
import { Modal } from './Modal.tsx';
import { Message } from './Reason.tsx';

export interface FarmDialogProps {
  services: Services;
  project: ProjectSummary;
  jobs: JobInfo[];
  onClose(): void;
  /** Open with the workers list shown (the Jobs panel's "Farm workers"). */
  showWorkers?: boolean;
}

export function FarmDialog({ services, jobs, onClose, showWorkers = false }: FarmDialogProps) {
  const { api } = services.connection;
  const { run } = services;
  const [settings, setSettings] = useState<FarmSettingsInfo | null>(null);
  const [form, setForm] = useState<FarmForm | null>(null);
  const [problem, setProblem] = useState<ArtistMessage | null>(null);
  const [busy, setBusy] = useState(false);
  const [workers, setWorkers] = useState(showWorkers);
  const running = jobs.find((j) => j.kind === 'farm' && isActive(j)) ?? null;

  useEffect(() => {
    let live = true;
    void run(api.farmSettings()).then((s) => {
      if (!live) return;
      setSettings(s ?? null);
      setForm(initialForm(s ?? null));
    });
    return () => {
      live = false;
    };
  }, [api, run]);

  if (!form) {
    return (
      <Modal title="Render on farm" onClose={onClose}>
        <p className="muted">Reading the farm settings…</p>
      </Modal>
    );
  }

  const remembered = settings?.redis ?? null;
  const workersUrl = redisToSend(form.redis, remembered);
  const canAsk = workersUrl !== null || remembered !== null;
  const submit = async () => {
    const r = farmRequest(form, remembered);
    if ('problem' in r) return setProblem({ line: r.problem, details: null });
    setProblem(null);
    setBusy(true);
    try {
      await api.farmSubmit(r.request);
      onClose();
    } catch (err) {
      setProblem(errorToMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="Render on farm" onClose={onClose}>
      <div className="farm-form" data-testid="farm-dialog">
        <fieldset className="field" id="farm-stages">
          <legend>Run on the farm</legend>
          {FARM_STAGES.map((s) => (
            <label className="check" key={s}>
              <input
                type="checkbox"
                name={`farm-stage-${s}`}
                data-testid={`farm-stage-${s}`}
                checked={form.stages.includes(s)}
                onChange={(e) => setForm({ ...form, stages: toggleStage(form.stages, s, e.target.checked) })}
              />
              {STAGE_LABELS[s].label}
              <span className="muted small">
                {' '}
                — {STAGE_LABELS[s].hint}
                {settings?.needed.includes(s) ? ' (needed)' : ''}
              </span>
            </label>
          ))}
        </fieldset>
        {form.stages.includes('export') && (
          <label className="field">
            Save the video as
            <input
              id="farm-export-path"
              placeholder="beside the project (name.mp4)"
              spellCheck={false}
              value={form.exportPath}
              onChange={(e) => setForm({ ...form, exportPath: e.target.value })}
            />
          </label>
        )}
        <label className="field">
          Farm address (Redis)
          <input
            id="farm-redis"
            placeholder="redis://farm-host:6379"
            autoComplete="off"
            spellCheck={false}
            value={form.redis}
            onChange={(e) => setForm({ ...form, redis: e.target.value })}
          />
          {remembered !== null && form.redis.trim() === remembered && remembered.includes('***') && (
            <span className="muted small">The saved password is used; type the whole address to change it.</span>
          )}
        </label>
        <label className="field">
          Shared folder for the farm’s files (its path on the computer running Rerender Studio)
          <input id="farm-store" placeholder="/mnt/farm/store" spellCheck={false} value={form.store} onChange={(e) => setForm({ ...form, store: e.target.value })} />
        </label>
        {problem && <Message message={problem} testId="farm-problem" className="reason" />}
        {running && (
          <ul className="jobs">
            <JobRow job={running} onCancel={() => void services.run(api.cancelJob(running.id))} />
          </ul>
        )}
        {workers && canAsk && <FarmWorkers api={api} redisUrl={workersUrl} />}
        <div className="button-row end">
          <button onClick={() => setWorkers((w) => !w)} disabled={!canAsk} title={canAsk ? undefined : "Enter the farm's address first."} data-testid="farm-show-workers">
            {workers ? 'Hide workers' : 'Show workers'}
          </button>
          <button onClick={onClose}>Close</button>
          <button
            className="primary"
            onClick={() => void submit()}
            disabled={busy || running !== null}
            title={running ? 'The farm is already working on this project: cancel it first, or wait.' : 'Queue the work on the farm; the results arrive here as they are made.'}
            data-testid="farm-submit"
          >
            {busy ? 'Submitting…' : 'Submit'}
          </button>
        </div>
      </div>
    </Modal>
  );
}
