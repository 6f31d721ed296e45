// The parameters as an artist reads them: a plain label, a one-line help, a section, a unit and
// an artist-sized slider range for every project setting, over the stored settings schema
// (src-main/project/settings.ts), which stays as it is. Hard limits repeat the schema's (the
// services validate again on write); sliders cover the useful part, the typed value can go further.
// A setting without an entry here still shows (under Advanced, named from its key), and the
// settings-fields spec fails, so a new setting cannot go unlabelled unnoticed.

export type FieldKind = 'text' | 'textarea' | 'number' | 'integer' | 'boolean' | 'range-pair' | 'choice' | 'seed' | 'nullable-text' | 'json';

export type SectionId = 'look' | 'keyframes' | 'consistency' | 'propagation' | 'advanced';

export interface Choice {
  value: string;
  label: string;
}

export interface FieldSpec {
  path: string[];
  key: string;
  label: string;
  /** One line under the control. */
  help?: string;
  kind: FieldKind;
  /** Hard limits, in shown units (see scale). */
  min?: number;
  max?: number;
  /** True when the value may be null (e.g. "auto"). */
  nullable?: boolean;
  /** Short extra note after the label (e.g. "empty = automatic"). */
  hint?: string;
  /** Shown after the value: '%', 'px', 'frames'… */
  unit?: string;
  /** Shown value = stored value × scale (fractions shown as %). */
  scale?: number;
  /** The slider's artist-sized range and step, in shown units. */
  slider?: { min: number; max: number; step: number };
  choices?: readonly Choice[];
}

export interface SectionSpec {
  id: SectionId;
  label: string;
  help: string;
  /** Unfolded at first. */
  open: boolean;
  fields: FieldSpec[];
}

/** A setting's words and ranges; `section: 'models'` ones are edited by ModelSettings. */
export interface FieldText {
  label: string;
  help: string;
  section: SectionId | 'models' | 'hidden';
  kind?: 'textarea' | 'seed' | 'integer';
  min?: number;
  max?: number;
  nullable?: boolean;
  hint?: string;
  unit?: string;
  scale?: number;
  slider?: { min: number; max: number; step: number };
  choices?: readonly Choice[];
}

export const SECTIONS: readonly Omit<SectionSpec, 'fields'>[] = [
  { id: 'look', label: 'Look', help: 'What the video should become.', open: true },
  { id: 'keyframes', label: 'Key frames', help: 'How each key frame is painted.', open: true },
  { id: 'consistency', label: 'Consistency', help: 'How closely later key frames follow the first one.', open: false },
  { id: 'propagation', label: 'Propagation', help: 'How the key frames are carried to every other frame.', open: false },
  { id: 'advanced', label: 'Advanced', help: 'Fine controls; the defaults suit most videos.', open: false },
];

const U32 = 0xffffffff;
const PCT = { unit: '%', scale: 100 } as const;
const OF_STEPS = { unit: '% of the steps', scale: 100, min: 0, max: 100 } as const;

