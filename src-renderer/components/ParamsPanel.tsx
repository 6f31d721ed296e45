// Parameters: the project's settings rendered field by field (generic over the settings shape),
// committed through updateSettings on blur / Enter / toggle. Numbers are checked before sending.
import { useEffect, useMemo, useState } from 'react';
import type { Capabilities, ProjectSummary } from '../../src-main/api/contract.ts';
import { MODEL_SETTING_KEYS } from '../lib/model-settings.ts';
import { describeSettings, parseNumberField, patchFor, valueAt, type FieldSpec, type GroupSpec } from '../lib/settings-fields.ts';
import type { Services } from './App.tsx';
import { ModelSettings } from './ModelSettings.tsx';

export interface ParamsPanelProps {
  services: Services;
  project: ProjectSummary;
  capabilities: Capabilities | null;
  update(request: Promise<ProjectSummary>): Promise<ProjectSummary | undefined>;
}

type Commit = (path: string[], value: unknown) => Promise<boolean>;

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : String(v);
}

export function Field({ spec, value, commit }: { spec: FieldSpec; value: unknown; commit: Commit }) {
  const [draft, setDraft] = useState(() => (spec.kind === 'json' ? JSON.stringify(value) : fmt(value)));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDraft(spec.kind === 'json' ? JSON.stringify(value) : fmt(value));
    setError(null);
  }, [value, spec.kind]);
  const id = `setting-${spec.path.join('-')}`;

  const submit = async () => {
    let next: unknown;
    if (spec.kind === 'number' || spec.kind === 'integer') {
      const parsed = parseNumberField(draft, spec);
      if (!parsed.ok) return setError(parsed.error);
      next = parsed.value;
    } else if (spec.kind === 'json') {
      try {
        next = JSON.parse(draft);
      } catch {
        return setError(`${spec.label}: not valid JSON`);
      }
    } else if (spec.kind === 'nullable-text') {
      next = draft.trim() === '' ? null : draft.trim();
    } else {
      next = draft;
    }
    setError(null);
    if (JSON.stringify(next) === JSON.stringify(value)) return;
    if (!(await commit(spec.path, next))) setError('not saved');
  };

  if (spec.kind === 'boolean') {
    return (
      <label className="field check" htmlFor={id}>
        <input id={id} type="checkbox" checked={value === true} onChange={(e) => void commit(spec.path, e.target.checked)} />
        {spec.label}
      </label>
    );
  }
  if (spec.kind === 'range-pair') {
    return <PairField spec={spec} value={value as [number, number]} commit={commit} />;
  }
  const common = {
    id,
    value: draft,
    'aria-invalid': error !== null,
    onChange: (e: { target: { value: string } }) => {
      setDraft(e.target.value);
      if (spec.kind === 'number' || spec.kind === 'integer') {
        const p = parseNumberField(e.target.value, spec);
        setError(p.ok ? null : p.error);
      }
    },
    onBlur: () => void submit(),
  };
  return (
    <div className="field">
      <label htmlFor={id}>
        {spec.label}
        {spec.hint && <span className="muted"> · {spec.hint}</span>}
        {(spec.kind === 'number' || spec.kind === 'integer') && spec.min !== undefined && spec.max !== undefined && (
          <span className="muted"> ({spec.min}–{spec.max})</span>
        )}
      </label>
      {spec.kind === 'textarea' || spec.kind === 'json' ? (
        <textarea {...common} rows={spec.kind === 'json' ? 2 : 3} />
      ) : (
        <input
          {...common}
          inputMode={spec.kind === 'integer' ? 'numeric' : spec.kind === 'number' ? 'decimal' : undefined}
          placeholder={spec.nullable ? 'auto' : undefined}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void submit();
          }}
        />
      )}
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

function PairField({ spec, value, commit }: { spec: FieldSpec; value: [number, number]; commit: Commit }) {
  const [a, setA] = useState(String(value[0]));
  const [b, setB] = useState(String(value[1]));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setA(String(value[0]));
    setB(String(value[1]));
  }, [value]);
  const submit = async () => {
    const pa = parseNumberField(a, { ...spec, kind: 'number', label: `${spec.label} start` });
    const pb = parseNumberField(b, { ...spec, kind: 'number', label: `${spec.label} end` });
    if (!pa.ok) return setError(pa.error);
    if (!pb.ok) return setError(pb.error);
    if ((pa.value ?? 0) > (pb.value ?? 0)) return setError(`${spec.label}: start must not exceed end`);
    setError(null);
    if (pa.value === value[0] && pb.value === value[1]) return;
    if (!(await commit(spec.path, [pa.value, pb.value]))) setError('not saved');
  };
  return (
    <div className="field">
      <label>
        {spec.label} <span className="muted">(fraction of the schedule)</span>
      </label>
      <div className="pair">
        <input aria-label={`${spec.label} start`} value={a} inputMode="decimal" onChange={(e) => setA(e.target.value)} onBlur={() => void submit()} />
        <span>→</span>
        <input aria-label={`${spec.label} end`} value={b} inputMode="decimal" onChange={(e) => setB(e.target.value)} onBlur={() => void submit()} />
      </div>
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

function Group({ group, settings, commit, depth }: { group: GroupSpec; settings: Record<string, unknown>; commit: Commit; depth: number }) {
  const body = (
    <>
      {group.fields.map((f) => (
        <Field key={f.path.join('.')} spec={f} value={valueAt(settings, f.path)} commit={commit} />
      ))}
      {group.groups.map((g) => (
        <Group key={g.path.join('.')} group={g} settings={settings} commit={commit} depth={depth + 1} />
      ))}
    </>
  );
  if (depth === 0) return body;
  return (
    <details className="settings-group" open={depth === 1 && (g1Open.has(group.path.join('.')))}>
      <summary>{group.label}</summary>
      {body}
    </details>
  );
}

/** Groups shown unfolded at first: the ones the paper's method is about. */
const g1Open = new Set(['crossFrame', 'propagation']);

export function ParamsPanel({ services, project, capabilities, update }: ParamsPanelProps) {
  const { api } = services.connection;
  const spec = useMemo(() => describeSettings(project.settings, [], 'Settings', MODEL_SETTING_KEYS), [project.settings]);
  const save = async (patch: Record<string, unknown>) => (await update(api.updateSettings(patch))) !== undefined;
  const commit: Commit = (path, value) => save(patchFor(path, value));
  return (
    <div className="panel params-panel" data-testid="params-panel">
      <h2>Parameters</h2>
      <ModelSettings project={project} capabilities={capabilities} save={save} />
      <h3>Generation</h3>
      <Group group={spec} settings={project.settings} commit={commit} depth={0} />
    </div>
  );
}
