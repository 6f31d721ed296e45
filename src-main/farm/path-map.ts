// Per-machine path mapping, as Flamenco does it: the submitter names its shared folder as it sees
// it (/mnt/farm/store), and each worker maps that prefix to its own mount (/Volumes/farm/store).
// After mapping, a worker accepts only paths under the roots it was configured with.
import path from 'node:path';
import { FarmError } from './errors.ts';

export interface PathMapping {
  from: string;
  to: string;
}

/** `--map FROM=TO`; both sides absolute. */
export function parsePathMapping(text: string): PathMapping {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new FarmError('INVALID_ARGUMENT', `--map needs FROM=TO (two absolute folders), got '${text}'`);
  const from = text.slice(0, eq);
  const to = text.slice(eq + 1);
  // Windows-style FROM paths are allowed: a submitter may see the share as a drive letter.
  const absolute = (p: string) => path.posix.isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
  if (!absolute(from) || !absolute(to)) throw new FarmError('INVALID_ARGUMENT', `--map needs absolute folders on both sides, got '${text}'`);
  return { from: trimSep(from), to: trimSep(to) };
}

function trimSep(p: string): string {
  return p.length > 1 ? p.replace(/[\\/]+$/, '') : p;
}

/** `p` with the longest matching `from` prefix replaced by its `to`; unchanged when none matches. */
export function mapPath(p: string, mappings: readonly PathMapping[]): string {
  let best: PathMapping | null = null;
  for (const m of mappings) {
    const hit = p === m.from || p.startsWith(m.from + '/') || p.startsWith(m.from + '\\');
    if (hit && (!best || m.from.length > best.from.length)) best = m;
  }
  if (!best) return p;
  return best.to + p.slice(best.from.length).replace(/\\/g, '/');
}

/** True when `p` (resolved) is `root` or inside it. */
export function isUnder(p: string, root: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The mapped path, or PATH_REFUSED when it lies outside every root. */
export function acceptPath(p: string, mappings: readonly PathMapping[], roots: readonly string[]): string {
  const mapped = mapPath(p, mappings);
  if (!path.isAbsolute(mapped)) throw new FarmError('PATH_REFUSED', `the job names a relative artifact store path '${p}': refused`);
  const local = path.resolve(mapped);
  if (!roots.some((r) => isUnder(local, r))) {
    throw new FarmError('PATH_REFUSED', `the job's artifact store ${p}${mapped !== p ? ` (mapped to ${mapped})` : ''} is outside this worker's store roots (${roots.join(', ')}); add a --map FROM=TO for it`);
  }
  return local;
}
