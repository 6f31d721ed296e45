// The model part of the settings (checkpoint, ControlNet, LoRAs, Canny edge detection): read from
// the project's settings, edited as text drafts, and checked before anything is sent. Whether a
// path really holds a usable model only the services can tell: they answer through
// capabilities().translate, shown next to these fields.
import type { Precision } from '../../src-main/engine/runtime/precision.ts';
import type { ControlKind } from '../../src-main/project/settings.ts';
import { parseNumberField, type Parsed } from './settings-fields.ts';

export type { ControlKind, Precision };

export interface LoraSetting {
  path: string;
  weight: number;
}

/** A 2nd, 3rd… ControlNet (settings.extraControlnets). */
export interface ExtraControlnetSetting {
  path: string;
  kind: ControlKind;
  scale: number;
}

export interface ModelSettings {
  model: string | null;
  controlnetModel: string | null;
  /** The control type of controlnetModel: which map of each key frame it gets. */
  kind: ControlKind;
  extraControlnets: ExtraControlnetSetting[];
  loras: LoraSetting[];
  lowThreshold: number;
  highThreshold: number;
  scale: number;
  precision: Precision;
}

/** A LoRA row as typed: the weight stays text until it parses. */
export interface LoraDraft {
  path: string;
  weight: string;
}

/** The setting keys this module owns; the generic parameter list leaves them out. */
export const MODEL_SETTING_KEYS = ['model', 'controlnetModel', 'extraControlnets', 'loras', 'controlnet', 'precision'] as const;

/**
 * The precision choices in the words an artist reads, in menu order. A Record keyed by Precision,
 * so a choice the services add cannot be left without a label.
 */
const PRECISION_LABELS: Record<Precision, string> = {
  auto: 'Automatic (half precision where the GPU supports it)',
  fp16: 'Half precision (fp16: faster, less GPU memory)',
  fp32: 'Full precision (fp32: slower, most exact)',
};
export const PRECISION_CHOICES = (Object.keys(PRECISION_LABELS) as Precision[]).map((value) => ({ value, label: PRECISION_LABELS[value] }));

export function isPrecisionChoice(v: unknown): v is Precision {
  return typeof v === 'string' && Object.hasOwn(PRECISION_LABELS, v);
}

/** The control types in the words an artist reads; keyed by ControlKind so none is left unlabelled. */
const CONTROL_KIND_LABELS: Record<ControlKind, string> = {
  canny: 'Canny edges',
  hed: 'HED soft edges',
  softedge: 'Soft edges (HED)',
  depth: 'Depth',
  raw: 'The frame itself (e.g. tile)',
};
export const CONTROL_KIND_CHOICES = (Object.keys(CONTROL_KIND_LABELS) as ControlKind[]).map((value) => ({ value, label: CONTROL_KIND_LABELS[value] }));

export function isControlKind(v: unknown): v is ControlKind {
  return typeof v === 'string' && Object.hasOwn(CONTROL_KIND_LABELS, v);
}

/** ControlNets besides the first (the services' MAX_EXTRA_CONTROLNETS). */
export const MAX_EXTRA_CONTROLNETS = 3;

export const LORA_WEIGHT = { min: -4, max: 4 } as const;
export const CANNY_THRESHOLD = { min: 0, max: 255 } as const;
export const CONTROLNET_SCALE = { min: 0, max: 2 } as const;

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** The model settings out of the project's (untyped) settings; defaults match the services'. */
export function readModelSettings(settings: Record<string, unknown>): ModelSettings {
  const cn = (typeof settings.controlnet === 'object' && settings.controlnet !== null ? settings.controlnet : {}) as Record<string, unknown>;
  const loras = Array.isArray(settings.loras)
    ? settings.loras.flatMap((l: unknown) => {
        if (typeof l !== 'object' || l === null) return [];
        const r = l as Record<string, unknown>;
        const path = str(r.path);
        return path === null ? [] : [{ path, weight: num(r.weight, 1) }];
      })
    : [];
  const extraControlnets = Array.isArray(settings.extraControlnets)
    ? settings.extraControlnets.flatMap((c: unknown) => {
        if (typeof c !== 'object' || c === null) return [];
        const r = c as Record<string, unknown>;
        const path = str(r.path);
        return path === null ? [] : [{ path, kind: isControlKind(r.kind) ? r.kind : 'canny', scale: num(r.scale, 1) }];
      })
    : [];
  return {
    model: str(settings.model),
    controlnetModel: str(settings.controlnetModel),
    // Projects from before the choice existed have Canny, as before.
    kind: isControlKind(cn.kind) ? cn.kind : 'canny',
    extraControlnets,
    loras,
    lowThreshold: num(cn.lowThreshold, 50),
    highThreshold: num(cn.highThreshold, 100),
    scale: num(cn.scale, 0.7),
    // Projects from before the choice existed have none: the services' default.
    precision: isPrecisionChoice(settings.precision) ? settings.precision : 'auto',
  };
}

