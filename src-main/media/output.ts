// Safe output files: check the folder and what is already at the path before any work, write to a
// hidden temp file beside the target, rename into place only on success. A failed or cancelled
// export leaves nothing behind, and one that was killed is cleaned up by the next write.
import { open, readdir, realpath, rename, rm, stat, lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { CodedError } from '../errors.ts';
import { MediaError, fileLabel } from './errors.ts';

export interface PendingOutput {
  /** Final path (symbolic links resolved: the file they point at is the one replaced). */
  out: string;
  /** Where the writer writes; created empty by `prepareOutput`. */
  temp: string;
  /** Renames temp → out (replacing an existing file). */
  commit(): Promise<void>;
  /** Removes the temp file; safe to call more than once. */
  discard(): Promise<void>;
}

/**
 * What an existing file at the output path may be:
 * - 'never': nothing is replaced (the editor asks first, then retries with 'any');
 * - 'videos': an existing video is replaced, anything else is refused (the CLI's default);
 * - 'any': anything but a protected file is replaced (`--force`, or confirmed in the editor).
 */
export type ReplacePolicy = 'never' | 'videos' | 'any';

export interface OutputOptions {
  /** Default 'videos'. */
  replace?: ReplacePolicy;
  /** Files never replaced whatever the policy, e.g. the open project (it is being read). */
  protect?: readonly string[];
}

export type ExistingKind = 'video' | 'project' | 'database' | 'other';

/** OUTPUT_EXISTS, with what is there and whether a confirmation (or --force) would replace it. */
export class OutputExistsError extends CodedError<'OUTPUT_EXISTS'> {
  readonly path: string;
  readonly kind: ExistingKind | 'protected';
  /** False for a protected file: no confirmation replaces it. */
  readonly replaceable: boolean;
  /** The finding alone ("'a.txt' already exists and is not a video"), for callers that give their own advice. */
  readonly finding: string;

  constructor(file: string, kind: ExistingKind | 'protected', finding: string, advice: string) {
    super('OUTPUT_EXISTS', `${finding}; ${advice}`);
    this.path = file;
    this.kind = kind;
    this.replaceable = kind !== 'protected';
    this.finding = finding;
  }
}

function fsError(err: unknown, out: string, doing: string): MediaError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new MediaError('DISK_FULL', `There is no space left to ${doing} ${fileLabel(out)}. Free some disk space and try again.`, { cause: err });
  }
  return new MediaError(
    'OUTPUT_UNWRITABLE',
    `Cannot ${doing} ${fileLabel(out)} in ${path.dirname(out)} (${code ?? 'error'}). Choose a folder you can write to.`,
    { cause: err },
  );
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
/** ISO BMFF / QuickTime top-level boxes a video file starts with (size, then this type). */
const QUICKTIME_BOXES = new Set(['ftyp', 'moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);
const ASF_GUID = Buffer.from([0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11]);
const SNIFF_BYTES = 192;

/** What a file's first bytes say it is: an existing video is the one kind replaced unasked. */
export function sniffKind(head: Uint8Array, name: string): ExistingKind {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 16 && b.subarray(0, 16).equals(SQLITE_MAGIC)) return 'database';
  if (path.extname(name).toLowerCase() === '.rrproj') return 'project';
  const ascii = (start: number, end: number): string => b.subarray(start, end).toString('latin1');
  const isVideo =
    (b.length >= 8 && QUICKTIME_BOXES.has(ascii(4, 8))) || // MP4, MOV, M4V, 3GP
    (b.length >= 4 && b.readUInt32BE(0) === 0x1a45dfa3) || // Matroska, WebM (EBML)
    (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') ||
    (b.length >= 189 && b[0] === 0x47 && b[188] === 0x47) || // MPEG transport stream
    (b.length >= 4 && b.readUInt32BE(0) === 0x000001ba) || // MPEG program stream
    (b.length >= 4 && b.readUInt32BE(0) === 0x000001b3) || // MPEG-1/2 video
    (b.length >= 3 && ascii(0, 3) === 'FLV') ||
    (b.length >= 8 && b.subarray(0, 8).equals(ASF_GUID)); // WMV/ASF
  return isVideo ? 'video' : 'other';
}

async function readHead(file: string): Promise<Uint8Array> {
  try {
    const handle = await open(file, 'r');
    try {
      const buf = Buffer.alloc(SNIFF_BYTES);
      const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return new Uint8Array(0); // unreadable: it cannot be shown to be a video
  }
}

const KIND_WORDS: Record<ExistingKind, string> = {
  video: 'a video',
  project: 'a Rerender project',
  database: 'a database (perhaps a Rerender project)',
  other: 'not a video',
};

/** The path the write really replaces: a link's target, or the path itself when nothing (or a dangling link) is there. */
async function resolveTarget(out: string): Promise<string> {
  const link = await lstat(out).catch(() => null);
  if (!link?.isSymbolicLink()) return out;
  return realpath(out).catch(() => out);
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Checks what an output would replace and returns the path to write (links resolved). Throws
 * OUTPUT_EXISTS (an `OutputExistsError`) when the policy forbids replacing what is there, and
 * OUTPUT_UNWRITABLE for a folder, a device or a missing folder. Changes nothing on disk.
 */
export async function checkOutputTarget(outPath: string, options: OutputOptions = {}): Promise<string> {
  const out = await resolveTarget(path.resolve(outPath));
  const dir = path.dirname(out);
  let dirInfo;
  try {
    dirInfo = await stat(dir);
  } catch (cause) {
    throw new MediaError('OUTPUT_UNWRITABLE', `The folder ${dir} does not exist. Choose an existing folder for ${fileLabel(out)}.`, { cause });
  }
  if (!dirInfo.isDirectory()) throw new MediaError('OUTPUT_UNWRITABLE', `${dir} is not a folder; cannot write ${fileLabel(out)} there.`);
  const existing = await stat(out).catch(() => null);
  if (!existing) return out;
  if (existing.isDirectory()) throw new MediaError('OUTPUT_UNWRITABLE', `${out} is a folder; choose a file name for the export.`);
  if (!existing.isFile()) throw new MediaError('OUTPUT_UNWRITABLE', `${out} is not a regular file (a device or pipe); choose a file name for the export.`);

  // Same inode, not same spelling: catches links, hard links and "./x/../p.rrproj".
  for (const p of options.protect ?? []) {
    const info = await stat(p).catch(() => null);
    if (info && sameFile(info, existing)) {
      throw new OutputExistsError(out, 'protected', `${fileLabel(out)} is the open project (or one of its files)`, 'an export never replaces it. Choose another file name.');
    }
  }
  const policy = options.replace ?? 'videos';
  if (policy === 'any') return out;
  const kind = sniffKind(await readHead(out), out);
  if (policy === 'videos' && kind === 'video') return out;
  const what = kind === 'video' ? 'already exists' : `already exists and is ${KIND_WORDS[kind]}`;
  throw new OutputExistsError(out, kind, `${fileLabel(out)} ${what}`, 'it was not replaced. Choose another file name, or confirm replacing it.');
}

/** `.<name>.rr-<pid>-<hex>.partial<ext>`: the writer's PID says whether a leftover is still being written. */
function tempName(base: string, ext: string): string {
  return `.${base}.rr-${process.pid}-${randomBytes(4).toString('hex')}.partial${ext}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; only ESRCH says it is gone.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes temp files of `out` left by writers that no longer run (killed, crashed, power cut).
 * A PID reused since is taken as alive: the leftover then waits for a later export.
 */
export async function removeStaleTemps(out: string): Promise<string[]> {
  const ext = path.extname(out);
  const pattern = new RegExp(`^\\.${escapeRegExp(path.basename(out, ext))}\\.rr-(\\d+)-[0-9a-f]+\\.partial${escapeRegExp(ext)}$`);
  const removed: string[] = [];
  const names = await readdir(path.dirname(out)).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1] ?? NaN);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    const file = path.join(path.dirname(out), name);
    await rm(file, { force: true }).then(() => removed.push(file), () => undefined);
  }
  return removed;
}

export async function prepareOutput(outPath: string, options: OutputOptions = {}): Promise<PendingOutput> {
  const out = await checkOutputTarget(outPath, options);
  const dir = path.dirname(out);
  await removeStaleTemps(out);

  const ext = path.extname(out);
  const temp = path.join(dir, tempName(path.basename(out, ext), ext));
  try {
    // Really creating the file is the only honest writability check (read-only mounts, ACLs, root).
    const handle = await open(temp, 'wx');
    await handle.close();
  } catch (err) {
    throw fsError(err, out, 'write');
  }
  const discard = async (): Promise<void> => {
    await rm(temp, { force: true });
  };
  return {
    out,
    temp,
    discard,
    async commit() {
      try {
        // Checked again: a file may have appeared at the path while the export ran.
        await checkOutputTarget(out, options);
        await rename(temp, out);
      } catch (err) {
        await discard();
        throw err instanceof CodedError ? err : fsError(err, out, 'save');
      }
    },
  };
}
