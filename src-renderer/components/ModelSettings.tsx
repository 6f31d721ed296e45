// Parameters → Models: the Stable Diffusion checkpoint, the ControlNet with its control type and
// Canny edge settings, more ControlNets (path, type, scale), LoRAs with weights, and the float precision the engine computes in. Each is checked
// here before it is saved through updateSettings; whether the files make a working engine is the
// services' answer (capabilities().translate), shown at the bottom and re-checked after every change.
import { useState } from 'react';
import type { Capabilities, ProjectSummary } from '../../src-main/api/contract.ts';
import {
  CANNY_THRESHOLD,
  CONTROL_KIND_CHOICES,
  CONTROLNET_SCALE,
  LORA_WEIGHT,
  MAX_EXTRA_CONTROLNETS,
  PRECISION_CHOICES,
  artistReason,
  checkCanny,
  checkControlnets,
  checkLoras,
  controlnetsToDrafts,
  isControlKind,
  isPrecisionChoice,
  lorasToDrafts,
  parseModelPath,
  readModelSettings,
  type CannyDraft,
  type ControlKind,
  type ControlnetDraft,
  type ExtraControlnetSetting,
  type LoraSetting,
  type LoraDraft,
  type Precision,
} from '../lib/model-settings.ts';
import { engineReason } from '../lib/translate.ts';
import { usePickFile } from './FilePicker.tsx';
import { ModelRows } from './ModelRows.tsx';
import { Message } from './Reason.tsx';
import { useSyncedDraft } from './synced-draft.ts';

