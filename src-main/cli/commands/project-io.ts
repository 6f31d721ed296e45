// Opening the project and the media tools a command needs, closing the project whatever happens.
import { locateTools, type MediaTools } from '../../media/index.ts';
import { Project } from '../../project/index.ts';
import type { CliContext } from '../command.ts';

export async function tools(ctx: CliContext): Promise<MediaTools> {
  return locateTools({ env: ctx.env });
}

export async function withProject<T>(file: string, fn: (p: Project) => Promise<T>): Promise<T> {
  const project = Project.open(file);
  try {
    return await fn(project);
  } finally {
    project.close();
  }
}
