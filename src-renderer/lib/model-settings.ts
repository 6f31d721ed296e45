// The model part of the settings (checkpoint, ControlNet, LoRAs, Canny edge detection): read from
// the project's settings, edited as text drafts, and checked before anything is sent. Whether a
// path really holds a usable model only the services can tell: they answer through
// capabilities().translate, shown next to these fields.
import type { Precision } from '../../src-main/engine/runtime/precision.ts';
import { parseNumberField, type Parsed } from './settings-fields.ts';

export type { Precision };

export interface LoraSetting {
  path: string;
  weight: number;
}

export interface ModelSettings {
  model: string | null;
  controlnetModel: string | null;
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
export const MODEL_SETTING_KEYS = ['model', 'controlnetModel', 'loras', 'controlnet', 'precision'] as const;

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
  return {
    model: str(settings.model),
    controlnetModel: str(settings.controlnetModel),
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
  // Loading a pickle can run code; the services refuse them, so say so before saving.
  if (PICKLES.has(ext)) return { ok: false, error: `${label}: ${ext} files are PyTorch pickles, which are refused; convert to .safetensors` };
  if (kind === 'lora' && ext !== '.safetensors') return { ok: false, error: `${label}: a LoRA is a .safetensors file` };
  return { ok: true, value: t };
}

const PICKLES = new Set(['.ckpt', '.pt', '.pth', '.bin', '.pkl']);

export function lorasToDrafts(loras: readonly LoraSetting[]): LoraDraft[] {
  return loras.map((l) => ({ path: l.path, weight: String(l.weight) }));
}

export function addLoraDraft(drafts: readonly LoraDraft[]): LoraDraft[] {
  return [...drafts, { path: '', weight: '1' }];
}

export function removeLoraDraft(drafts: readonly LoraDraft[], index: number): LoraDraft[] {
  return drafts.filter((_, i) => i !== index);
}

export function updateLoraDraft(drafts: readonly LoraDraft[], index: number, change: Partial<LoraDraft>): LoraDraft[] {
  return drafts.map((d, i) => (i === index ? { ...d, ...change } : d));
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
