// The key frame at the playhead: its state, its image (import / translate / clear), its prompt
// override and mask; plus the list of all key frames with a thumbnail each, and the batch work
// of the EbSynth workflow (many key frames at once, export for painting, import painted frames).
import { useEffect, useRef, useState } from 'react';
import { mediaRoutes, type Capabilities, type JobInfo, type ProjectSummary } from '../../src-main/api/contract.ts';
import { KEYFRAME_STYLES, keyframeAt } from '../lib/keyframes.ts';
import { mediaVersion } from '../lib/media-version.ts';
import { joinPath } from '../lib/file-browser.ts';
import { usePickFile } from './FilePicker.tsx';
import { ImportFolderDialog } from './ImportFolderDialog.tsx';
import { KeyframeBatchDialog } from './KeyframeBatchDialog.tsx';
import { KeyframeExportDialog } from './KeyframeExportDialog.tsx';
import { toPngBytes } from '../lib/image-file.ts';
import { translateBlocker } from '../lib/translate.ts';
import type { Services } from './App.tsx';
import { KeyframeGlyph } from './KeyframeGlyph.tsx';
import { Reason } from './Reason.tsx';

export interface KeyframePanelProps {
  services: Services;
  project: ProjectSummary;
  frame: number;
  capabilities: Capabilities | null;
  jobs: JobInfo[];
  onSeek(frame: number): void;
  onAdd(): void;
  onRemove(): void;
  onEditMask(): void;
  update(request: Promise<ProjectSummary>): Promise<ProjectSummary | undefined>;
}

