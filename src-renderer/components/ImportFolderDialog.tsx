// "Import painted frames…": a folder of frames painted in another program, matched to key frames
// by the number in each name. Shows, per key frame, the picture it has now beside the painted
// one, and the files that match nothing with the reason, before anything changes. The import is
// all or nothing and one undo step.
import { useEffect, useState } from 'react';
import { mediaRoutes, type KeyframeFolderPreview, type ProjectSummary } from '../../src-main/api/contract.ts';
import { keyframeAt } from '../lib/keyframes.ts';
import { mediaVersion } from '../lib/media-version.ts';
import type { Services } from './App.tsx';
import { errorMessage } from './App.tsx';

export interface ImportFolderDialogProps {
  services: Services;
  project: ProjectSummary;
  dir: string;
  update(request: Promise<ProjectSummary>): Promise<ProjectSummary | undefined>;
  onChooseAnother(): void;
  onClose(): void;
}

export function ImportFolderDialog({ services, project, dir, update, onChooseAnother, onClose }: ImportFolderDialogProps) {
  const { api, mediaUrl } = services.connection;
  const [addMissing, setAddMissing] = useState(false);
  const [preview, setPreview] = useState<KeyframeFolderPreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);

  useEffect(() => {
    let live = true;
    setPreview(null);
    setError(null);
    api.previewKeyframeFolder(dir, { addMissing }).then(
      (p) => live && setPreview(p),
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, dir, addMissing]);

  const problems = preview?.items.filter((i) => i.problem !== null) ?? [];
  const ready = preview !== null && preview.items.length > 0 && problems.length === 0 && !importing;
  const doImport = async () => {
    setImporting(true);
    const p = await update(api.importKeyframeFolder(dir, { addMissing }));
    setImporting(false);
    if (p) onClose();
  };
  const currentUrl = (frame: number): string => {
    const k = keyframeAt(project.keyframes, frame);
    return k && k.state !== 'none'
      ? mediaUrl(mediaRoutes.keyframeImage(frame), mediaVersion(project, k.updatedAt))
      : mediaUrl(mediaRoutes.sourceFrame(frame), mediaVersion(project));
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()} onKeyDown={(e) => {
      e.stopPropagation();
      if (e.key === 'Escape') onClose();
    }}>
      <div className="modal kf-import" role="dialog" aria-modal="true" aria-label="Import painted frames" data-testid="import-folder">
        <header className="modal-head">
          <h2>Import painted frames</h2>
          <button className="icon" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        <p className="kf-import-dir">
          <span className="muted">From </span>
          <span title={dir}>{dir}</span>{' '}
          <button className="small" onClick={onChooseAnother}>
            Choose another folder…
          </button>
        </p>
        <label className="kf-import-add">
          <input type="checkbox" checked={addMissing} onChange={(e) => setAddMissing(e.target.checked)} /> Also add key frames for numbered files that are not key frames yet
        </label>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        {!preview && !error && <p className="busy">Reading the painted frames…</p>}
        {preview && (
          <>
            <p data-testid="import-summary">
              {preview.items.length === 0
                ? 'No painted frame here matches a key frame.'
                : `${preview.items.length} key frame${preview.items.length === 1 ? '' : 's'} will get the painted picture${problems.length > 0 ? `; ${problems.length} cannot be read` : ''}.`}
            </p>
            <ul className="kf-import-list" data-testid="import-list">
              {preview.items.map((i) => (
                <li key={i.name} className={i.problem ? 'kf-import-row bad' : 'kf-import-row'}>
                  <span className="kf-import-frame">
                    Frame {i.frame}
                    {i.isNew && <span className="pill">new</span>}
                  </span>
                  <img className="kf-import-thumb" src={currentUrl(i.frame)} alt={`Frame ${i.frame} now`} />
                  <span aria-hidden="true">→</span>
                  {i.thumbnail ? <img className="kf-import-thumb" src={i.thumbnail} alt={`${i.name}, painted`} /> : <span className="kf-import-thumb none" />}
                  <span className="kf-import-name muted" title={i.name}>
                    {i.name}
                  </span>
                  {i.problem && <span className="field-error small">{i.problem}</span>}
                </li>
              ))}
            </ul>
            {preview.skipped.length > 0 && (
              <details className="kf-import-skipped" data-testid="import-skipped">
                <summary>
                  {preview.skipped.length} file{preview.skipped.length === 1 ? '' : 's'} skipped
                </summary>
                <ul>
                  {preview.skipped.map((s) => (
                    <li key={s.name}>
                      <span>{s.name}</span> <span className="muted">— {s.reason}</span>
                    </li>
                  ))}
                </ul>
              </details>
            )}
            {problems.length > 0 && <p className="muted small">Fix or remove the files that cannot be read: nothing is imported until all of them can be.</p>}
          </>
        )}
        <footer className="button-row end">
          <button onClick={onClose} autoFocus>
            Cancel
          </button>
          <button className="primary" disabled={!ready} onClick={() => void doImport()} data-testid="import-folder-apply">
            {importing ? 'Importing…' : preview && preview.items.length > 0 ? `Import ${preview.items.length} painted frame${preview.items.length === 1 ? '' : 's'}` : 'Import'}
          </button>
        </footer>
      </div>
    </div>
  );
}