/** In display order within each section. */
export const FIELD_TEXT: Readonly<Record<string, FieldText>> = {
  // Look
  prompt: { label: 'Prompt', help: 'Describe the look you want, e.g. "a watercolor painting".', section: 'look', kind: 'textarea' },
  negativePrompt: { label: 'Avoid', help: 'What the pictures should not have: blur, text, extra fingers…', section: 'look', kind: 'textarea' },
  strength: { label: 'How much it changes', help: 'Low keeps the source picture; 100% redraws it from its edges.', section: 'look', ...PCT, min: 1, max: 100, slider: { min: 10, max: 100, step: 5 } },
  guidance: { label: 'Follow the prompt', help: 'Higher sticks closer to the prompt; too high looks harsh. 7.5 suits most.', section: 'look', min: 0, max: 30, slider: { min: 1, max: 15, step: 0.5 } },
  seed: { label: 'Seed', help: 'The same seed gives the same result; roll the dice for another take.', section: 'look', kind: 'seed', min: 0, max: U32 },
  // Key frames
  steps: { label: 'Detail steps', help: 'More steps give finer key frames but take longer. 20 suits most.', section: 'keyframes', kind: 'integer', unit: 'steps', min: 1, max: 150, slider: { min: 5, max: 50, step: 1 } },
  'crossFrame.colorPreserve': { label: "Keep each frame's colours", help: 'Off: later key frames take on the colours of the first one.', section: 'keyframes' },
  'crossFrame.styleUpdateFreq': { label: 'Refresh the style every', help: 'How often the style reference moves on from the first key frame.', section: 'keyframes', kind: 'integer', unit: 'key frames', min: 1, max: 100, slider: { min: 1, max: 10, step: 1 } },
  'crossFrame.looseCrossFrame': { label: 'Looser style lock', help: 'Lets later key frames change shape more freely; they look a little less alike.', section: 'keyframes' },
  // Consistency
  'crossFrame.crossPeriod': { label: 'Borrow the first key frame’s style', help: 'During these steps each key frame takes its style from the first one.', section: 'consistency', ...OF_STEPS },
  'crossFrame.warpPeriod': { label: 'Follow its shapes', help: 'During these steps the first key frame’s shapes are carried along the motion.', section: 'consistency', ...OF_STEPS },
  'crossFrame.maskPeriod': { label: 'Follow its pixels', help: 'During these steps key frames are pulled toward the picture carried over.', section: 'consistency', ...OF_STEPS },
  'crossFrame.maskStrength': { label: 'Pixel pull', help: 'How hard that pull is: higher repeats the carried picture more exactly.', section: 'consistency', ...PCT, min: 0, max: 100, slider: { min: 0, max: 100, step: 5 } },
  'crossFrame.innerStrength': { label: 'Fresh detail when pulled', help: 'How much new detail the pulled areas keep.', section: 'consistency', ...PCT, min: 0, max: 100, slider: { min: 50, max: 100, step: 1 } },
  'crossFrame.adaPeriod': { label: 'Match its colours', help: 'During these steps colours are matched to the first key frame.', section: 'consistency', ...OF_STEPS },
  'crossFrame.freeu.enabled': { label: 'FreeU detail boost', help: 'Sharpens texture and detail (its strengths are under Advanced).', section: 'consistency' },
  // Propagation
  'propagation.patchSize': { label: 'Patch size', help: 'Size of the pieces copied from key frames: bigger keeps brush strokes, smaller follows detail.', section: 'propagation', kind: 'integer', unit: 'px', hint: 'odd', min: 3, max: 15, slider: { min: 3, max: 15, step: 2 } },
  'propagation.weights.style': { label: 'Key-frame look', help: 'How much each frame keeps to the painted key frame’s look.', section: 'propagation', min: 0, max: 100, slider: { min: 0, max: 10, step: 0.5 } },
  'propagation.weights.colour': { label: 'Video colours', help: 'How closely frames follow the video’s own colours.', section: 'propagation', min: 0, max: 100, slider: { min: 0, max: 20, step: 0.5 } },
  'propagation.weights.edge': { label: 'Video edges', help: 'How closely frames keep to the video’s edges.', section: 'propagation', min: 0, max: 100, slider: { min: 0, max: 5, step: 0.1 } },
  'propagation.weights.temporal': { label: 'Smoothness over time', help: 'How much each frame matches the one before: higher flickers less, may smear.', section: 'propagation', min: 0, max: 100, slider: { min: 0, max: 5, step: 0.1 } },
  'propagation.weights.positional': { label: 'Stay in place', help: 'How much pieces come from the same spot of the key frame.', section: 'propagation', min: 0, max: 100, slider: { min: 0, max: 10, step: 0.5 } },
  'propagation.deflicker': { label: 'Flicker reduction', help: 'Pulls each frame toward the previous one where the motion explains it.', section: 'propagation', ...PCT, min: 0, max: 99, slider: { min: 0, max: 95, step: 5 } },
  'propagation.uniformity': { label: 'Use the whole key frame', help: 'Higher spreads copies over the whole key frame instead of repeating its best pieces.', section: 'propagation', min: 0, max: 1e6, slider: { min: 0, max: 10000, step: 100 } },
  'propagation.searchVoteIters': { label: 'Refinement passes', help: 'More passes give cleaner frames but take longer.', section: 'propagation', kind: 'integer', unit: 'passes', min: 1, max: 100, slider: { min: 1, max: 40, step: 1 } },
  'propagation.flowMethod': {
    label: 'Motion tracking',
    help: 'How finely motion is followed between frames; finer is slower.',
    section: 'propagation',
    choices: [
      { value: 'dis-ultrafast', label: 'Fastest' },
      { value: 'dis-fast', label: 'Fast' },
      { value: 'dis-medium', label: 'Medium' },
      { value: 'dis-fine', label: 'Fine' },
      { value: 'farneback', label: 'Classic (Farnebäck)' },
    ],
  },
  'propagation.temporalInit': { label: 'Carry matches along', help: 'Start each frame from the last one’s matches: steadier and faster.', section: 'propagation' },
  // Advanced
  'propagation.extraPass3x3': { label: 'Final fine pass', help: 'One more pass with 3×3 px pieces for crisper detail; slower.', section: 'advanced' },
  'propagation.patchMatchIters': { label: 'Search rounds per pass', help: 'More rounds find better pieces; each one adds time.', section: 'advanced', kind: 'integer', min: 1, max: 100, slider: { min: 1, max: 6, step: 1 } },
  'propagation.pyramidLevels': { label: 'Detail levels', help: 'Coarse-to-fine levels of the search.', section: 'advanced', kind: 'integer', nullable: true, hint: 'empty = automatic', min: 1, max: 16 },
  'propagation.stopThreshold': { label: 'Skip settled pixels', help: 'Pixels that changed less than this (0–255) are not searched again; 0 searches all.', section: 'advanced', min: 0, max: 1e6, slider: { min: 0, max: 50, step: 1 } },
  'propagation.backend': {
    label: 'Runs on',
    help: 'Where propagation runs.',
    section: 'advanced',
    choices: [
      { value: 'auto', label: 'GPU when there is one' },
      { value: 'cpu', label: 'CPU only' },
      { value: 'webgpu', label: 'GPU (WebGPU)' },
    ],
  },
  'propagation.threads': { label: 'CPU threads', help: 'The result is the same whatever the count.', section: 'advanced', kind: 'integer', hint: '0 = every core', min: 0, max: 256 },
  'crossFrame.freeu.b1': { label: 'FreeU deep boost 1', help: 'Boost of the deepest features, first stage (1 = none).', section: 'advanced', min: 0, max: 3, slider: { min: 0.8, max: 1.6, step: 0.05 } },
  'crossFrame.freeu.b2': { label: 'FreeU deep boost 2', help: 'Boost of the deepest features, second stage (1 = none).', section: 'advanced', min: 0, max: 3, slider: { min: 0.8, max: 1.6, step: 0.05 } },
  'crossFrame.freeu.s1': { label: 'FreeU fine damping 1', help: 'Damping of fine details, first stage (1 = none).', section: 'advanced', min: 0, max: 3, slider: { min: 0, max: 1.2, step: 0.05 } },
  'crossFrame.freeu.s2': { label: 'FreeU fine damping 2', help: 'Damping of fine details, second stage (1 = none).', section: 'advanced', min: 0, max: 3, slider: { min: 0, max: 1.2, step: 0.05 } },
  'crossFrame.freeu.variant': {
    label: 'FreeU formula',
    help: 'Which published FreeU to use.',
    section: 'advanced',
    choices: [
      { value: 'diffusers', label: 'Diffusers' },
      { value: 'official', label: 'Rerender’s own' },
    ],
  },
  'export.crf': { label: 'Export quality', help: 'Lower is a better picture in a bigger file; 18 looks like the frames.', section: 'advanced', kind: 'integer', hint: 'CRF', min: 0, max: 51, slider: { min: 12, max: 32, step: 1 } },
  'export.audio': { label: 'Keep the sound', help: 'Copy the video’s sound into the export.', section: 'advanced' },
  // Shown by the one Seed (it follows `seed`; see withOneSeed in the project settings).
  'propagation.seed': { label: 'Propagation seed', help: 'Follows Seed.', section: 'hidden', kind: 'integer', min: 0, max: U32 },
  // Edited in Parameters → Models (ModelSettings); named here for change lists.
  model: { label: 'Checkpoint', help: 'The Stable Diffusion 1.5 model.', section: 'models' },
  controlnetModel: { label: 'ControlNet', help: 'The ControlNet model.', section: 'models' },
  'controlnet.kind': { label: 'Control type', help: 'The map of each key frame the ControlNet gets.', section: 'models' },
  'controlnet.lowThreshold': { label: 'Edge detail (low)', help: 'Canny low threshold.', section: 'models' },
  'controlnet.highThreshold': { label: 'Edge detail (high)', help: 'Canny high threshold.', section: 'models' },
  'controlnet.scale': { label: 'Follow the edges', help: 'ControlNet strength.', section: 'models' },
  extraControlnets: { label: 'More ControlNets', help: 'Their effects add up.', section: 'models' },
  loras: { label: 'LoRAs', help: 'Style add-ons with weights.', section: 'models' },
  precision: { label: 'Precision', help: 'Speed and GPU memory.', section: 'models' },
};

