// The device translation would run on ("GPU: NVIDIA H200 · fp16", "CPU · fp32"), shown in the
// header before any job runs, and the CPU note ("Running on the CPU: translation will be slow"),
// shown once per project until the artist dismisses it. Both come from jobOutlook(), asked again
// when what the estimates depend on changes.
import { useEffect, useState } from 'react';
import type { JobInfo, JobOutlook, ProjectSummary, RerenderApi } from '../../src-main/api/contract.ts';
import { browserStorage, type PlayheadStorage } from '../lib/playhead-store.ts';
import { Message } from './Reason.tsx';

/** What the outlook depends on: the project, its settings and key frames, renders, finished jobs. */
export function outlookKey(project: ProjectSummary, jobs: readonly JobInfo[]): string {
  const finished = jobs.filter((j) => (j.kind === 'translate' || j.kind === 'propagate') && j.status === 'done').length;
  const counts = project.renderStatus?.counts;
  return JSON.stringify([project.path, project.settings, project.keyframes.map((k) => `${k.frame}:${k.state}`), project.renderedFrames, counts, finished]);
}

export function useJobOutlook(api: RerenderApi, project: ProjectSummary, jobs: readonly JobInfo[]): JobOutlook | null {
  const [outlook, setOutlook] = useState<JobOutlook | null>(null);
  const key = outlookKey(project, jobs);
  useEffect(() => {
    let live = true;
    // Settled edits only: a burst of changes asks once.
    const t = setTimeout(() => {
      api.jobOutlook().then(
        (o) => {
          if (live) setOutlook(o);
        },
        () => undefined, // an older services build, or the project just closed: nothing to show
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [api, key]);
  return outlook;
}

export function DeviceLine({ outlook }: { outlook: JobOutlook | null }) {
  if (!outlook) {
    return (
      <span className="device-line muted" data-testid="device-line" data-device-kind="checking">
        checking the device…
      </span>
    );
  }
  const d = outlook.device;
  const warn = d.kind !== 'gpu';
  return (
    <span className={`device-line${warn ? ' warn' : ''}`} data-testid="device-line" data-device-kind={d.kind} title={d.details ?? `Key-frame translation runs here (${d.label})`}>
      {d.label}
    </span>
  );
}

const NOTE_PREFIX = 'rerender.deviceNote:';

export function noteDismissed(storage: Pick<PlayheadStorage, 'getItem'> | null, projectPath: string, note: string): boolean {
  try {
    return storage?.getItem(`${NOTE_PREFIX}${projectPath}`) === note;
  } catch {
    return false;
  }
}

export function dismissNote(storage: PlayheadStorage | null, projectPath: string, note: string): void {
  try {
    storage?.setItem(`${NOTE_PREFIX}${projectPath}`, note);
  } catch {
    // a convenience: the note shows again next time
  }
}

/** The device note, once per project: dismissing it is remembered for the project. */
export function DeviceNote({ outlook, projectPath }: { outlook: JobOutlook | null; projectPath: string }) {
  const note = outlook?.device.note ?? (outlook?.device.kind === 'unknown' ? outlook.device.label : null);
  const [hidden, setHidden] = useState(false);
  if (!outlook || note === null || hidden || noteDismissed(browserStorage(), projectPath, note)) return null;
  return (
    <div className="device-note" data-testid="device-note">
      <Message message={{ line: note, details: outlook.device.details }} className="reason" testId="device-note-text" />
      <button
        className="small"
        aria-label="Dismiss the device note"
        onClick={() => {
          dismissNote(browserStorage(), projectPath, note);
          setHidden(true);
        }}
      >
        OK
      </button>
    </div>
  );
}
