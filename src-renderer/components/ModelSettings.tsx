// Parameters → Models: the Stable Diffusion checkpoint, the ControlNet and its Canny edge
// settings, LoRAs with weights, and the float precision the engine computes in. Each is checked
// here before it is saved through updateSettings; whether the files make a working engine is the
// services' answer (capabilities().translate), shown at the bottom and re-checked after every change.
import { useEffect, useRef, useState } from 'react';
import type { Capabilities, ProjectSummary } from '../../src-main/api/contract.ts';
import {
  CANNY_THRESHOLD,
  CONTROLNET_SCALE,
  LORA_WEIGHT,
  PRECISION_CHOICES,
  addLoraDraft,
  checkCanny,
  checkLoras,
  isPrecisionChoice,
  lorasToDrafts,
  parseModelPath,
  readModelSettings,
  removeLoraDraft,
  updateLoraDraft,
  type CannyDraft,
  type LoraDraft,
  type Precision,
} from '../lib/model-settings.ts';
import { engineReason } from '../lib/translate.ts';
import { usePickFile } from './FilePicker.tsx';

export interface ModelSettingsProps {
  project: ProjectSummary;
  capabilities: Capabilities | null;
  /** Saves a settings patch; resolves false when the services refused it (they say why). */
  save(patch: Record<string, unknown>): Promise<boolean>;
}

/**
 * A draft that follows the saved value, except for the echo of this component's own save: the
 * user may already be typing the next change, which a reset would throw away.
 */
function useSyncedDraft<D>(savedKey: string, fromSaved: (key: string) => D) {
  const [draft, setDraft] = useState(() => fromSaved(savedKey));
  // Saves in flight, by key: several may be, when the user moves on quickly.
  const pending = useRef(new Set<string>());
  const from = useRef(fromSaved);
  from.current = fromSaved;
  useEffect(() => {
    if (pending.current.delete(savedKey)) return;
    setDraft(from.current(savedKey));
  }, [savedKey]);
  return { draft, setDraft, committing: (key: string) => void pending.current.add(key) };
}

