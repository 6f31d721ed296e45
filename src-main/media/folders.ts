// Making the folders an output goes into (mkdir -p), one level at a time. Not `mkdir(dir,
// { recursive: true })`: Node's recursive mkdir spins forever on a worker thread where mkdir answers
// ENOENT although the parent exists (/proc, some FUSE and network mounts), so a folder typed there
// hung the command or the editor. A level that cannot be made is OUTPUT_UNWRITABLE, in plain words.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { CodedError } from '../errors.ts';

export class FolderError extends CodedError<'OUTPUT_UNWRITABLE'> {
  /** The system's error code (EACCES, EROFS, ENOTDIR…). */
  readonly errno: string | undefined;
  readonly folder: string;
  constructor(folder: string, errno: string | undefined) {
    super('OUTPUT_UNWRITABLE', `The folder '${folder}' cannot be created (${folderProblem(errno)}).`);
    this.errno = errno;
    this.folder = folder;
  }
}

/** Why a folder or file cannot be written, in a few words. */
export function folderProblem(errno: string | undefined): string {
  return errno === 'EACCES' || errno === 'EPERM' ? 'no permission' : errno === 'EROFS' ? 'the disk is read-only'
    : errno === 'ENOSPC' ? 'the disk is full' : errno === 'ENOTDIR' ? 'a file is in the way'
    : errno === 'ENOENT' ? 'the system does not allow folders there' : errno ?? 'unknown error';
}

/** The folders from `dir` up to its nearest existing ancestor (which must be a folder), nearest first. */
export async function missingFolders(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let cur = path.resolve(dir); ; cur = path.dirname(cur)) {
    let info;
    try {
      info = await stat(cur);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new FolderError(dir, code);
    }
    if (info) {
      if (!info.isDirectory()) throw new FolderError(dir, 'ENOTDIR');
      return missing;
    }
    missing.push(cur);
    if (path.dirname(cur) === cur) return missing;
  }
}

/** `dir` and any missing parents; a folder made meanwhile by another process is fine. */
export async function makeFolders(dir: string): Promise<void> {
  const missing = await missingFolders(dir);
  for (const folder of missing.reverse()) {
    await mkdir(folder).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST' && (await stat(folder).then((i) => i.isDirectory(), () => false))) return;
      throw new FolderError(dir, err.code);
    });
  }
}
