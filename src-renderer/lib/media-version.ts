// Versions for media URLs. The browser keeps images by URL (and within a page reuses them without
// asking), so every URL carries the project's media revision: another project, or the same one
// with another video or working size, never gets an earlier project's picture.
import type { JobInfo, ProjectSummary } from '../../src-main/api/contract.ts';

/** `project`'s media revision followed by `parts` (what changes an image within the project). */
export function mediaVersion(project: Pick<ProjectSummary, 'path' | 'mediaRev'>, ...parts: Array<string | number>): string {
  return [project.mediaRev ?? project.path, ...parts].join('~');
}

/** The timeline strip's version: the project, and how many strip jobs have finished (a new strip). */
export function stripVersion(project: Pick<ProjectSummary, 'path' | 'mediaRev'>, jobs: readonly JobInfo[]): string {
  return mediaVersion(project, jobs.filter((j) => j.kind === 'thumbnails' && j.status === 'done').length);
}
