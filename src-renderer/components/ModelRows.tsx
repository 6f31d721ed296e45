// A list of model rows (a path with Browse…, a number, maybe more fields, and ×) that is saved only
// when every row is valid: the LoRAs, and the ControlNets after the first. Each row's number is
// checked on blur; a chosen file or a changed field is saved at once.
import { useState, type ReactNode } from 'react';
import { usePickFile } from './FilePicker.tsx';
import { useSyncedDraft } from './synced-draft.ts';

export interface RowsCheck<V> {
  /** The list to save, when every row is valid. */
  value: V[] | null;
  /** One message per row (null when the row is fine); more may follow for the list as a whole. */
  errors: Array<string | null>;
}

export interface ModelRowsProps<D extends { path: string }, V> {
  testId: string;
  label: ReactNode;
  /** One plain line under the label: what these rows are for. */
  help?: string;
  /** 'LoRA', 'ControlNet': in every label, button and message. */
  noun: string;
  /** The number of the first row (the first ControlNet has its own field, so its rows start at 2). */
  firstNumber: number;
  placeholder: string;
  browseTitle: string;
  /** The draft row's number field ('weight', 'scale') and how its label reads. */
  numberField: { [K in keyof D]: D[K] extends string ? K : never }[keyof D] & string;
  /** The saved list as JSON (what the drafts follow) and the drafts it makes. */
  savedKey: string;
  toDrafts(savedKey: string): D[];
  blank: D;
  maxRows?: number;
  check(drafts: readonly D[]): RowsCheck<V>;
  /** Fields between Browse… and the number; `set` changes the row and saves. */
  extra?: (draft: D, set: (change: Partial<D>) => void, n: number) => ReactNode;
  save(value: V[]): Promise<boolean>;
}

export function ModelRows<D extends { path: string }, V>(p: ModelRowsProps<D, V>) {
  const { draft: drafts, setDraft: setDrafts, committing } = useSyncedDraft<D[]>(p.savedKey, p.toDrafts);
  const [touched, setTouched] = useState<boolean[]>([]);
  const [failed, setFailed] = useState(false);
  const pick = usePickFile();
  const check = p.check(drafts);
  const touch = (i: number) =>
    setTouched((t) => {
      const next = [...t];
      next[i] = true;
      return next;
    });
  const update = (list: readonly D[], i: number, change: Partial<D>): D[] => list.map((d, j) => (j === i ? { ...d, ...change } : d));

  const commit = async (next: D[]) => {
    const c = p.check(next);
    if (c.value === null || JSON.stringify(c.value) === p.savedKey) return;
    committing(JSON.stringify(c.value));
    setFailed(!(await p.save(c.value)));
  };
  const full = p.maxRows !== undefined && drafts.length >= p.maxRows;

  return (
    <div className="field loras" data-testid={p.testId}>
      <label>{p.label}</label>
      {p.help && <p className="field-help">{p.help}</p>}
      {drafts.length === 0 && <p className="muted small">None.</p>}
      {drafts.map((d, i) => {
        const n = i + p.firstNumber;
        const err = touched[i] ? check.errors[i] : null;
        const blur = () => {
          touch(i);
          void commit(drafts);
        };
        const set = (change: Partial<D>) => {
          const next = update(drafts, i, change);
          setDrafts(next);
          touch(i);
          void commit(next);
        };
        return (
          <div key={i} className="lora-row">
            <input
              aria-label={`${p.noun} ${n} path`}
              value={d.path}
              title={d.path}
              spellCheck={false}
              placeholder={p.placeholder}
              aria-invalid={err != null}
              onChange={(e) => setDrafts(update(drafts, i, { path: e.target.value } as Partial<D>))}
              onBlur={blur}
            />
            <button
              className="small"
              aria-label={`Browse for ${p.noun} ${n}`}
              title={p.browseTitle}
              onClick={() =>
                void pick('model', 'open', d.path || undefined, `Choose ${p.noun} ${n}`).then(
                  (chosen) => {
                    if (chosen) set({ path: chosen } as Partial<D>);
                  },
                  () => setFailed(true),
                )
              }
            >
              …
            </button>
            {p.extra?.(d, set, n)}
            <input
              className="lora-weight"
              aria-label={`${p.noun} ${n} ${p.numberField}`}
              value={d[p.numberField] as string}
              inputMode="decimal"
              aria-invalid={err != null}
              onChange={(e) => setDrafts(update(drafts, i, { [p.numberField]: e.target.value } as Partial<D>))}
              onBlur={blur}
            />
            <button
              className="small danger"
              aria-label={`Remove ${p.noun} ${n}`}
              title={`Remove this ${p.noun}`}
              onClick={() => {
                const next = drafts.filter((_, j) => j !== i);
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
        <button className="small" disabled={full} onClick={() => setDrafts([...drafts, { ...p.blank }])}>
          + Add {p.noun}
        </button>
        {check.value === null && drafts.length > 0 && <span className="muted small">Not saved until every row is valid.</span>}
        {failed && <span className="field-error">{p.noun}s: not saved</span>}
      </div>
    </div>
  );
}
