// Output and cache folders made level by level: where Node's recursive mkdir spins forever (/proc), a clear
// OUTPUT_UNWRITABLE comes back at once; a file in the way is named; missing parents are made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeDir } from './helpers/clips.ts';
import { FolderError, makeFolders, makeFoldersSync } from '../src-main/folders.ts';
import { FolderArtifactStore } from '../src-main/farm/artifacts.ts';

const unwritable = (errno: string) => (e: unknown) => e instanceof FolderError && e.code === 'OUTPUT_UNWRITABLE' && e.errno === errno;

test('makeFolders: parents made, a file in the way named, /proc refused at once', { timeout: 10_000 }, async () => {
  const dir = await makeTempDir('rerender-folders-');
  try {
    await makeFolders(path.join(dir, 'a', 'b', 'c'));
    assert.ok(statSync(path.join(dir, 'a', 'b', 'c')).isDirectory());
    await makeFolders(path.join(dir, 'a', 'b', 'c')); // already there: fine
    writeFileSync(path.join(dir, 'file'), 'x');
    await assert.rejects(makeFolders(path.join(dir, 'file', 'sub')), unwritable('ENOTDIR'));
    if (process.platform === 'linux' && existsSync('/proc/self')) {
      await assert.rejects(makeFolders('/proc/rerender-x/y'), (e: unknown) => e instanceof FolderError && /\/proc\/rerender-x\/y/.test(e.message));
      // The synchronous form too (engine caches, the models folder): mkdirSync's recursive mode hangs the same way.
      assert.throws(() => makeFoldersSync('/proc/rerender-cache'), (e: unknown) => e instanceof FolderError && e.code === 'OUTPUT_UNWRITABLE');
      // The farm's store makes its folders the same way: `--store /proc/x` fails, never hangs.
      await assert.rejects(new FolderArtifactStore('/proc/rerender-store').put(new Uint8Array([1, 2, 3])), (e: unknown) => e instanceof FolderError);
    }
  } finally {
    await removeDir(dir);
  }
});
