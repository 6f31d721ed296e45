// Parameters: a preset menu, the models, then the project's settings in plain words, in sections
// (Look, Key frames, Consistency, Propagation, Advanced), each with a one-line help, a slider over
// an artist-sized range with the exact value still typeable, and a reset to its default. Values
// are checked before sending and committed through updateSettings on blur / Enter / release.
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { Capabilities, ProjectSummary } from '../../src-main/api/contract.ts';
import { defaultSettings } from '../../src-main/project/settings.ts';
import { MODEL_SETTING_KEYS } from '../lib/model-settings.ts';
import {
  formatValue,
  fromShown,
  parseNumberField,
  patchFor,
  settingsSections,
  toShown,
  valueAt,
  type FieldSpec,
  type SectionSpec,
} from '../lib/settings-fields.ts';
import type { Services } from './App.tsx';
import { ModelSettings } from './ModelSettings.tsx';
import { PresetMenu } from './PresetMenu.tsx';

export interface ParamsPanelProps {
  services: Services;
  project: ProjectSummary;
  capabilities: Capabilities | null;
  update(request: Promise<ProjectSummary>): Promise<ProjectSummary | undefined>;
}

type Commit = (path: string[], value: unknown) => Promise<boolean>;

const DEFAULTS = defaultSettings() as unknown as Record<string, unknown>;

/** Seeds an artist can read and type; any whole number up to 2³²−1 works. */
export function randomSeed(random: () => number = Math.random): number {
  return Math.floor(random() * 1_000_000);
}

function isNumeric(spec: FieldSpec): boolean {
  return spec.kind === 'number' || spec.kind === 'integer' || spec.kind === 'seed';
}

function shownText(spec: FieldSpec, v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(toShown(v, spec));
  return typeof v === 'string' ? v : String(v);
}

function draftOf(spec: FieldSpec, v: unknown): string {
  return spec.kind === 'json' ? JSON.stringify(v) : shownText(spec, v);
}

function ResetButton({ spec, value, fallback, commit }: { spec: FieldSpec; value: unknown; fallback: unknown; commit: Commit }) {
  // An empty default (the prompt) is no value to go back to: clearing is the artist's to do.
  if (fallback === undefined || fallback === '' || JSON.stringify(value) === JSON.stringify(fallback)) return null;
  return (
    <button
      type="button"
      className="reset-default"
      aria-label={`Reset ${spec.label} to default`}
      title={`Back to the default: ${formatValue(spec, fallback)}`}
      onClick={() => void commit(spec.path, fallback)}
    >
      ↺
    </button>
  );
}