function PathField({ id, label, hint, value, save }: { id: string; label: string; hint: string; value: string | null; save(v: string | null): Promise<boolean> }) {
  const { draft, setDraft, committing } = useSyncedDraft(value ?? '', (k) => k);
  const [error, setError] = useState<string | null>(null);
  const pick = usePickFile();
  const submit = async (text = draft) => {
    const parsed = parseModelPath(text, label);
    if (!parsed.ok) return setError(parsed.error);
    setError(null);
    if (parsed.value === value) return;
    committing(parsed.value ?? '');
    if (!(await save(parsed.value))) setError(`${label}: not saved`);
  };
  return (
    <div className="field">
      <label htmlFor={id}>
        {label} <span className="muted">· {hint}</span>
      </label>
      <div className="path-row">
        <input
          id={id}
          value={draft}
          title={draft}
          spellCheck={false}
          placeholder="/path/to/model (empty = none)"
          aria-invalid={error !== null}
          onChange={(e) => {
            setDraft(e.target.value);
            const p = parseModelPath(e.target.value, label);
            setError(p.ok ? null : p.error);
          }}
          onBlur={() => void submit()}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void submit();
          }}
        />
        <button
          type="button"
          className="small"
          aria-label={`Browse for the ${label}`}
          onClick={() =>
            void pick('model', 'open', draft || undefined, `Choose the ${label}`).then(
              (p) => {
                if (!p) return;
                setDraft(p);
                void submit(p);
              },
              (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
            )
          }
        >
          Browse…
        </button>
      </div>
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

function Loras({ saved, save }: { saved: ReturnType<typeof readModelSettings>['loras']; save(v: unknown): Promise<boolean> }) {
  const savedKey = JSON.stringify(saved);
  const { draft: drafts, setDraft: setDrafts, committing } = useSyncedDraft<LoraDraft[]>(savedKey, (k) => lorasToDrafts(JSON.parse(k) as typeof saved));
  const [touched, setTouched] = useState<boolean[]>([]);
  const [failed, setFailed] = useState(false);
  const pick = usePickFile();
  const check = checkLoras(drafts);

  const commit = async (next: LoraDraft[]) => {
    const c = checkLoras(next);
    if (c.value === null || JSON.stringify(c.value) === savedKey) return;
    committing(JSON.stringify(c.value));
    setFailed(!(await save(c.value)));
  };

  return (
    <div className="field loras" data-testid="loras">
      <label>
        LoRAs <span className="muted">· weight {LORA_WEIGHT.min}–{LORA_WEIGHT.max}</span>
      </label>
      {drafts.length === 0 && <p className="muted small">None.</p>}
      {drafts.map((d, i) => {
        const n = i + 1;
        const err = touched[i] ? check.errors[i] : null;
        const blur = () => {
          setTouched((t) => {
            const next = [...t];
            next[i] = true;
            return next;
          });
          void commit(drafts);
        };
        return (
          <div key={i} className="lora-row">
            <input
              aria-label={`LoRA ${n} path`}
              value={d.path}
              title={d.path}
              spellCheck={false}
              placeholder="/path/to/lora.safetensors"
              aria-invalid={err != null}
              onChange={(e) => setDrafts(updateLoraDraft(drafts, i, { path: e.target.value }))}
              onBlur={blur}
            />
            <button
              className="small"
              aria-label={`Browse for LoRA ${n}`}
              title="Browse for a .safetensors LoRA"
              onClick={() =>
                void pick('model', 'open', d.path || undefined, `Choose LoRA ${n}`).then(
                  (p) => {
                    if (!p) return;
                    const next = updateLoraDraft(drafts, i, { path: p });
                    setDrafts(next);
                    setTouched((t) => {
                      const marked = [...t];
                      marked[i] = true;
                      return marked;
                    });
                    void commit(next);
                  },
                  () => setFailed(true),
                )
              }
            >
              …
            </button>
            <input
              className="lora-weight"
              aria-label={`LoRA ${n} weight`}
              value={d.weight}
              inputMode="decimal"
              aria-invalid={err != null}
              onChange={(e) => setDrafts(updateLoraDraft(drafts, i, { weight: e.target.value }))}
              onBlur={blur}
            />
            <button
              className="small danger"
              aria-label={`Remove LoRA ${n}`}
              title="Remove this LoRA"
              onClick={() => {
                const next = removeLoraDraft(drafts, i);
                setDrafts(next);
                setTouched((t) => t.filter((_, j) => j !== i));
                void commit(next);
              }}
            >
              ×
            </button>
            {err && <p className="field-error lora-error">{err}</p>}
          </div>
        );
      })}
      <div className="button-row">
        <button className="small" onClick={() => setDrafts(addLoraDraft(drafts))}>
          + Add LoRA
        </button>
        {check.value === null && drafts.length > 0 && <span className="muted small">Not saved until every row is valid.</span>}
        {failed && <span className="field-error">LoRAs: not saved</span>}
      </div>
    </div>
  );
}

function Canny({ low, high, scale, save }: { low: number; high: number; scale: number; save(v: unknown): Promise<boolean> }) {
  const key = (l: number, h: number, s: number) => JSON.stringify([l, h, s]);
  const { draft, setDraft, committing } = useSyncedDraft<CannyDraft>(key(low, high, scale), (k) => {
    const [l, h, s] = JSON.parse(k) as number[];
    return { lowThreshold: String(l), highThreshold: String(h), scale: String(s) };
  });
  const [failed, setFailed] = useState(false);
  const check = checkCanny(draft);
  const submit = async () => {
    if (!check.value) return;
    const v = check.value;
    if (v.lowThreshold === low && v.highThreshold === high && v.scale === scale) return;
    committing(key(v.lowThreshold, v.highThreshold, v.scale));
    setFailed(!(await save(v)));
  };
  const input = (key: keyof CannyDraft, id: string, label: string, range: string) => (
    <div className="field">
      <label htmlFor={id}>
        {label} <span className="muted">({range})</span>
      </label>
      <input
        id={id}
        value={draft[key]}
        inputMode={key === 'scale' ? 'decimal' : 'numeric'}
        aria-invalid={check.errors[key] !== undefined}
        onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
        onBlur={() => void submit()}
        onKeyDown={(e) => {
          if (e.key === 'Enter') void submit();
        }}
      />
      {check.errors[key] && <p className="field-error">{check.errors[key]}</p>}
    </div>
  );
  return (
    <div className="canny" data-testid="canny-settings">
      <div className="canny-grid">
        {input('lowThreshold', 'canny-low', 'Canny low', `${CANNY_THRESHOLD.min}–${CANNY_THRESHOLD.max}`)}
        {input('highThreshold', 'canny-high', 'Canny high', `${CANNY_THRESHOLD.min}–${CANNY_THRESHOLD.max}`)}
        {input('scale', 'controlnet-scale', 'ControlNet scale', `${CONTROLNET_SCALE.min}–${CONTROLNET_SCALE.max}`)}
      </div>
      {failed && <p className="field-error">Edge settings: not saved</p>}
    </div>
  );
}

function PrecisionField({ value, save }: { value: Precision; save(v: Precision): Promise<boolean> }) {
  // A draft, so the menu shows the choice at once rather than snapping back until the save's echo.
  const { draft, setDraft, committing } = useSyncedDraft<string>(value, (k) => k);
  const [failed, setFailed] = useState(false);
  return (
    <div className="field">
      <label htmlFor="model-precision">
        Precision <span className="muted">· speed and GPU memory; translated key frames stay up to date</span>
      </label>
      <select
        id="model-precision"
        value={draft}
        onChange={(e) => {
          const v = e.target.value;
          if (!isPrecisionChoice(v)) return;
          setDraft(v);
          if (v === value) return;
          committing(v);
          void save(v).then((ok) => setFailed(!ok));
        }}
      >
        {PRECISION_CHOICES.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
      {failed && <p className="field-error">Precision: not saved</p>}
    </div>
  );
}

export function ModelSettings({ project, capabilities, save }: ModelSettingsProps) {
  const m = readModelSettings(project.settings);
  const reason = engineReason(capabilities);
  return (
    <section className="model-settings" data-testid="model-settings">
      <h3>Models</h3>
      <PathField
        id="model-checkpoint"
        label="Checkpoint"
        hint="Stable Diffusion 1.5: .safetensors or a diffusers folder"
        value={m.model}
        save={(v) => save({ model: v })}
      />
      <PathField id="model-controlnet" label="ControlNet" hint="Canny ControlNet: .safetensors or a diffusers folder" value={m.controlnetModel} save={(v) => save({ controlnetModel: v })} />
      <Canny low={m.lowThreshold} high={m.highThreshold} scale={m.scale} save={(v) => save({ controlnet: v })} />
      <Loras saved={m.loras} save={(v) => save({ loras: v })} />
      <PrecisionField value={m.precision} save={(v) => save({ precision: v })} />
      {reason === null ? (
        <p className="engine-ok small" data-testid="translate-status">
          ✓ Translation engine ready
        </p>
      ) : (
        <div className="reason" data-testid="translate-status">
          {reason}
        </div>
      )}
    </section>
  );
}
