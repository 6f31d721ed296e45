// Renders the project's settings object generically: a field per leaf, grouped by nested
// object, with number rules for the fields we know (the services validate again on write).

export type FieldKind = 'text' | 'textarea' | 'number' | 'integer' | 'boolean' | 'range-pair' | 'nullable-text' | 'json';

export interface FieldSpec {
  path: string[];
  key: string;
  label: string;
  kind: FieldKind;
  min?: number;
  max?: number;
  /** True when the value may be null (e.g. "auto"). */
  nullable?: boolean;
  hint?: string;
}

export interface GroupSpec {
  path: string[];
  label: string;
  fields: FieldSpec[];
  groups: GroupSpec[];
}

interface Rule {
  min?: number;
  max?: number;
  integer?: boolean;
  hint?: string;
  textarea?: boolean;
  nullable?: boolean;
}

const U32 = 0xffffffff;
/** Keyed by dotted path, then by leaf name. */
const RULES: Record<string, Rule> = {
  prompt: { textarea: true },
  negativePrompt: { textarea: true },
  seed: { min: 0, max: U32, integer: true },
  steps: { min: 1, max: 150, integer: true, hint: 'denoising steps' },
  guidance: { min: 0, max: 30, hint: 'classifier-free guidance scale' },
  strength: { min: 0.01, max: 1, hint: 'how far the first key frame is re-noised' },
  'controlnet.lowThreshold': { min: 0, max: 255, integer: true },
  'controlnet.highThreshold': { min: 0, max: 255, integer: true },
  'controlnet.scale': { min: 0, max: 2 },
  'crossFrame.styleUpdateFreq': { min: 1, max: 100, integer: true },
  'crossFrame.maskStrength': { min: 0, max: 1 },
  'crossFrame.innerStrength': { min: 0, max: 1 },
  'propagation.patchSize': { min: 3, max: 15, integer: true, hint: 'odd' },
  'propagation.pyramidLevels': { min: 1, max: 16, integer: true, nullable: true, hint: 'empty = automatic' },
  'propagation.searchVoteIters': { min: 1, max: 100, integer: true },
  'propagation.patchMatchIters': { min: 1, max: 100, integer: true },
  'propagation.uniformity': { min: 0, max: 1e6 },
  'propagation.stopThreshold': { min: 0, max: 1e6 },
  'propagation.seed': { min: 0, max: U32, integer: true },
  'propagation.threads': { min: 0, max: 256, integer: true, hint: '0 = one per core' },
  'export.crf': { min: 0, max: 51, integer: true },
  weight: { min: -4, max: 4 },
};

const INTEGER_NAMES = new Set(['seed', 'steps', 'threads', 'patchSize', 'iterations', 'count', 'frames']);

/** "negativePrompt" → "Negative prompt". */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function ruleFor(path: string[]): Rule {
  return RULES[path.join('.')] ?? RULES[path.at(-1) ?? ''] ?? {};
}

function fieldFor(path: string[], value: unknown): FieldSpec {
  const key = path.at(-1) ?? '';
  const rule = ruleFor(path);
  const base = { path, key, label: humanize(key), hint: rule.hint };
  const withRange = { ...(rule.min !== undefined ? { min: rule.min } : {}), ...(rule.max !== undefined ? { max: rule.max } : {}) };
  if (typeof value === 'boolean') return { ...base, kind: 'boolean' };
  if (typeof value === 'number' || (value === null && (rule.integer !== undefined || rule.min !== undefined))) {
    const integer = rule.integer ?? (INTEGER_NAMES.has(key) || false);
    return { ...base, ...withRange, kind: integer ? 'integer' : 'number', nullable: value === null || rule.nullable === true };
  }
  if (typeof value === 'string') return { ...base, kind: rule.textarea ? 'textarea' : 'text' };
  if (value === null) return { ...base, kind: 'nullable-text', nullable: true };
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) {
    return { ...base, kind: 'range-pair', min: rule.min ?? 0, max: rule.max ?? 1 };
  }
  return { ...base, kind: 'json' };
}

/** `omit`: top-level keys another panel section edits (they are left out here). */
export function describeSettings(settings: Record<string, unknown>, path: string[] = [], label = 'Settings', omit: readonly string[] = []): GroupSpec {
  const group: GroupSpec = { path, label, fields: [], groups: [] };
  for (const [key, value] of Object.entries(settings)) {
    if (path.length === 0 && omit.includes(key)) continue;
    const p = [...path, key];
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      group.groups.push(describeSettings(value as Record<string, unknown>, p, humanize(key)));
    } else {
      group.fields.push(fieldFor(p, value));
    }
  }
  return group;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validates a typed number against the field's rules. Empty input is null when the field allows it. */
export function parseNumberField(text: string, field: Pick<FieldSpec, 'kind' | 'min' | 'max' | 'nullable' | 'label'>): Parsed<number | null> {
  const t = text.trim();
  if (t === '') return field.nullable ? { ok: true, value: null } : { ok: false, error: `${field.label} needs a number` };
  const n = Number(t);
  if (!Number.isFinite(n)) return { ok: false, error: `${field.label}: "${t}" is not a number` };
  if (field.kind === 'integer' && !Number.isInteger(n)) return { ok: false, error: `${field.label} must be a whole number` };
  if (field.min !== undefined && n < field.min) return { ok: false, error: `${field.label} must be at least ${field.min}` };
  if (field.max !== undefined && n > field.max) return { ok: false, error: `${field.label} must be at most ${field.max}` };
  return { ok: true, value: n };
}

/** A partial settings update touching one leaf: { a: { b: value } }. */
export function patchFor(path: readonly string[], value: unknown): Record<string, unknown> {
  let patch: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) patch = { [path[i]!]: patch };
  return patch as Record<string, unknown>;
}

export function valueAt(settings: Record<string, unknown>, path: readonly string[]): unknown {
  let v: unknown = settings;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}
