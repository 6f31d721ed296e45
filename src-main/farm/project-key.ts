// A project's name on the farm: its absolute path, hashed (the owner is the one machine where that
// path means this project), so records and status lines never carry the path's bytes as a key.
import { createHash } from 'node:crypto';
import path from 'node:path';

export function projectKeyOf(projectPath: string): string {
  return createHash('sha256').update(path.resolve(projectPath)).digest('hex').slice(0, 16);
}
