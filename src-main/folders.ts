// Making the folders an output or a cache goes into (mkdir -p), one level at a time. Not
// `mkdir(dir, { recursive: true })` (nor mkdirSync's): Node's recursive mkdir spins forever where
// mkdir answers ENOENT although the parent exists (/proc, some FUSE and network mounts), so a folder
// typed there hung the command or the editor. A level that cannot be made is OUTPUT_UNWRITABLE, in plain words.
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CodedError } from './errors.ts';

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
export function missingFoldersSync(dir: string): string[] {
  const missing: string[] = [];
  for (let cur = path.resolve(dir); ; cur = path.dirname(cur)) {
    let info;
    try {
      info = statSync(cur);
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
export function makeFoldersSync(dir: string): void {
  for (const folder of missingFoldersSync(dir).reverse()) {
    try {
      mkdirSync(folder);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(folder, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw new FolderError(dir, code);
    }
  }
}

// The promise forms, for async callers: a few stat and mkdir calls, done in one go.
export const missingFolders = async (dir: string): Promise<string[]> => missingFoldersSync(dir);
export const makeFolders = async (dir: string): Promise<void> => makeFoldersSync(dir);