export interface ModelSettingsProps {
  project: ProjectSummary;
  capabilities: Capabilities | null;
  /** Saves a settings patch; resolves false when the services refused it (they say why). */
  save(patch: Record<string, unknown>): Promise<boolean>;
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
      <label htmlFor={id}>{label}</label>
      <div className="path-row">
        <input
          id={id}
          value={draft}
          title={draft}
          aria-describedby={`${id}-help`}
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
      <p className="field-help" id={`${id}-help`}>
        {hint}
      </p>
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

function Loras({ saved, save }: { saved: ReturnType<typeof readModelSettings>['loras']; save(v: unknown): Promise<boolean> }) {
  return (
    <ModelRows<LoraDraft, LoraSetting>
      testId="loras"
      label={<>LoRAs <span className="muted">· weight {LORA_WEIGHT.min}–{LORA_WEIGHT.max}</span></>}
      help="Style add-ons trained for a look or a character; the weight sets how strongly (1 = as trained)."

      noun="LoRA"
      firstNumber={1}
      placeholder="/path/to/lora.safetensors"
      browseTitle="Browse for a .safetensors LoRA"
      numberField="weight"
      savedKey={JSON.stringify(saved)}
      toDrafts={(k) => lorasToDrafts(JSON.parse(k) as typeof saved)}
      blank={{ path: '', weight: '1' }}
      check={checkLoras}
      save={save}
    />
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
  const input = (key: keyof CannyDraft, id: string, label: string, range: string, help: string) => (
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
      <p className="field-help">{help}</p>
      {check.errors[key] && <p className="field-error">{check.errors[key]}</p>}
    </div>
  );
  return (
    <div className="canny" data-testid="canny-settings">
      <div className="canny-grid">
        {input('lowThreshold', 'canny-low', 'Edges: low threshold', `${CANNY_THRESHOLD.min}–${CANNY_THRESHOLD.max}`, 'Lower finds fainter edges.')}
        {input('highThreshold', 'canny-high', 'Edges: high threshold', `${CANNY_THRESHOLD.min}–${CANNY_THRESHOLD.max}`, 'Lower keeps more edges strong.')}
        {input('scale', 'controlnet-scale', 'Follow the edges', `${CONTROLNET_SCALE.min}–${CONTROLNET_SCALE.max}`, 'How closely key frames keep the video’s shapes (ControlNet scale).')}
      </div>
      {failed && <p className="field-error">Edge settings: not saved</p>}
    </div>
  );
}

/**
 * A menu saved as soon as it changes. A draft, so the menu shows the choice at once rather than
 * snapping back until the save's echo.
 */
function ChoiceField<V extends string>({ id, label, hint, what, value, choices, isChoice, save }: {
  id: string;
  label: string;
  hint: string;
  /** How "not saved" names it. */
  what: string;
  value: V;
  choices: readonly { value: V; label: string }[];
  isChoice(v: unknown): v is V;
  save(v: V): Promise<boolean>;
}) {
  const { draft, setDraft, committing } = useSyncedDraft<string>(value, (k) => k);
  const [failed, setFailed] = useState(false);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={draft}
        aria-describedby={`${id}-help`}
        onChange={(e) => {
          const v = e.target.value;
          if (!isChoice(v)) return;
          setDraft(v);
          if (v === value) return;
          committing(v);
          void save(v).then((ok) => setFailed(!ok));
        }}
      >
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
      <p className="field-help" id={`${id}-help`}>
        {hint}
      </p>
      {failed && <p className="field-error">{what}: not saved</p>}
    </div>
  );
}

function KindField({ value, save }: { value: ControlKind; save(v: ControlKind): Promise<boolean> }) {
  return <ChoiceField id="controlnet-kind" label="Control type" hint="Which picture of each key frame guides the ControlNet: edges, depth or the frame itself." what="Control type" value={value} choices={CONTROL_KIND_CHOICES} isChoice={isControlKind} save={save} />;
}

/** The 2nd, 3rd… ControlNets: rows of path, control type and scale, saved when every row is valid. */
function ExtraControlnets({ saved, first, save }: { saved: ReturnType<typeof readModelSettings>['extraControlnets']; first: string | null; save(v: unknown): Promise<boolean> }) {
  return (
    <ModelRows<ControlnetDraft, ExtraControlnetSetting>
      testId="extra-controlnets"
      label={<>More ControlNets <span className="muted">· scale {CONTROLNET_SCALE.min}–{CONTROLNET_SCALE.max}</span></>}
      help="More guides for the key frames (e.g. depth as well as edges); their effects add up."

      noun="ControlNet"
      firstNumber={2}
      placeholder="/path/to/controlnet"
      browseTitle="Browse for a ControlNet"
      numberField="scale"
      savedKey={JSON.stringify(saved)}
      toDrafts={(k) => controlnetsToDrafts(JSON.parse(k) as typeof saved)}
      blank={{ path: '', kind: 'canny', scale: '1' }}
      maxRows={MAX_EXTRA_CONTROLNETS}
      check={(drafts) => checkControlnets(drafts, first)}
      extra={(d, set, n) => (
        <select
          aria-label={`ControlNet ${n} control type`}
          value={d.kind}
          onChange={(e) => {
            const v = e.target.value;
            if (isControlKind(v)) set({ kind: v });
          }}
        >
          {CONTROL_KIND_CHOICES.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
      )}
      save={save}
    />
  );
}

function PrecisionField({ value, save }: { value: Precision; save(v: Precision): Promise<boolean> }) {
  return <ChoiceField id="model-precision" label="Precision" hint="Speed and GPU memory; it does not change the look, so translated key frames stay up to date." what="Precision" value={value} choices={PRECISION_CHOICES} isChoice={isPrecisionChoice} save={save} />;
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
        hint="The Stable Diffusion 1.5 model that paints the key frames: a .safetensors file or a diffusers folder."
        value={m.model}
        save={(v) => save({ model: v })}
      />
      <PathField id="model-controlnet" label="ControlNet" hint="Keeps key frames to the video’s shapes; of the control type below (.safetensors or a diffusers folder)." value={m.controlnetModel} save={(v) => save({ controlnetModel: v })} />
      <KindField value={m.kind} save={(v) => save({ controlnet: { kind: v } })} />
      <Canny low={m.lowThreshold} high={m.highThreshold} scale={m.scale} save={(v) => save({ controlnet: v })} />
      <ExtraControlnets saved={m.extraControlnets} first={m.controlnetModel} save={(v) => save({ extraControlnets: v })} />
      <Loras saved={m.loras} save={(v) => save({ loras: v })} />
      <PrecisionField value={m.precision} save={(v) => save({ precision: v })} />
      {reason === null ? (
        <p className="engine-ok small" data-testid="translate-status">
          ✓ Translation engine ready
        </p>
      ) : (
        // One short line; the services' whole message (paths, commands, links) behind "details".
        <Message message={artistReason(reason)} testId="translate-status" />
      )}
    </section>
  );
}
