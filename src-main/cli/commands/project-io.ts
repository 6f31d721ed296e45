// Opening the project and the media tools a command needs, closing the project whatever happens.
import { locateTools, type MediaTools } from '../../media/index.ts';
import { isProjectError, Project } from '../../project/index.ts';
import type { CliContext } from '../command.ts';

export async function tools(ctx: CliContext): Promise<MediaTools> {
  return locateTools({ env: ctx.env });
}

/** Opens the project for writing: takes its lock (IN_USE while another process has it), released after `fn`. */
export async function withProject<T>(file: string, fn: (p: Project) => Promise<T>): Promise<T> {
  return using(Project.open(file), fn);
}

/**
 * Opens the project read-only: no lock, nothing written, so it works while another process has it
 * open. A file from an older build needs its migration first, which takes a writing open.
 */
export async function withProjectReadOnly<T>(file: string, fn: (p: Project) => Promise<T>): Promise<T> {
  let project: Project;
  try {
    project = Project.open(file, { readOnly: true });
  } catch (err) {
    if (!isProjectError(err, 'NEEDS_UPGRADE')) throw err;
    return withProject(file, fn);
  }
  return using(project, fn);
}

async function using<T>(project: Project, fn: (p: Project) => Promise<T>): Promise<T> {
  try {
    return await fn(project);
  } finally {
    project.close();
  }
}
