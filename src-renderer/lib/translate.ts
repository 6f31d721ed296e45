// When key-frame translation can start, and if not, why: the engine's own reason from
// capabilities() first, then what the project still lacks. Shown next to the Translate buttons.
import type { Capabilities, JobInfo, KeyframeInfo, KeyframeState, ProjectSummary } from '../../src-main/api/contract.ts';
import { isActive } from './jobs.ts';
import { readModelSettings } from './model-settings.ts';

export const CHECKING_ENGINE = 'Checking the engine…';
export const ENGINE_UNAVAILABLE = 'The translation engine is not available.';

/** The engine's answer alone: null when capabilities say translation can run. */
export function engineReason(capabilities: Capabilities | null): string | null {
  const t = capabilities?.translate;
  if (!t) return CHECKING_ENGINE;
  return t.available ? null : (t.message ?? ENGINE_UNAVAILABLE);
}

/**
 * Why translating `frames` (all key frames when omitted) cannot start now, or null when it can.
 * The engine's reason comes first, so the button shows exactly what capabilities() says.
 */
export function translateBlocker(
  capabilities: Capabilities | null,
  project: Pick<ProjectSummary, 'keyframes' | 'settings'>,
  jobs: readonly JobInfo[],
  frames?: readonly number[],
): string | null {
  const engine = engineReason(capabilities);
  if (engine !== null) return engine;
  const models = readModelSettings(project.settings);
  if (models.model === null) return 'Choose a Stable Diffusion checkpoint in Parameters → Models.';
  if (models.controlnetModel === null) return 'Choose a ControlNet model in Parameters → Models.';
  if (project.keyframes.length === 0) return 'Add a key frame first (K).';
  if (frames && frames.some((f) => !project.keyframes.some((k) => k.frame === f))) return 'Only key frames can be translated.';
  // The services keep artist-edited key frames (they anchor the others): nothing to do for them.
  const asked = frames ? project.keyframes.filter((k) => frames.includes(k.frame)) : project.keyframes;
  if (asked.every((k) => k.state === 'edited')) {
    return asked.length === 1
      ? 'This key frame holds an imported image, which translation keeps; clear the image to translate it.'
      : 'Every key frame holds an imported image, which translation keeps; clear one to translate it.';
  }
  if (jobs.some((j) => j.kind === 'translate' && isActive(j))) return 'A translation is already running.';
  return null;
}

/** A note for "Translate all" when some key frames are artist-edited (they are kept), else null. */
export function keptNote(keyframes: readonly KeyframeInfo[]): string | null {
  const n = keyframes.filter((k) => k.state === 'edited').length;
  if (n === 0 || n === keyframes.length) return null;
  return 'edited ones keep their imported image and guide the others';
}

/** How many key frames are in each state, for the summary next to "Translate all". */
export function countStates(keyframes: readonly KeyframeInfo[]): Record<KeyframeState, number> {
  const out: Record<KeyframeState, number> = { none: 0, edited: 0, translated: 0, stale: 0 };
  for (const k of keyframes) out[k.state]++;
  return out;
}

/** "2 translated · 1 stale · 1 empty" (states with no key frame left out). */
export function formatStateCounts(keyframes: readonly KeyframeInfo[]): string {
  const c = countStates(keyframes);
  const parts: string[] = [];
  if (c.translated) parts.push(`${c.translated} translated`);
  if (c.stale) parts.push(`${c.stale} stale`);
  if (c.edited) parts.push(`${c.edited} edited`);
  if (c.none) parts.push(`${c.none} empty`);
  return parts.join(' · ');
}