export function KeyframePanel({ services, project, frame, capabilities, jobs, onSeek, onAdd, onRemove, onEditMask, update }: KeyframePanelProps) {
  const { api, mediaUrl } = services.connection;
  const pick = usePickFile();
  const kf = keyframeAt(project.keyframes, frame);
  const fileInput = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [dialog, setDialog] = useState<{ kind: 'batch' } | { kind: 'export' | 'import'; dir: string } | null>(null);
  /** The folder last used for painting: the next export or import starts there. */
  const [paintFolder, setPaintFolder] = useState<string | undefined>(undefined);
  const [prompt, setPrompt] = useState(kf?.prompt ?? '');
  useEffect(() => setPrompt(kf?.prompt ?? ''), [kf?.prompt, frame]);

  const translateReason = translateBlocker(capabilities, project, jobs, [frame]);
  const savePrompt = (text: string) => {
    const next = text.trim() === '' ? null : text;
    if (next !== (kf?.prompt ?? null)) void update(api.setKeyframePrompt(frame, next));
  };

  const importImage = async (file: File) => {
    setBusy(`Importing ${file.name}…`);
    try {
      const png = await services.run(toPngBytes(file));
      if (png) await update(api.importKeyframeImage(frame, png));
    } finally {
      setBusy(null);
      if (fileInput.current) fileInput.current.value = '';
    }
  };

  /** The same file browser as every other file choice (on the services' machine). */
  const importFromBrowser = async () => {
    const file = await services.run(pick('image', 'open', undefined, `Choose the edited picture for frame ${frame}`));
    if (!file) return;
    setBusy('Importing…');
    try {
      await update(api.importKeyframeImageFile(frame, file));
    } finally {
      setBusy(null);
    }
  };
  const chooseFolder = async (kind: 'export' | 'import') => {
    const title = kind === 'export' ? 'Choose a folder for the pictures to paint' : 'Choose the folder of painted frames';
    const dir = await services.run(pick('image', 'folder', paintFolder ? joinPath(paintFolder, '.') : undefined, title));
    if (!dir) return;
    setPaintFolder(dir);
    setDialog({ kind, dir });
  };
  const thumbUrl = (k: (typeof project.keyframes)[number]): string =>
    k.state === 'none'
      ? mediaUrl(mediaRoutes.sourceFrame(k.frame), mediaVersion(project))
      : mediaUrl(mediaRoutes.keyframeImage(k.frame), mediaVersion(project, k.updatedAt));

  const sorted = [...project.keyframes].sort((a, b) => a.frame - b.frame);
  return (
    <div className="panel keyframe-panel">
      <h2>Key frame</h2>
      {!kf ? (
        <div className="kf-empty">
          <p className="muted">Frame {frame} is not a key frame.</p>
          <button className="primary" onClick={onAdd} title="Add a key frame here (K)">
            Add key frame (K)
          </button>
        </div>
      ) : (
        <div className="kf-detail" data-testid="keyframe-detail">
          <div className="kf-state">
            <KeyframeGlyph state={kf.state} />
            <span data-testid="keyframe-state">{KEYFRAME_STYLES[kf.state].label}</span>
            <span className="muted">· frame {kf.frame}</span>
            {kf.hasMask && <span className="pill">mask</span>}
          </div>
          <p className="muted small">{KEYFRAME_STYLES[kf.state].description}</p>
          <div className="button-row">
            <button onClick={() => void importFromBrowser()} disabled={busy !== null} data-testid="keyframe-import-browse">
              Import edited image…
            </button>
            {services.connection.mode === 'browser' && (
              <button className="small link-inline" onClick={() => fileInput.current?.click()} disabled={busy !== null} title="Upload a picture from the computer this browser runs on">
                Upload…
              </button>
            )}
            <input
              ref={fileInput}
              type="file"
              accept="image/png,image/jpeg,image/webp"
              hidden
              data-testid="keyframe-file"
              onChange={(e) => {
                const f = e.target.files?.[0];
                if (f) void importImage(f);
              }}
            />
            <button
              disabled={translateReason !== null || busy !== null}
              title={translateReason ?? 'Translate this key frame with the diffusion engine'}
              onClick={() => void services.run(api.startJob({ kind: 'translate', frames: [frame] }))}
            >
              Translate
            </button>
            <button disabled={kf.state === 'none' || busy !== null} onClick={() => void update(api.clearKeyframeImage(frame))}>
              Clear image
            </button>
          </div>
          {translateReason && <Reason text={translateReason} prefix="Translate unavailable: " testId="translate-reason" />}
          <div className="button-row">
            <button onClick={onEditMask}>Paint mask…</button>
            {kf.hasMask && <button onClick={() => void update(api.setKeyframeMask(frame, null))}>Remove mask</button>}
            <button className="danger" onClick={onRemove} title="Remove this key frame (Delete)">
              Remove key frame
            </button>
          </div>
          <div className="field">
            <label htmlFor="keyframe-prompt">
              Prompt for this key frame{' '}
              <span className="muted" data-testid="keyframe-prompt-source">
                {kf.prompt === null ? '(uses the project prompt)' : '(overrides the project prompt)'}
              </span>
            </label>
            <textarea
              id="keyframe-prompt"
              rows={3}
              value={prompt}
              placeholder={typeof project.settings.prompt === 'string' && project.settings.prompt ? project.settings.prompt : 'empty = project prompt'}
              onChange={(e) => setPrompt(e.target.value)}
              onBlur={() => savePrompt(prompt)}
            />
            {kf.prompt !== null && (
              <button className="small" onClick={() => savePrompt('')}>
                Use the project prompt
              </button>
            )}
          </div>
          {busy && <p className="busy">{busy}</p>}
        </div>
      )}

      <h3>All key frames ({sorted.length})</h3>
      <div className="button-row kf-batch-actions">
        <button onClick={() => setDialog({ kind: 'batch' })} title="Many key frames at once: automatically or every N frames" data-testid="keyframe-batch-open">
          Key frames…
        </button>
        <button onClick={() => void chooseFolder('export')} disabled={sorted.length === 0} title="Save the key frames' source pictures, numbered, to paint in another program" data-testid="keyframe-export-open">
          Export for painting…
        </button>
        <button onClick={() => void chooseFolder('import')} title="Bring back a folder of painted frames, matched by the numbers in their names" data-testid="keyframe-import-open">
          Import painted frames…
        </button>
      </div>
      <ul className="kf-list" data-testid="keyframe-list">
        {sorted.map((k) => (
          <li key={k.frame}>
            <button className={k.frame === frame ? 'kf-item current' : 'kf-item'} onClick={() => onSeek(k.frame)}>
              <KeyframeGlyph state={k.state} />
              <span>Frame {k.frame}</span>
              <span className="muted">{KEYFRAME_STYLES[k.state].label}</span>
              {k.hasMask && <span className="pill">mask</span>}
              {/* Last in the markup (the list's text spans keep their places), first on screen. */}
              <img className="kf-thumb" src={thumbUrl(k)} alt="" loading="lazy" />
            </button>
          </li>
        ))}
        {sorted.length === 0 && <li className="muted small">Add key frames with K; edit or translate them; then propagate.</li>}
      </ul>
      {dialog?.kind === 'batch' && <KeyframeBatchDialog services={services} project={project} update={update} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'export' && (
        <KeyframeExportDialog services={services} project={project} dir={dialog.dir} onChooseAnother={() => void chooseFolder('export')} onClose={() => setDialog(null)} />
      )}
      {dialog?.kind === 'import' && (
        <ImportFolderDialog services={services} project={project} dir={dialog.dir} update={update} onChooseAnother={() => void chooseFolder('import')} onClose={() => setDialog(null)} />
      )}
    </div>
  );
}
