// Finds the source video again after it moved: same size and same content hash, looked for next to
// the project and in the folders the caller suggests. Size filters cheaply; only same-size files are
// hashed, since hashing a video is the expensive part.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface StoredSourceFile {
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

export type HashFile = (filePath: string) => Promise<string>;

export type SourceLocation =
  | { found: 'unchanged'; path: string }
  | { found: 'at'; path: string; mtimeMs: number }
  | { found: 'nowhere' };

export async function locateSource(
  stored: StoredSourceFile,
  searchDirs: readonly string[],
  hashFile: HashFile,
): Promise<SourceLocation> {
  const here = await statFile(stored.path);
  if (here && here.size === stored.size && here.mtimeMs === stored.mtimeMs) {
    return { found: 'unchanged', path: stored.path };
  }

  // The stored path first (touched or copied back in place), then files with the same name, then the rest.
  const candidates: string[] = [];
  if (here && here.size === stored.size) candidates.push(path.resolve(stored.path));
  const wanted = path.basename(stored.path);
  const seenDirs = new Set<string>();
  const others: string[] = [];
  for (const dir of searchDirs) {
    const abs = path.resolve(dir);
    if (seenDirs.has(abs)) continue;
    seenDirs.add(abs);
    for (const file of await sameSizeFiles(abs, stored.size)) {
      if (candidates.includes(file) || others.includes(file)) continue;
      if (path.basename(file) === wanted) candidates.push(file);
      else others.push(file);
    }
  }

  const expected = stored.sha256.toLowerCase();
  for (const file of [...candidates, ...others]) {
    const hash = (await hashFile(file)).toLowerCase();
    if (hash !== expected) continue;
    const now = await statFile(file);
    if (now) return { found: 'at', path: file, mtimeMs: now.mtimeMs };
  }
  return { found: 'nowhere' };
}

async function statFile(p: string): Promise<{ size: number; mtimeMs: number } | null> {
  try {
    const s = await stat(p);
    return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : null;
  } catch {
    return null;
  }
}

/** Regular files directly in `dir` with exactly `size` bytes; an unreadable folder has none. */
async function sameSizeFiles(dir: string, size: number): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    const s = await statFile(file);
    if (s && s.size === size) out.push(file);
  }
  return out;
}
