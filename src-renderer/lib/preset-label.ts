// "Preset: X" / "Preset: X (modified)" above the parameters. The settings schema has no place for
// the preset's name (presets are starting points, not a mode), so the last one applied is kept in
// the browser's storage per project, with its values, and compared with the settings as they are.
import { PRESETS, matchesPreset } from '../../src-main/project/presets.ts';

export type PresetStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** The last preset or config file applied to a project. */
export interface AppliedPreset {
  name: string;
  settings: Record<string, unknown>;
}

const PREFIX = 'rerender.preset:';

export function loadApplied(storage: PresetStorage | null, projectPath: string): AppliedPreset | null {
  try {
    const raw = storage?.getItem(PREFIX + projectPath);
    if (!raw) return null;
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== 'object' || v === null) return null;
    const { name, settings } = v as Record<string, unknown>;
    return typeof name === 'string' && typeof settings === 'object' && settings !== null ? { name, settings: settings as Record<string, unknown> } : null;
  } catch {
    return null;
  }
}

/** A failing storage is ignored: the name is a convenience, the settings are the data. */
export function saveApplied(storage: PresetStorage | null, projectPath: string, applied: AppliedPreset): void {
  try {
    storage?.setItem(PREFIX + projectPath, JSON.stringify(applied));
  } catch {
    // nothing to do
  }
}

/** What the panel says about the settings' origin. */
export function presetLabel(settings: Record<string, unknown>, applied: AppliedPreset | null): string {
  if (applied) return matchesPreset(settings, applied) ? `Preset: ${applied.name}` : `Preset: ${applied.name} (modified)`;
  const same = PRESETS.find((p) => matchesPreset(settings, p));
  return same ? `Preset: ${same.name}` : 'Preset: none';
}
