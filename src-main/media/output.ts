// Safe output files: check the folder before any work, write to a hidden temp file beside the
// target, rename into place only on success. A failed or cancelled export leaves nothing behind.
import { open, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { MediaError, fileLabel } from './errors.ts';

export interface PendingOutput {
  /** Final path. */
  out: string;
  /** Where the writer writes; created empty by `prepareOutput`. */
  temp: string;
  /** Renames temp → out (replacing an existing file). */
  commit(): Promise<void>;
  /** Removes the temp file; safe to call more than once. */
  discard(): Promise<void>;
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

export async function prepareOutput(outPath: string): Promise<PendingOutput> {
  const out = path.resolve(outPath);
  const dir = path.dirname(out);
  let dirInfo;
  try {
    dirInfo = await stat(dir);
  } catch (cause) {
    throw new MediaError('OUTPUT_UNWRITABLE', `The folder ${dir} does not exist. Choose an existing folder for ${fileLabel(out)}.`, { cause });
  }
  if (!dirInfo.isDirectory()) throw new MediaError('OUTPUT_UNWRITABLE', `${dir} is not a folder; cannot write ${fileLabel(out)} there.`);
  const existing = await stat(out).catch(() => null);
  if (existing?.isDirectory()) throw new MediaError('OUTPUT_UNWRITABLE', `${out} is a folder; choose a file name for the export.`);

  const ext = path.extname(out);
  const temp = path.join(dir, `.${path.basename(out, ext)}.${randomBytes(4).toString('hex')}.partial${ext}`);
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
        await rename(temp, out);
      } catch (err) {
        await discard();
        throw fsError(err, out, 'save');
      }
    },
  };
}
