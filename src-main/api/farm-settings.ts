// The editor's farm connection, remembered per user in <dataDir>/farm.json: the Redis URL (with
// its password: the file is the user's alone, mode 0600) and the artifact store folder. The UI
// only ever gets the URL back with its password as *** (redactRedisUrl).
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const FILE = 'farm.json';

const storedSchema = z.object({
  redisUrl: z.string().min(1).max(4096).nullable(),
  store: z.string().min(1).max(4096).nullable(),
});
export type FarmConnection = z.infer<typeof storedSchema>;

const NONE: FarmConnection = { redisUrl: null, store: null };

/** What was remembered; nothing (both null) when the file is missing or unreadable. */
export async function readFarmConnection(dataDir: string): Promise<FarmConnection> {
  try {
    const r = storedSchema.safeParse(JSON.parse(await readFile(path.join(dataDir, FILE), 'utf8')));
    return r.success ? r.data : { ...NONE };
  } catch {
    return { ...NONE };
  }
}

/** Replaces the remembered connection, atomically, readable by this user only. */
export async function writeFarmConnection(dataDir: string, c: FarmConnection): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(storedSchema.parse(c), null, 2)}\n`, { mode: 0o600 });
  // A file left by an older umask keeps its mode through rename only if we set it.
  await chmod(tmp, 0o600).catch(() => undefined);
  await rename(tmp, file);
}
