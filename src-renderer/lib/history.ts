// Undo/redo history of immutable snapshots, bounded.
export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  limit: number;
}

export function createHistory<T>(present: T, limit = 50): History<T> {
  return { past: [], present, future: [], limit: Math.max(1, limit) };
}

/** Records a new present; clears the redo branch; drops the oldest entries past the limit. */
export function pushHistory<T>(h: History<T>, next: T): History<T> {
  const past = [...h.past, h.present];
  while (past.length > h.limit) past.shift();
  return { ...h, past, present: next, future: [] };
}

export function undo<T>(h: History<T>): History<T> {
  const prev = h.past.at(-1);
  if (prev === undefined) return h;
  return { ...h, past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future] };
}

export function redo<T>(h: History<T>): History<T> {
  const next = h.future[0];
  if (next === undefined) return h;
  return { ...h, past: [...h.past, h.present], present: next, future: h.future.slice(1) };
}

export const canUndo = <T>(h: History<T>): boolean => h.past.length > 0;
export const canRedo = <T>(h: History<T>): boolean => h.future.length > 0;