/** One setting: its label (and reset), its control, its help line and any error. */
export function Field({ spec, value, commit, fallback, note }: { spec: FieldSpec; value: unknown; commit: Commit; fallback?: unknown; note?: string }) {
  const [draft, setDraft] = useState(() => draftOf(spec, value));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDraft(draftOf(spec, value));
    setError(null);
  }, [value, spec.kind, spec.scale]);
  const id = `setting-${spec.path.join('-')}`;
  const helpId = spec.help ? `${id}-help` : undefined;

  const submit = async (text = draft) => {
    let next: unknown;
    if (isNumeric(spec)) {
      const parsed = parseNumberField(text, spec);
      if (!parsed.ok) return setError(parsed.error);
      next = parsed.value === null ? null : fromShown(parsed.value, spec);
    } else if (spec.kind === 'json') {
      try {
        next = JSON.parse(text);
      } catch {
        return setError(`${spec.label}: not valid JSON`);
      }
    } else if (spec.kind === 'nullable-text') {
      next = text.trim() === '' ? null : text.trim();
    } else {
      next = text;
    }
    setError(null);
    if (JSON.stringify(next) === JSON.stringify(value)) return;
    if (!(await commit(spec.path, next))) setError('not saved');
  };

  const reset = <ResetButton spec={spec} value={value} fallback={fallback} commit={commit} />;
  const help = spec.help && (
    <p className="field-help" id={helpId}>
      {spec.help}
    </p>
  );
  const extra = (
    <>
      {help}
      {note && <p className="field-note">{note}</p>}
      {error && <p className="field-error">{error}</p>}
    </>
  );

  if (spec.kind === 'boolean') {
    return (
      <div className="field" data-setting={spec.path.join('.')}>
        <div className="field-head">
          <label className="check" htmlFor={id}>
            <input id={id} type="checkbox" aria-describedby={helpId} checked={value === true} onChange={(e) => void commit(spec.path, e.target.checked)} />
            {spec.label}
          </label>
          {reset}
        </div>
        {extra}
      </div>
    );
  }
  if (spec.kind === 'range-pair') {
    return <PairField spec={spec} value={value as [number, number]} commit={commit} reset={reset} help={help} />;
  }
  if (spec.kind === 'choice') {
    return (
      <div className="field" data-setting={spec.path.join('.')}>
        <div className="field-head">
          <label htmlFor={id}>{spec.label}</label>
          {reset}
        </div>
        <select id={id} aria-describedby={helpId} value={typeof value === 'string' ? value : ''} onChange={(e) => void commit(spec.path, e.target.value)}>
          {spec.choices?.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
        {extra}
      </div>
    );
  }
  const common = {
    id,
    value: draft,
    'aria-invalid': error !== null,
    'aria-describedby': helpId,
    onChange: (e: { target: { value: string } }) => {
      setDraft(e.target.value);
      if (isNumeric(spec)) {
        const p = parseNumberField(e.target.value, spec);
        setError(p.ok ? null : p.error);
      }
    },
    onBlur: () => void submit(),
  };
  const slider = spec.slider;
  const shown = Number(draft);
  return (
    <div className="field" data-setting={spec.path.join('.')}>
      <div className="field-head">
        <label htmlFor={id}>
          {spec.label}
          {spec.hint && <span className="muted"> · {spec.hint}</span>}
        </label>
        {reset}
      </div>
      {spec.kind === 'textarea' || spec.kind === 'json' ? (
        <textarea {...common} rows={spec.kind === 'json' ? 2 : 3} />
      ) : (
        <div className="field-control">
          {slider && (
            <input
              type="range"
              aria-label={`${spec.label} slider`}
              min={slider.min}
              max={slider.max}
              step={slider.step}
              value={Number.isFinite(shown) ? Math.min(slider.max, Math.max(slider.min, shown)) : slider.min}
              onChange={(e) => {
                setDraft(e.target.value);
                setError(null);
              }}
              // Committed on release, so a drag is one change (and one undo step), not fifty.
              onPointerUp={(e) => void submit((e.target as HTMLInputElement).value)}
              onKeyUp={(e) => void submit((e.target as HTMLInputElement).value)}
            />
          )}
          <input
            {...common}
            className={slider || spec.kind === 'seed' ? 'field-number' : undefined}
            inputMode={spec.kind === 'number' ? 'decimal' : isNumeric(spec) ? 'numeric' : undefined}
            placeholder={spec.nullable ? 'auto' : undefined}
            onKeyDown={(e) => {
              if (e.key === 'Enter') void submit();
              // Arrow keys step the value like a stepper; Enter or leaving the field saves it.
              const step = slider?.step ?? (spec.kind === 'integer' ? 1 : undefined);
              if (step !== undefined && (e.key === 'ArrowUp' || e.key === 'ArrowDown') && Number.isFinite(shown) && draft.trim() !== '') {
                e.preventDefault();
                let n = Number((shown + (e.key === 'ArrowUp' ? step : -step)).toPrecision(12));
                if (spec.min !== undefined) n = Math.max(spec.min, n);
                if (spec.max !== undefined) n = Math.min(spec.max, n);
                setDraft(String(n));
                setError(null);
              }
            }}
          />
          {spec.unit && <span className="field-unit muted">{spec.unit}</span>}
          {spec.kind === 'seed' && (
            <button
              type="button"
              className="small dice"
              aria-label="New seed"
              title="Roll a new seed: another take of the same settings"
              onClick={() => void commit(spec.path, randomSeed())}
            >
              ⚄ New
            </button>
          )}
        </div>
      )}
      {extra}
    </div>
  );
}

