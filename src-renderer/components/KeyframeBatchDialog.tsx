// "Key frames…": many key frames at once, automatically (where the picture changes most) or every
// N frames, with the result previewed on a mini timeline before anything changes. Replacing never
// drops a key frame holding the artist's work without listing it and asking.
import { useEffect, useState } from 'react';
import type { KeyframePlanPreview, ProjectSummary } from '../../src-main/api/contract.ts';
import { markerPercent, planFromInput, planSummary, removedWithEdits, type PlanInput } from '../lib/keyframes.ts';
import type { Services } from './App.tsx';
import { errorMessage } from './App.tsx';

export interface KeyframeBatchDialogProps {
  services: Services;
  project: ProjectSummary;
  update(request: Promise<ProjectSummary>): Promise<ProjectSummary | undefined>;
  onClose(): void;
}

export function KeyframeBatchDialog({ services, project, update, onClose }: KeyframeBatchDialogProps) {
  const { api } = services.connection;
  const count = project.source.frameCount;
  const [input, setInput] = useState<PlanInput>({ kind: 'auto', every: '10', min: '5', max: '20' });
  const [mode, setMode] = useState<'replace' | 'add'>('replace');
  const [preview, setPreview] = useState<KeyframePlanPreview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [dropEdits, setDropEdits] = useState(false);
  const [applying, setApplying] = useState(false);
  const parsed = planFromInput(input, count);
  const planKey = 'plan' in parsed ? JSON.stringify(parsed.plan) : null;

  useEffect(() => {
    if (!('plan' in parsed)) {
      setPreview(null);
      return;
    }
    let live = true;
    // The automatic plan reads the whole clip: wait for the artist to stop typing.
    const timer = setTimeout(() => {
      setLoading(true);
      api.planKeyframes(parsed.plan, mode).then(
        (p) => live && (setPreview(p), setPreviewError(null)),
        (err: unknown) => live && (setPreview(null), setPreviewError(errorMessage(err))),
      ).finally(() => live && setLoading(false));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [planKey, mode]);
  useEffect(() => setDropEdits(false), [planKey, mode]);

  const lost = preview ? removedWithEdits(preview.removed) : [];
  const canApply = 'plan' in parsed && preview !== null && !loading && !applying && (lost.length === 0 || dropEdits);
  const apply = async () => {
    if (!('plan' in parsed)) return;
    setApplying(true);
    const p = await update(api.applyKeyframePlan(parsed.plan, mode, { dropEdits }));
    setApplying(false);
    if (p) onClose();
  };
  const set = (patch: Partial<PlanInput>) => setInput((i) => ({ ...i, ...patch }));
  const removedFrames = new Set(preview?.removed.map((r) => r.frame) ?? []);
  const addedFrames = new Set(preview?.added ?? []);

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()} onKeyDown={(e) => {
      // The editor's shortcuts (Delete, K, arrows) must not act behind the dialog.
      e.stopPropagation();
      if (e.key === 'Escape') onClose();
    }}>
      <div className="modal kf-batch" role="dialog" aria-modal="true" aria-label="Key frames" data-testid="keyframe-batch">
        <header className="modal-head">
          <h2>Key frames</h2>
          <button className="icon" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        <div className="kf-batch-body">
          <fieldset className="kf-batch-kind">
            <legend>Where</legend>
            <label>
              <input type="radio" name="kf-kind" autoFocus checked={input.kind === 'auto'} onChange={() => set({ kind: 'auto' })} /> Automatic
              <span className="muted small"> — where the picture changes most</span>
            </label>
            {input.kind === 'auto' && (
              <div className="kf-batch-fields">
                <label>
                  Closest gap <input aria-label="Closest gap in frames" inputMode="numeric" value={input.min} onChange={(e) => set({ min: e.target.value })} /> frames
                </label>
                <label>
                  Longest gap <input aria-label="Longest gap in frames" inputMode="numeric" value={input.max} onChange={(e) => set({ max: e.target.value })} /> frames
                </label>
              </div>
            )}
            <label>
              <input type="radio" name="kf-kind" checked={input.kind === 'every'} onChange={() => set({ kind: 'every' })} /> Every
              <input aria-label="Frames between key frames" className="kf-batch-every" inputMode="numeric" value={input.every} disabled={input.kind !== 'every'} onChange={(e) => set({ every: e.target.value })} /> frames
            </label>
            <p className="muted small">Each shot starts with a key frame; nothing carries across a cut.</p>
          </fieldset>
          <fieldset className="kf-batch-mode">
            <legend>The key frames you have</legend>
            <label>
              <input type="radio" name="kf-mode" checked={mode === 'replace'} onChange={() => setMode('replace')} /> Replace them
            </label>
            <label>
              <input type="radio" name="kf-mode" checked={mode === 'add'} onChange={() => setMode('add')} /> Add to them
            </label>
          </fieldset>

          <div className="kf-batch-preview" aria-busy={loading}>
            <div className="kf-mini-timeline" data-testid="kf-mini-timeline" aria-label="Preview of the key frames">
              {(preview?.shotCuts ?? []).map((c) => (
                <span key={`cut-${c}`} className="kf-mini-cut" style={{ left: `${markerPercent(c, count)}%` }} />
              ))}
              {preview?.frames.map((f) => (
                <span key={f} className={addedFrames.has(f) ? 'kf-mini-mark added' : 'kf-mini-mark'} style={{ left: `${markerPercent(f, count)}%` }} title={`Frame ${f}`} />
              ))}
              {[...removedFrames].map((f) => (
                <span key={`rm-${f}`} className="kf-mini-mark removed" style={{ left: `${markerPercent(f, count)}%` }} title={`Frame ${f} would be removed`} />
              ))}
            </div>
            <p data-testid="kf-batch-summary">
              {'error' in parsed ? <span className="field-error">{parsed.error}</span> : loading ? 'Working out the key frames…' : preview ? planSummary(preview) : previewError ? <span className="field-error">{previewError}</span> : ''}
            </p>
            {lost.length > 0 && (
              <div className="kf-batch-lost" role="alert" data-testid="kf-batch-lost">
                <p>
                  {lost.length === 1 ? 'This key frame has your work on it and would be removed:' : `These ${lost.length} key frames have your work on them and would be removed:`}
                </p>
                <ul>
                  {lost.slice(0, 6).map((l) => (
                    <li key={l}>{l}</li>
                  ))}
                  {lost.length > 6 && <li>and {lost.length - 6} more</li>}
                </ul>
                <label>
                  <input type="checkbox" checked={dropEdits} onChange={(e) => setDropEdits(e.target.checked)} /> Remove them anyway (you can undo)
                </label>
              </div>
            )}
          </div>
        </div>
        <footer className="button-row end">
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={!canApply} onClick={() => void apply()} data-testid="kf-batch-apply">
            {applying ? 'Applying…' : mode === 'add' ? 'Add key frames' : 'Replace key frames'}
          </button>
        </footer>
      </div>
    </div>
  );
}
