// Project undo/redo in the editor's top bar: Undo and Redo buttons naming the step in their
// tooltip, a History list where clicking a step goes back (or forward) to just after it, and a
// short toast saying what was undone. The history itself lives in the project file (services).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { EditHistoryInfo, ProjectSummary, RerenderApi } from '../../src-main/api/contract.ts';
import { historyButtonTitle, historyToast, modKey } from '../lib/project-history.ts';

export interface ProjectHistory {
  info: EditHistoryInfo | undefined;
  /** Counts undo/redo/jumps: what is shown of the project (the mask painter) reloads on a change. */
  revision: number;
  toast: { id: number; text: string } | null;
  undo(): void;
  redo(): void;
  goTo(position: number): void;
}

const TOAST_MS = 2500;

export function useProjectHistory(
  api: RerenderApi,
  project: ProjectSummary,
  update: (request: Promise<ProjectSummary>) => Promise<ProjectSummary | undefined>,
): ProjectHistory {
  const [revision, setRevision] = useState(0);
  const [toast, setToast] = useState<ProjectHistory['toast']>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  const show = useCallback((text: string) => {
    clearTimeout(timer.current);
    setToast({ id: Date.now(), text });
    timer.current = setTimeout(() => setToast(null), TOAST_MS);
  }, []);

  const info = project.history;
  const run = useCallback(
    async (request: Promise<ProjectSummary>, said: (p: ProjectSummary) => string | null) => {
      const p = await update(request);
      if (!p) return;
      setRevision((r) => r + 1);
      const text = said(p);
      if (text) show(text);
    },
    [show, update],
  );

  const undo = useCallback(() => {
    if (!info?.undo) return;
    // The step just undone is the first one left to redo (the reply's, not a possibly stale prop's).
    void run(api.undo(), (p) => (p.history?.redo ? historyToast('undo', p.history.redo) : null));
  }, [api, info?.undo, run]);
  const redo = useCallback(() => {
    if (!info?.redo) return;
    void run(api.redo(), (p) => (p.history?.undo ? historyToast('redo', p.history.undo) : null));
  }, [api, info?.redo, run]);
  const goTo = useCallback(
    (position: number) => {
      if (!info || position === info.position) return;
      const from = info.position;
      void run(api.historyGoTo(position), () => {
        const n = Math.abs(position - from);
        const dir = position < from ? 'Undid' : 'Redid';
        return n === 1 ? historyToast(position < from ? 'undo' : 'redo', info.steps[Math.min(from, position)]!.label) : `${dir} ${n} steps`;
      });
    },
    [api, info, run],
  );

  return useMemo(() => ({ info, revision, toast, undo, redo, goTo }), [info, revision, toast, undo, redo, goTo]);
}

function timeOf(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function HistoryPanel({ history }: { history: ProjectHistory }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const info = history.info;
  const mod = modKey(typeof navigator === 'undefined' ? '' : navigator.platform);

  // A click anywhere else closes the list.
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    return () => window.removeEventListener('mousedown', close);
  }, [open]);

  const steps = info?.steps ?? [];
  const position = info?.position ?? 0;
  return (
    <div className="history-controls" ref={box}>
      <button onClick={history.undo} disabled={!info?.undo} title={historyButtonTitle('undo', info?.undo ?? null, mod)} aria-label="Undo" data-testid="undo-button">
        ↶
      </button>
      <button onClick={history.redo} disabled={!info?.redo} title={historyButtonTitle('redo', info?.redo ?? null, mod)} aria-label="Redo" data-testid="redo-button">
        ↷
      </button>
      <button onClick={() => setOpen((o) => !o)} aria-expanded={open} title="Undo history: every change, kept with the project" data-testid="history-toggle">
        History
      </button>
      {open && (
        <div className="history-popover" role="dialog" aria-label="Undo history">
          <ol className="history-list" data-testid="history-list">
            <li className={position === 0 ? 'current' : 'done'}>
              <button onClick={() => history.goTo(0)} aria-current={position === 0 ? 'step' : undefined}>
                {steps.length === 0 ? 'No changes yet' : 'Before these changes'}
              </button>
            </li>
            {steps.map((s, i) => (
              <li key={`${i}-${s.at}`} className={i + 1 === position ? 'current' : i < position ? 'done' : 'undone'}>
                <button onClick={() => history.goTo(i + 1)} aria-current={i + 1 === position ? 'step' : undefined} title={i < position ? 'Go back to just after this change' : 'Redo up to this change'}>
                  <span>{s.label}</span>
                  <span className="muted">{timeOf(s.at)}</span>
                </button>
              </li>
            ))}
          </ol>
          <p className="muted small">Click a change to go back to just after it. Greyed changes were undone: click to redo them.</p>
        </div>
      )}
      {history.toast && (
        <div key={history.toast.id} className="history-toast" role="status" data-testid="history-toast">
          {history.toast.text}
        </div>
      )}
    </div>
  );
}
