// Plain-language names of edit steps ("Change steps 20 → 30"), shown in the undo history. Pure: the
// services and the tests both use it.

/** The settings leaves (dot paths) whose values differ; arrays count as one leaf. */
export function changedLeaves(before: unknown, after: unknown, at = ''): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((k) => changedLeaves(before[k], after[k], at === '' ? k : `${at}.${k}`));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [at];
}

/** "negativePrompt" → "negative prompt", "extraPass3x3" → "extra pass 3x3". */
export function humanize(key: string): string {
  return key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([a-z]{2})(\d)/g, '$1 $2')
    .toLowerCase();
}

function leafName(path: string): string {
  const parts = path.split('.');
  const last = parts[parts.length - 1] ?? path;
  // "seed" alone is ambiguous: the propagation has its own.
  return parts.length > 1 && (last === 'seed' || last === 'enabled' || last === 'scale') ? humanize(`${parts[parts.length - 2]} ${last}`) : humanize(last);
}

/** A value short and plain enough to name in a label; never free text such as a prompt. */
function shown(v: unknown, leaf: string): string | null {
  if (v === null) return 'none';
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') return String(Number.isInteger(v) ? v : Number(v.toPrecision(4)));
  if (typeof v === 'string' && !/prompt/i.test(leaf) && /^[\w.-]{1,16}$/.test(v)) return v;
  return null;
}

function get(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const p of path.split('.')) v = isObject(v) ? v[p] : undefined;
  return v;
}

/** "Change steps 20 → 30", "Change prompt", "Change steps and seed", "Change 4 settings". */
export function settingsChangeLabel(before: unknown, after: unknown): string {
  const leaves = changedLeaves(before, after);
  if (leaves.length === 0) return 'Change settings';
  if (leaves.length === 1) {
    const leaf = leaves[0]!;
    const a = shown(get(before, leaf), leaf);
    const b = shown(get(after, leaf), leaf);
    return a !== null && b !== null ? `Change ${leafName(leaf)} ${a} → ${b}` : `Change ${leafName(leaf)}`;
  }
  if (leaves.length === 2) return `Change ${leafName(leaves[0]!)} and ${leafName(leaves[1]!)}`;
  return `Change ${leaves.length} settings`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
