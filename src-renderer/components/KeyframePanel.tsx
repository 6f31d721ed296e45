// The key frame at the playhead: its state, its image (import / translate / clear), its prompt
// override and mask; plus the list of all key frames.
import { useEffect, useRef, useState } from 'react';
import type { Capabilities, JobInfo, ProjectSummary } from '../../src-main/api/contract.ts';
import { KEYFRAME_STYLES, keyframeAt } from '../lib/keyframes.ts';
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
  const { api } = services.connection;
  const kf = keyframeAt(project.keyframes, frame);
  const fileInput = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState<string | null>(null);
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
            <button onClick={() => fileInput.current?.click()} disabled={busy !== null}>
              Import edited image…
            </button>
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
      <ul className="kf-list" data-testid="keyframe-list">
        {sorted.map((k) => (
          <li key={k.frame}>
            <button className={k.frame === frame ? 'kf-item current' : 'kf-item'} onClick={() => onSeek(k.frame)}>
              <KeyframeGlyph state={k.state} />
              <span>Frame {k.frame}</span>
              <span className="muted">{KEYFRAME_STYLES[k.state].label}</span>
              {k.hasMask && <span className="pill">mask</span>}
            </button>
          </li>
        ))}
        {sorted.length === 0 && <li className="muted small">Add key frames with K; edit or translate them; then propagate.</li>}
      </ul>
    </div>
  );
}
