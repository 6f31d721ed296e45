// "Export for painting…": the key frames' source pictures as numbered PNGs at the source's full
// size, into a folder the artist chose, to paint in another program. Files already there are
// replaced only when the artist says so. The pictures are written a few per request, so the dialog
// shows progress and can stop, and continue later with the ones not written yet.
import { useRef, useState } from 'react';
import type { KeyframeExportInfo, ProjectSummary } from '../../src-main/api/contract.ts';
import { etaText, inSteps } from '../lib/keyframes.ts';
import type { Services } from './App.tsx';
import { errorMessage } from './App.tsx';

export interface KeyframeExportDialogProps {
  services: Services;
  project: ProjectSummary;
  dir: string;
  onChooseAnother(): void;
  onClose(): void;
}

type Phase =
  | { kind: 'ready' }
  | { kind: 'running'; done: number; total: number; eta: string | null }
  | { kind: 'stopped'; done: number; total: number; remaining: number[] }
  | { kind: 'exists'; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'done'; result: KeyframeExportInfo };

/** Pictures per request: a few seconds each even at 4K. */
const STEP = 4;

export function KeyframeExportDialog({ services, project, dir, onChooseAnother, onClose }: KeyframeExportDialogProps) {
  const { api } = services.connection;
  const [phase, setPhase] = useState<Phase>({ kind: 'ready' });
  const n = project.keyframes.length;
  const stop = useRef(false);
  /** `only`: the key frames still to write (continuing a stopped export). */
  const run = async (overwrite: boolean, only?: number[]) => {
    stop.current = false;
    const base = only ? { frames: only } : {};
    try {
      // Asked once for the whole folder; the steps then write what the artist agreed to.
      const plan = await api.exportKeyframeSources(dir, { ...base, overwrite, checkOnly: true });
      const total = plan.frames.length;
      const start = performance.now();
      let done = 0;
      setPhase({ kind: 'running', done, total, eta: null });
      for (const step of inSteps(plan.frames, STEP)) {
        if (stop.current) return setPhase({ kind: 'stopped', done, total, remaining: plan.frames.slice(done) });
        await api.exportKeyframeSources(dir, { frames: step, overwrite: true });
        done += step.length;
        setPhase({ kind: 'running', done, total, eta: etaText(performance.now() - start, done, total) });
      }
      setPhase({ kind: 'done', result: plan });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      setPhase(code === 'OUTPUT_EXISTS' ? { kind: 'exists', message: (err as Error).message } : { kind: 'failed', message: errorMessage(err) });
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && phase.kind !== 'running' && onClose()} onKeyDown={(e) => {
      e.stopPropagation();
      if (e.key === 'Escape' && phase.kind !== 'running') onClose();
    }}>
      <div className="modal kf-export" role="dialog" aria-modal="true" aria-label="Export key frames for painting" data-testid="keyframe-export">
        <header className="modal-head">
          <h2>Export key frames for painting</h2>
          <button className="icon" onClick={onClose} aria-label="Close" disabled={phase.kind === 'running'}>
            ×
          </button>
        </header>
        <p>
          {n} key frame{n === 1 ? '' : 's'} of the source video, at its full size{project.exportSize ? ` (about ${project.exportSize.width}×${project.exportSize.height})` : ''}, as
          numbered pictures such as <code>00012.png</code> for frame 12. Paint them, keep the numbers in the names, then use “Import painted frames…”.
        </p>
        <p className="kf-import-dir">
          <span className="muted">Into </span>
          <span title={dir}>{dir}</span>{' '}
          <button className="small" onClick={onChooseAnother} disabled={phase.kind === 'running'}>
            Choose another folder…
          </button>
        </p>
        {phase.kind === 'running' && (
          <div className="kf-export-progress" data-testid="keyframe-export-progress">
            <progress max={phase.total} value={phase.done} />
            <span>
              {phase.done} of {phase.total} written{phase.eta ? ` · ${phase.eta}` : ''}
            </span>
          </div>
        )}
        {phase.kind === 'stopped' && (
          <p>
            Stopped after {phase.done} of {phase.total} pictures. “Continue” writes the other {phase.remaining.length}.
          </p>
        )}
        {phase.kind === 'exists' && (
          <p className="field-error" role="alert">
            {phase.message}
          </p>
        )}
        {phase.kind === 'failed' && (
          <p className="field-error" role="alert">
            {phase.message}
          </p>
        )}
        {phase.kind === 'done' && (
          <p className="kf-export-done" data-testid="keyframe-export-done">
            Wrote {phase.result.files.length} picture{phase.result.files.length === 1 ? '' : 's'} at {phase.result.width}×{phase.result.height}.
          </p>
        )}
        <footer className="button-row end">
          {phase.kind === 'done' ? (
            <button className="primary" onClick={onClose}>
              Done
            </button>
          ) : (
            <>
              <button onClick={onClose} disabled={phase.kind === 'running'} autoFocus>
                Cancel
              </button>
              {phase.kind === 'running' && (
                <button onClick={() => (stop.current = true)} data-testid="keyframe-export-stop">
                  Stop
                </button>
              )}
              {phase.kind === 'stopped' ? (
                <button className="primary" onClick={() => void run(false, phase.remaining)}>
                  Continue
                </button>
              ) : phase.kind === 'exists' ? (
                <button className="danger" onClick={() => void run(true)} data-testid="keyframe-export-replace">
                  Replace them
                </button>
              ) : (
                <button className="primary" disabled={phase.kind === 'running' || n === 0} onClick={() => void run(false)} data-testid="keyframe-export-run">
                  Export {n} picture{n === 1 ? '' : 's'}
                </button>
              )}
            </>
          )}
        </footer>
      </div>
    </div>
  );
}