const ABSOLUTE = /^(\/|[A-Za-z]:[\\/]|\\\\)/;

/**
 * A model path as typed: empty means "none chosen" (null). The services resolve paths on their
 * own machine (browser mode may run on a remote box), so only an absolute path is meaningful.
 */
export function parseModelPath(text: string, label: string, required = false, kind: 'model' | 'lora' = 'model'): Parsed<string | null> {
  const t = text.trim();
  if (t === '') return required ? { ok: false, error: `${label} needs a path` } : { ok: true, value: null };
  if (/[\r\n\0]/.test(t)) return { ok: false, error: `${label}: a path cannot contain line breaks` };
  if (!ABSOLUTE.test(t)) return { ok: false, error: `${label}: give the full path (starting with / or a drive letter), as seen by the services` };
  const ext = /\.[^./\\]+$/.exec(t)?.[0].toLowerCase() ?? '';
  // PyTorch checkpoints are read by the services' own pickle reader, which runs nothing.
  if (kind === 'lora' && !WEIGHT_EXTENSIONS.has(ext)) return { ok: false, error: `${label}: a LoRA is a .safetensors (or PyTorch .pt/.pth/.ckpt/.bin) file` };
  return { ok: true, value: t };
}

const WEIGHT_EXTENSIONS = new Set(['.safetensors', '.ckpt', '.pt', '.pth', '.bin']);

export function lorasToDrafts(loras: readonly LoraSetting[]): LoraDraft[] {
  return loras.map((l) => ({ path: l.path, weight: String(l.weight) }));
}

export interface LoraCheck {
  /** The LoRA list to save, when every row is valid. */
  value: LoraSetting[] | null;
  /** One message per row (null when the row is fine). */
  errors: Array<string | null>;
}

/** Checks every LoRA row; the list is saved only when all of them are valid. */
export function checkLoras(drafts: readonly LoraDraft[]): LoraCheck {
  const value: LoraSetting[] = [];
  const errors = drafts.map((d, i) => {
    const label = `LoRA ${i + 1}`;
    const path = parseModelPath(d.path, label, true, 'lora');
    if (!path.ok) return path.error;
    const weight = parseNumberField(d.weight, { kind: 'number', label: `${label} weight`, ...LORA_WEIGHT });
    if (!weight.ok) return weight.error;
    if (weight.value === null) return `${label} weight needs a number`;
    if (drafts.findIndex((o) => o.path.trim() === path.value) !== i) return `${label}: this file is already in the list`;
    value.push({ path: path.value!, weight: weight.value });
    return null;
  });
  return { value: errors.every((e) => e === null) ? value : null, errors };
}

export interface CannyDraft {
  lowThreshold: string;
  highThreshold: string;
  scale: string;
}

export interface CannyCheck {
  value: { lowThreshold: number; highThreshold: number; scale: number } | null;
  errors: Partial<Record<keyof CannyDraft, string>>;
}

/** Canny thresholds (whole numbers 0–255, low ≤ high) and the ControlNet scale (0–2). */
export function checkCanny(d: CannyDraft): CannyCheck {
  const low = parseNumberField(d.lowThreshold, { kind: 'integer', label: 'Low threshold', ...CANNY_THRESHOLD });
  const high = parseNumberField(d.highThreshold, { kind: 'integer', label: 'High threshold', ...CANNY_THRESHOLD });
  const scale = parseNumberField(d.scale, { kind: 'number', label: 'ControlNet scale', ...CONTROLNET_SCALE });
  const errors: CannyCheck['errors'] = {};
  if (!low.ok) errors.lowThreshold = low.error;
  if (!high.ok) errors.highThreshold = high.error;
  if (!scale.ok) errors.scale = scale.error;
  if (low.ok && high.ok && low.value !== null && high.value !== null && low.value > high.value) {
    errors.lowThreshold = 'Low threshold must not exceed the high threshold';
  }
  if (Object.keys(errors).length > 0 || !low.ok || !high.ok || !scale.ok || low.value === null || high.value === null || scale.value === null) {
    return { value: null, errors };
  }
  return { value: { lowThreshold: low.value, highThreshold: high.value, scale: scale.value }, errors };
}

/** An extra ControlNet row as typed: the scale stays text until it parses. */
export interface ControlnetDraft {
  path: string;
  kind: ControlKind;
  scale: string;
}

