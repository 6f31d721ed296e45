// Which uploaded videos projects use: <dataDir>/upload-sources.json maps a project file to its
// source when that source lies in <dataDir>/uploads. The services host records it whenever a
// project is created or opened; browser mode's upload clean-up never deletes a file listed here
// while the project file still exists. Only uploads are recorded, so the map stays small.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const PROJECT_SOURCES_FILE = 'upload-sources.json';

export function uploadsDir(dataDir: string): string {
  return path.join(dataDir, 'uploads');
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** project path → source path; an unreadable or damaged file reads as empty. */
export async function readProjectSources(dataDir: string): Promise<Record<string, string>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path.join(dataDir, PROJECT_SOURCES_FILE), 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

/** Sources under <dataDir>/uploads that a still-existing project uses. */
export async function uploadsInUse(dataDir: string): Promise<Set<string>> {
  const map = await readProjectSources(dataDir);
  const used = new Set<string>();
  for (const [project, source] of Object.entries(map)) {
    if (await stat(project).then(() => true, () => false)) used.add(path.resolve(source));
  }
  return used;
}

/**
 * Records that `projectPath` uses `sourcePath` (a no-op unless the source is an upload), and
 * drops entries whose project file is gone. Written whole to a temporary file, then renamed.
 */
export async function recordProjectSource(dataDir: string, projectPath: string, sourcePath: string): Promise<void> {
  const map = await readProjectSources(dataDir);
  const project = path.resolve(projectPath);
  const isUpload = isInside(uploadsDir(dataDir), sourcePath);
  if (!isUpload && !(project in map)) return;
  for (const p of Object.keys(map)) {
    if (!(await stat(p).then(() => true, () => false))) delete map[p];
  }
  if (isUpload) map[project] = path.resolve(sourcePath);
  else delete map[project];
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, PROJECT_SOURCES_FILE);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, JSON.stringify(map, null, 2));
  await rename(tmp, file);
}