/** "negativePrompt" → "Negative prompt". */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Every leaf of a settings object as a path (arrays are leaves). */
export function leafPaths(o: Record<string, unknown>, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(o)) {
    const p = [...prefix, k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(...leafPaths(v as Record<string, unknown>, p));
    else out.push(p);
  }
  return out;
}

function kindOf(value: unknown, text: FieldText | undefined): FieldKind {
  if (text?.kind === 'seed' || text?.kind === 'textarea') return text.kind;
  if (text?.choices) return 'choice';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number' || (value === null && text?.min !== undefined)) return text?.kind === 'integer' ? 'integer' : 'number';
  if (typeof value === 'string') return 'text';
  if (value === null) return 'nullable-text';
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return 'range-pair';
  return 'json';
}

/** The field of `path` holding `value`. */
export function fieldFor(path: string[], value: unknown): FieldSpec {
  const key = path.at(-1) ?? '';
  const text = FIELD_TEXT[path.join('.')];
  const kind = kindOf(value, text);
  const spec: FieldSpec = { path, key, label: text?.label ?? humanize(key), kind };
  if (text?.help) spec.help = text.help;
  if (text?.hint) spec.hint = text.hint;
  if (text?.unit) spec.unit = text.unit;
  if (text?.scale) spec.scale = text.scale;
  if (text?.min !== undefined) spec.min = text.min;
  if (text?.max !== undefined) spec.max = text.max;
  if (text?.slider) spec.slider = text.slider;
  if (text?.choices) spec.choices = text.choices;
  if (kind === 'range-pair') {
    spec.min ??= 0;
    spec.max ??= 1;
  }
  if (value === null || text?.nullable) spec.nullable = true;
  return spec;
}

