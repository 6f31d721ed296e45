// A folder listing on the services' machine, for the editor's file picker. Browser mode may run
// on a remote GPU box whose files the browser cannot see, so picking happens here, not in the
// browser. Hidden entries are skipped, folders always listed, files kept when they match.
import { access, readdir, stat } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import path from 'node:path';
import { FILE_FILTER_EXTENSIONS, nameMatchesFilter, type DirectoryEntry, type DirectoryListing, type FileFilter } from './contract.ts';
import { CodedError } from '../errors.ts';

export type FileBrowserErrorCode = 'NOT_FOUND' | 'ACCESS_DENIED' | 'NOT_A_DIRECTORY' | 'INVALID_ARGUMENT';
export class FileBrowserError extends CodedError<FileBrowserErrorCode> {}

/** Extensions (lower case, no dot) each filter accepts; kept in the contract, which the renderer shares. */
export const FILTER_EXTENSIONS = FILE_FILTER_EXTENSIONS;

/** A listing stops here; a folder of more is shown truncated (the picker is for people, not for bulk). */
export const MAX_ENTRIES = 5000;

export const fileMatches = nameMatchesFilter;

async function exists(p: string): Promise<boolean> {
  return access(p, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/** A diffusers pipeline (model_index.json or unet/) or a single component (config.json + diffusion_pytorch_model.*). */
export async function looksLikeDiffusersFolder(dir: string): Promise<boolean> {
  if ((await exists(path.join(dir, 'model_index.json'))) || (await exists(path.join(dir, 'unet')))) return true;
  if (!(await exists(path.join(dir, 'config.json')))) return false;
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.some((n) => n.startsWith('diffusion_pytorch_model.'));
}

export interface RootOptions {
  home: string;
  dataDir: string;
  platform?: NodeJS.Platform;
}

/** Home, the data folder, and on Linux `/`, `/media`, `/mnt` where present (deduplicated, in that order). */
export async function listRoots(opts: RootOptions): Promise<string[]> {
  const candidates = [opts.home, opts.dataDir];
  if ((opts.platform ?? process.platform) === 'linux') candidates.push('/', '/media', '/mnt');
  const out: string[] = [];
  for (const c of candidates) {
    const p = path.resolve(c);
    if (out.includes(p)) continue;
    const s = await stat(p).catch(() => null);
    if (s?.isDirectory()) out.push(p);
  }
  return out;
}

/** The typed error for a failed stat/readdir of `dir`. */
export function fsError(err: unknown, dir: string): FileBrowserError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new FileBrowserError('NOT_FOUND', `The folder '${dir}' does not exist.`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new FileBrowserError('ACCESS_DENIED', `No permission to read '${dir}'.`, { cause: err });
  if (code === 'ENOTDIR') return new FileBrowserError('NOT_A_DIRECTORY', `'${dir}' is a file, not a folder.`, { cause: err });
  return new FileBrowserError('ACCESS_DENIED', `Cannot read '${dir}': ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export type ListOptions = RootOptions;

/** Lists `dir` (absolute) for `filter`: folders first, then files, each by name (numbers in order). */
export async function listDirectory(dir: string, filter: FileFilter, opts: ListOptions): Promise<DirectoryListing> {
  if (!path.isAbsolute(dir)) throw new FileBrowserError('INVALID_ARGUMENT', `'${dir}' is not an absolute path.`);
  const full = path.resolve(dir);
  let info: Stats;
  try {
    info = await stat(full);
  } catch (err) {
    throw fsError(err, full);
  }
  if (!info.isDirectory()) throw new FileBrowserError('NOT_A_DIRECTORY', `'${full}' is a file, not a folder.`);
  let names: string[];
  try {
    names = await readdir(full);
  } catch (err) {
    throw fsError(err, full);
  }
  const visible = names.filter((n) => !n.startsWith('.'));
  const entries: DirectoryEntry[] = [];
  // Stat in small batches: a big folder must not open thousands of handles at once.
  const BATCH = 64;
  let next = 0;
  for (; next < visible.length && entries.length < MAX_ENTRIES; next += BATCH) {
    const i = next;
    const batch = visible.slice(i, i + BATCH);
    const found = await Promise.all(
      batch.map(async (name): Promise<DirectoryEntry | null> => {
        const p = path.join(full, name);
        // stat (not lstat): a link to a folder is browsed like a folder; a broken link is skipped.
        const s = await stat(p).catch(() => null);
        if (!s) return null;
        if (s.isDirectory()) {
          const matches = filter === 'model' ? await looksLikeDiffusersFolder(p) : false;
          return { name, path: p, kind: 'dir', size: null, modifiedAt: s.mtime.toISOString(), matches };
        }
        if (!s.isFile() || !fileMatches(name, filter)) return null;
        return { name, path: p, kind: 'file', size: s.size, modifiedAt: s.mtime.toISOString(), matches: true };
      }),
    );
    for (const e of found) if (e) entries.push(e);
  }
  const truncated = entries.length > MAX_ENTRIES || (entries.length === MAX_ENTRIES && next < visible.length);
  entries.length = Math.min(entries.length, MAX_ENTRIES);
  entries.sort((a, b) => (a.kind === b.kind ? collator.compare(a.name, b.name) : a.kind === 'dir' ? -1 : 1));
  const parent = path.dirname(full);
  return { path: full, parent: parent === full ? null : parent, entries, roots: await listRoots(opts), truncated };
}

/**
 * Where a listing without a path starts: the last folder used if it still exists, else the
 * folder of the most recent project, else home.
 */
export async function startFolder(candidates: ReadonlyArray<string | null | undefined>, home: string): Promise<string> {
  for (const c of candidates) {
    if (!c || !path.isAbsolute(c)) continue;
    const s = await stat(c).catch(() => null);
    if (s?.isDirectory()) return path.resolve(c);
  }
  return home;
}
