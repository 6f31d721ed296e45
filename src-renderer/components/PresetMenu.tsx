// Presets and config files: pick one, see what it would change (one line per setting), apply it
// as one settings update (one undo step). "Preset: X (modified)" says where the settings came from.
import { useMemo, useState } from 'react';
import type { ConfigFileResult, ProjectSummary } from '../../src-main/api/contract.ts';
import { PRESETS, presetById } from '../../src-main/project/presets.ts';
import { browserStorage } from '../lib/playhead-store.ts';
import { loadApplied, presetLabel, saveApplied, type AppliedPreset } from '../lib/preset-label.ts';
import { describeChanges } from '../lib/settings-fields.ts';
import { usePickFile } from './FilePicker.tsx';

export interface PresetMenuProps {
  project: Pick<ProjectSummary, 'path' | 'settings'>;
  /** Saves a settings patch; resolves false when the services refused it. */
  save(patch: Record<string, unknown>): Promise<boolean>;
  loadConfigFile(path: string): Promise<ConfigFileResult>;
}

interface Pending {
  name: string;
  description: string;
  settings: Record<string, unknown>;
  notes: readonly string[];
  /** From a config file: what the project cannot take. */
  ignored: readonly string[];
}

const OURS = PRESETS.filter((p) => !p.source);
const OFFICIAL = PRESETS.filter((p) => p.source);

export function PresetMenu({ project, save, loadConfigFile }: PresetMenuProps) {
  const [applied, setApplied] = useState<AppliedPreset | null>(() => loadApplied(browserStorage(), project.path));
  const [pending, setPending] = useState<Pending | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const pick = usePickFile();
  const label = presetLabel(project.settings, applied);
  const changes = useMemo(() => (pending ? describeChanges(project.settings, pending.settings) : []), [pending, project.settings]);

  const choose = (id: string) => {
    const p = presetById(id);
    if (!p) return;
    setError(null);
    setPending({ name: p.name, description: p.description + (p.source ? ` From ${p.source}.` : ''), settings: p.settings as Record<string, unknown>, notes: p.notes ?? [], ignored: [] });
  };

  const loadFile = async () => {
    setError(null);
    let file: string | null;
    try {
      file = await pick('config', 'open', undefined, 'Choose a Rerender config (.json)');
    } catch (e) {
      return setError(e instanceof Error ? e.message : String(e));
    }
    if (!file) return;
    try {
      const r = await loadConfigFile(file);
      setPending({ name: `${r.name}.json`, description: `From ${r.path}.`, settings: r.settings, notes: [], ignored: r.ignored });
    } catch (e) {
      setError(`Could not load that config: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const apply = async () => {
    if (!pending) return;
    setBusy(true);
    // One updateSettings for the whole preset: one change to undo.
    const ok = await save(pending.settings);
    setBusy(false);
    if (!ok) return setError(`“${pending.name}” was not applied.`);
    const next = { name: pending.name, settings: pending.settings };
    saveApplied(browserStorage(), project.path, next);
    setApplied(next);
    setPending(null);
  };

  return (
    <section className="preset-menu" data-testid="preset-menu">
      <div className="preset-row">
        <span className="preset-label" data-testid="preset-label" title="Where these settings came from">
          {label}
        </span>
        <select
          aria-label="Apply a preset"
          value=""
          onChange={(e) => {
            choose(e.target.value);
            e.target.value = '';
          }}
        >
          <option value="">Presets…</option>
          <optgroup label="Speed and quality">
            {OURS.map((p) => (
              <option key={p.id} value={p.id} title={p.description}>
                {p.name}
              </option>
            ))}
          </optgroup>
          <optgroup label="Official Rerender examples">
            {OFFICIAL.map((p) => (
              <option key={p.id} value={p.id} title={p.description}>
                {p.name}
              </option>
            ))}
          </optgroup>
        </select>
        <button type="button" className="small" onClick={() => void loadFile()} title="Load an official Rerender config (.json)">
          Load config…
        </button>
      </div>
      {pending && (
        <div className="preset-confirm" role="group" aria-label={`Apply ${pending.name}`} data-testid="preset-confirm">
          <strong>Apply “{pending.name}”?</strong>
          <p className="muted small">{pending.description}</p>
          {changes.length === 0 ? (
            <p className="small">Nothing would change: the settings already match.</p>
          ) : (
            <ul className="preset-changes" data-testid="preset-changes">
              {changes.map((c) => (
                <li key={c.path.join('.')}>
                  <span className="change-label">{c.label}</span>: <span className="muted">{c.from}</span> → <strong>{c.to}</strong>
                </li>
              ))}
            </ul>
          )}
          {pending.ignored.length > 0 && (
            <details className="preset-ignored" data-testid="preset-ignored" open>
              <summary>Not taken from the file ({pending.ignored.length})</summary>
              <ul>
                {pending.ignored.map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            </details>
          )}
          {pending.notes.map((n) => (
            <p key={n} className="muted small">
              {n}
            </p>
          ))}
          <div className="button-row">
            <button type="button" className="primary" disabled={busy} onClick={() => void apply()}>
              Apply
            </button>
            <button type="button" onClick={() => setPending(null)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {error && <p className="field-error">{error}</p>}
    </section>
  );
}
