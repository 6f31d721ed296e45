// The farm dialog's and workers list's logic, kept out of the components so it can be tested
// alone: the stages' plain names, the request the form makes, and how a worker reads.
import type { FarmSettingsInfo, FarmStage, FarmWorkerInfo, RequestArgs } from '../../src-main/api/contract.ts';
import { FARM_STAGES } from '../../src-main/farm/stages.ts';

export { FARM_STAGES };

export const STAGE_LABELS: Record<FarmStage, { label: string; hint: string }> = {
  translate: { label: 'Translate key frames', hint: 'Stable Diffusion on the farm’s GPUs' },
  propagate: { label: 'Propagate', hint: 'spread the key frames to every frame' },
  export: { label: 'Export video', hint: 'an MP4 at the source size, once every frame is in' },
};

export interface FarmForm {
  stages: FarmStage[];
  redis: string;
  store: string;
  /** The export's video; empty: beside the project. */
  exportPath: string;
}

/** The form as the dialog opens: what the project still needs (Propagate when it needs nothing), and the remembered connection. */
export function initialForm(s: FarmSettingsInfo | null): FarmForm {
  const stages = s && s.needed.length > 0 ? s.needed : (['propagate'] as FarmStage[]);
  return { stages: [...stages], redis: s?.redis ?? '', store: s?.store ?? '', exportPath: '' };
}

/** Ticks or unticks a stage, keeping run order. */
export function toggleStage(stages: readonly FarmStage[], stage: FarmStage, on: boolean): FarmStage[] {
  return FARM_STAGES.filter((s) => (s === stage ? on : stages.includes(s)));
}

/**
 * The Redis URL to send: null means "the remembered one" (the field still shows its redacted
 * form, so the password never travels back from the UI, nor needs to).
 */
export function redisToSend(field: string, remembered: string | null): string | null {
  const v = field.trim();
  return v === '' || v === remembered ? null : v;
}

/** The submit request, or the one-line reason it cannot be sent yet. */
export function farmRequest(form: FarmForm, remembered: string | null): { request: RequestArgs<'farmSubmit'>[0] } | { problem: string } {
  if (form.stages.length === 0) return { problem: 'Tick at least one step to run on the farm.' };
  const redisUrl = redisToSend(form.redis, remembered);
  if (redisUrl === null && remembered === null) return { problem: "Enter the farm's address (redis://host:6379)." };
  if (redisUrl !== null && !/^rediss?:\/\/[^\s]+$/i.test(redisUrl)) return { problem: 'The farm’s address starts with redis:// or rediss:// (secure).' };
  const store = form.store.trim();
  if (store === '') return { problem: 'Choose the shared folder the farm uses for its files.' };
  if (!/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(store)) return { problem: 'The shared folder must be a full path (starting with / or a drive letter).' };
  const exportPath = form.stages.includes('export') ? form.exportPath.trim() : '';
  if (exportPath !== '' && !/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(exportPath)) return { problem: 'The video must be a full path (starting with / or a drive letter).' };
  if (exportPath !== '' && !/\.mp4$/i.test(exportPath)) return { problem: 'The video is an MP4: end its name with .mp4.' };
  return { request: { stages: form.stages, redisUrl, store, ...(exportPath ? { exportPath } : {}) } };
}

/** "just now", "3 s ago", "2 min ago", "1 h ago". */
export function heartbeatText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 1) return 'just now';
  if (seconds < 60) return `${Math.floor(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

/** What a worker is doing, in a few words: "idle", or "clip: frames 0-4" (several joined). */
export function currentText(w: Pick<FarmWorkerInfo, 'current' | 'alive'>): string {
  if (!w.alive) return '—';
  if (w.current.length === 0) return 'idle';
  return w.current.map((c) => `${c.project}: frames ${c.frames}`).join(' · ');
}

/** Alive first, then by name: the list keeps its order between refreshes. */
export function sortWorkers(list: readonly FarmWorkerInfo[]): FarmWorkerInfo[] {
  return [...list].sort((a, b) => Number(b.alive) - Number(a.alive) || a.name.localeCompare(b.name));
}