/**
 * The settings in sections, fields in FIELD_TEXT order. `omit`: top-level keys another part of
 * the panel edits. Unknown settings land under Advanced with a name made from their key.
 */
export function settingsSections(settings: Record<string, unknown>, omit: readonly string[] = []): SectionSpec[] {
  const sections = SECTIONS.map((s) => ({ ...s, fields: [] as FieldSpec[] }));
  const byId = new Map(sections.map((s) => [s.id, s]));
  const leaves = leafPaths(settings).filter((p) => !omit.includes(p[0]!));
  const dotted = new Set(leaves.map((p) => p.join('.')));
  for (const [key, text] of Object.entries(FIELD_TEXT)) {
    if (!dotted.has(key) || text.section === 'models' || text.section === 'hidden') continue;
    const path = key.split('.');
    byId.get(text.section)!.fields.push(fieldFor(path, valueAt(settings, path)));
  }
  for (const p of leaves) if (!Object.hasOwn(FIELD_TEXT, p.join('.'))) byId.get('advanced')!.fields.push(fieldFor(p, valueAt(settings, p)));
  return sections.filter((s) => s.fields.length > 0);
}

/** Stored value → the number shown (fractions as %), rounded off float noise. */
export function toShown(v: number, spec: Pick<FieldSpec, 'scale'>): number {
  return spec.scale ? Number((v * spec.scale).toPrecision(12)) : v;
}
export function fromShown(v: number, spec: Pick<FieldSpec, 'scale'>): number {
  return spec.scale ? Number((v / spec.scale).toPrecision(12)) : v;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validates a typed number (in shown units) against the field's rules. Empty input is null when the field allows it. */
export function parseNumberField(text: string, field: Pick<FieldSpec, 'kind' | 'min' | 'max' | 'nullable' | 'label' | 'unit'>): Parsed<number | null> {
  const t = text.trim().replace(/%$/, '').trim();
  if (t === '') return field.nullable ? { ok: true, value: null } : { ok: false, error: `${field.label} needs a number` };
  const n = Number(t);
  if (!Number.isFinite(n)) return { ok: false, error: `${field.label}: "${t}" is not a number` };
  if ((field.kind === 'integer' || field.kind === 'seed') && !Number.isInteger(n)) return { ok: false, error: `${field.label} must be a whole number` };
  const unit = field.unit === '%' ? '%' : '';
  if (field.min !== undefined && n < field.min) return { ok: false, error: `${field.label} must be at least ${field.min}${unit}` };
  if (field.max !== undefined && n > field.max) return { ok: false, error: `${field.label} must be at most ${field.max}${unit}` };
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

/** A value as the panel words it: "75%", "on", "Fine", "0–10% of the steps". */
export function formatValue(spec: FieldSpec, v: unknown): string {
  if (v === undefined) return '—';
  if (v === null) return 'automatic';
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (spec.choices && typeof v === 'string') return spec.choices.find((c) => c.value === v)?.label ?? v;
  if (typeof v === 'number') return `${toShown(v, spec)}${spec.unit === '%' ? '%' : spec.unit ? ` ${spec.unit}` : ''}`;
  if (spec.kind === 'range-pair' && Array.isArray(v)) {
    const [a, b] = v as number[];
    return `${toShown(a!, spec)}–${toShown(b!, spec)}${spec.unit ? `${spec.unit.startsWith('%') ? '' : ' '}${spec.unit}` : ''}`;
  }
  if (v === '') return '(empty)';
  if (typeof v === 'string') return v.length > 60 ? `“${v.slice(0, 57)}…”` : `“${v}”`;
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

export interface Change {
  path: string[];
  label: string;
  from: string;
  to: string;
}

/** What applying `patch` would change, one line per setting whose value differs. */
export function describeChanges(current: Record<string, unknown>, patch: Record<string, unknown>): Change[] {
  const out: Change[] = [];
  for (const p of leafPaths(patch)) {
    const to = valueAt(patch, p);
    const from = valueAt(current, p);
    if (to === undefined || JSON.stringify(to) === JSON.stringify(from)) continue;
    const spec = fieldFor(p, to);
    out.push({ path: p, label: spec.label, from: formatValue(spec, from), to: formatValue(spec, to) });
  }
  return out;
}
