// The farm's workers: name, device, what each renders now, when it was last heard from, alive or
// gone. Asked again every ~2 s while shown; a farm that cannot be reached says so in one line.
import { useEffect, useState } from 'react';
import type { FarmWorkersInfo, RerenderApi } from '../../src-main/api/contract.ts';
import { currentText, heartbeatText, sortWorkers } from '../lib/farm.ts';
import { formatEta } from '../lib/jobs.ts';
import { errorToMessage, type ArtistMessage } from '../lib/messages.ts';
import { Message } from './Reason.tsx';

export interface FarmWorkersProps {
  api: Pick<RerenderApi, 'farmWorkers'>;
  /** The farm's Redis URL; null: the remembered one. */
  redisUrl: string | null;
  everyMs?: number;
}

export function FarmWorkers({ api, redisUrl, everyMs = 2000 }: FarmWorkersProps) {
  const [info, setInfo] = useState<FarmWorkersInfo | null>(null);
  const [problem, setProblem] = useState<ArtistMessage | null>(null);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const r = await api.farmWorkers(redisUrl);
        if (!live) return;
        setInfo(r);
        setProblem(null);
      } catch (err) {
        if (!live) return;
        setProblem(errorToMessage(err));
      }
      // The next ask only once this one is answered: a slow farm never piles up requests.
      if (live) timer = setTimeout(() => void tick(), everyMs);
    };
    void tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, redisUrl, everyMs]);

  const workers = info ? sortWorkers(info.workers) : [];
  return (
    <section className="farm-workers" data-testid="farm-workers" aria-label="Farm workers">
      <h3>
        Workers
        {info && <span className="muted small"> · {workers.filter((w) => w.alive).length} working{info.etaSeconds ? ` · farm ETA ${formatEta(info.etaSeconds)}` : ''}</span>}
      </h3>
      {problem && <Message message={problem} testId="farm-workers-problem" />}
      {!info && !problem && <p className="muted small">Asking the farm…</p>}
      {info && workers.length === 0 && <p className="muted small" data-testid="farm-no-workers">No worker has joined this farm yet.</p>}
      {workers.length > 0 && (
        <table className="farm-workers-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Device</th>
              <th>Rendering</th>
              <th>Last heard</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {workers.map((w) => (
              <tr key={`${w.host}/${w.name}`} data-testid="farm-worker" data-alive={w.alive} className={w.alive ? '' : 'gone'}>
                <td title={`${w.host}, ${w.concurrency} at a time, ${w.done} job(s) done`} data-testid="farm-worker-name">{w.name}</td>
                <td data-testid="farm-worker-device">{w.device}</td>
                <td data-testid="farm-worker-current">{currentText(w)}</td>
                <td>{heartbeatText(w.secondsSinceHeartbeat)}</td>
                <td>
                  <span className={`status ${w.alive ? 'status-running' : 'status-failed'}`}>{w.alive ? 'alive' : 'gone'}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