export function controlnetsToDrafts(list: readonly ExtraControlnetSetting[]): ControlnetDraft[] {
  return list.map((c) => ({ path: c.path, kind: c.kind, scale: String(c.scale) }));
}

export interface ControlnetCheck {
  /** The list to save, when every row is valid. */
  value: ExtraControlnetSetting[] | null;
  /** One message per row (null when the row is fine). */
  errors: Array<string | null>;
}

/**
 * Checks every extra ControlNet row (numbered from 2: the first is the ControlNet field): a full
 * path, a known control type, a scale 0–2, no file twice (nor the first ControlNet again).
 */
export function checkControlnets(drafts: readonly ControlnetDraft[], first: string | null = null): ControlnetCheck {
  const value: ExtraControlnetSetting[] = [];
  const errors = drafts.map((d, i) => {
    const label = `ControlNet ${i + 2}`;
    const path = parseModelPath(d.path, label, true);
    if (!path.ok) return path.error;
    if (!isControlKind(d.kind)) return `${label}: choose its control type`;
    const scale = parseNumberField(d.scale, { kind: 'number', label: `${label} scale`, ...CONTROLNET_SCALE });
    if (!scale.ok) return scale.error;
    if (scale.value === null) return `${label} scale needs a number`;
    if (path.value === first || drafts.findIndex((o) => o.path.trim() === path.value) !== i) return `${label}: this ControlNet is already in use`;
    value.push({ path: path.value!, kind: d.kind, scale: scale.value });
    return null;
  });
  if (drafts.length > MAX_EXTRA_CONTROLNETS) errors.push(`At most ${MAX_EXTRA_CONTROLNETS} more ControlNets`);
  return { value: errors.every((e) => e === null) ? value : null, errors };
}

/** A message as the artist reads it: one short line, and the full technical text behind "details". */
export interface ArtistReason {
  line: string;
  /** The services' whole message (paths, commands, download links); null when the line says it all. */
  details: string | null;
}

/** What a model problem is about, from the label the services give it (see studio/models.ts). */
function modelThing(label: string): string {
  if (/^Stable Diffusion/i.test(label)) return 'Stable Diffusion model';
  const extra = /^ControlNet (\d+)/.exec(label);
  if (extra) return `ControlNet ${extra[1]} model`;
  if (/ControlNet$/i.test(label)) return 'ControlNet model';
  if (/^LoRA/i.test(label)) return 'LoRA';
  return label;
}

/** One model problem line ("<label>: <what>") in plain words. */
function problemLine(problem: string): string {
  const colon = problem.indexOf(': ');
  if (colon === -1) return problem;
  const thing = modelThing(problem.slice(0, colon));
  const what = problem.slice(colon + 2);
  if (/^not set\b/.test(what)) return `Choose the ${thing}`;
  if (/does not exist$/.test(what)) return `The ${thing} file is missing`;
  if (/ holds no weights/.test(what)) return `The ${thing} folder has no weights in it`;
  if (/ holds /.test(what)) return `The ${thing} file is the wrong kind of model`;
  if (/is not a weights file/.test(what)) return `The ${thing} file is not a model`;
  if (/could not be read/.test(what)) return `The ${thing} file could not be read`;
  return `${thing.charAt(0).toUpperCase()}${thing.slice(1)}: ${what}`;
}

/**
 * The services' reasons quote paths, hub URLs and CLI commands: the artist gets one short line
 * ("The ControlNet model is missing") and the whole message under "details".
 */
export function artistReason(text: string): ArtistReason {
  const t = text.trim();
  const problems = t.split('\n').filter((l) => /^\s+- /.test(l)).map((l) => l.replace(/^\s+- /, ''));
  if (problems.length > 0) {
    const lines = problems.map(problemLine);
    // Nothing chosen yet (a new project): name everything to choose in one line.
    if (lines.length > 1 && lines.length <= 3 && lines.every((l) => l.startsWith('Choose the '))) {
      return { line: `Choose the ${lines.map((l) => l.slice('Choose the '.length)).join(' and the ')}.`, details: t };
    }
    const first = lines[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    return { line: `${first}${more}.`, details: t };
  }
  if (/native addon is not built/i.test(t)) return { line: 'The video engine is not installed in this build.', details: t };
  const firstLine = t.split('\n')[0]!;
  // A first sentence that names the problem, before any "how to fix it".
  const sentence = /^(.{8,120}?[.:])(\s|$)/.exec(firstLine)?.[1];
  const line = (sentence ?? firstLine).replace(/:$/, '.');
  return { line, details: line === t ? null : t };
}