function PairField({ spec, value, commit, reset, help }: { spec: FieldSpec; value: [number, number]; commit: Commit; reset: ReactNode; help: ReactNode }) {
  const [a, setA] = useState(shownText(spec, value[0]));
  const [b, setB] = useState(shownText(spec, value[1]));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setA(shownText(spec, value[0]));
    setB(shownText(spec, value[1]));
  }, [value]);
  const submit = async () => {
    const pa = parseNumberField(a, { ...spec, kind: 'number', label: `${spec.label}: start` });
    const pb = parseNumberField(b, { ...spec, kind: 'number', label: `${spec.label}: end` });
    if (!pa.ok) return setError(pa.error);
    if (!pb.ok) return setError(pb.error);
    if ((pa.value ?? 0) > (pb.value ?? 0)) return setError(`${spec.label}: the start must not be after the end`);
    setError(null);
    const next = [fromShown(pa.value ?? 0, spec), fromShown(pb.value ?? 0, spec)];
    if (next[0] === value[0] && next[1] === value[1]) return;
    if (!(await commit(spec.path, next))) setError('not saved');
  };
  return (
    <div className="field" data-setting={spec.path.join('.')}>
      <div className="field-head">
        <label>{spec.label}</label>
        {reset}
      </div>
      <div className="pair">
        <input aria-label={`${spec.label} start`} value={a} inputMode="decimal" onChange={(e) => setA(e.target.value)} onBlur={() => void submit()} />
        <span>to</span>
        <input aria-label={`${spec.label} end`} value={b} inputMode="decimal" onChange={(e) => setB(e.target.value)} onBlur={() => void submit()} />
        {spec.unit && <span className="field-unit muted">{spec.unit}</span>}
      </div>
      {help}
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

function Section({ section, settings, commit }: { section: SectionSpec; settings: Record<string, unknown>; commit: Commit }) {
  const seedNote = (() => {
    const own = valueAt(settings, ['propagation', 'seed']);
    const seed = settings.seed;
    // An older project may hold two different seeds; the next change of Seed sets both.
    return typeof own === 'number' && typeof seed === 'number' && own !== seed ? `Propagation still uses seed ${own} from before; a new Seed sets both.` : undefined;
  })();
  return (
    <details className="settings-group" open={section.open} data-testid={`settings-${section.id}`}>
      <summary>
        {section.label} <span className="muted small">· {section.help}</span>
      </summary>
      {section.fields.map((f) => (
        <Field
          key={f.path.join('.')}
          spec={f}
          value={valueAt(settings, f.path)}
          fallback={valueAt(DEFAULTS, f.path)}
          commit={commit}
          {...(f.kind === 'seed' && seedNote ? { note: seedNote } : {})}
        />
      ))}
    </details>
  );
}

export function ParamsPanel({ services, project, capabilities, update }: ParamsPanelProps) {
  const { api } = services.connection;
  const sections = useMemo(() => settingsSections(project.settings, MODEL_SETTING_KEYS), [project.settings]);
  const save = async (patch: Record<string, unknown>) => (await update(api.updateSettings(patch))) !== undefined;
  const commit: Commit = (path, value) => save(patchFor(path, value));
  return (
    <div className="panel params-panel" data-testid="params-panel">
      <h2>Parameters</h2>
      <PresetMenu project={project} save={save} loadConfigFile={(p) => api.loadConfigFile(p)} />
      <ModelSettings project={project} capabilities={capabilities} save={save} />
      {sections.map((s) => (
        <Section key={s.id} section={s} settings={project.settings} commit={commit} />
      ))}
    </div>
  );
}
