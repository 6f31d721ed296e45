// Which settings a stage's output depends on. A stored result whose hash differs from the current
// one is stale: translated key frames show 'stale', renders are redone.
import { paramsHash, type Project, type ProjectSettings } from '../project/index.ts';

/** Everything a key frame's translation depends on, with its own prompt override applied. */
export function translationHash(settings: ProjectSettings, promptOverride: string | null): string {
  const { propagation: _p, export: _e, ...rest } = settings;
  return paramsHash({ ...rest, prompt: promptOverride ?? settings.prompt });
}

/** Per-frame translation hashes, as Project.listKeyframes wants them. */
export function translationHashes(project: Project): (frame: number) => string {
  const settings = project.settings();
  return (frame) => translationHash(settings, project.getKeyframe(frame)?.prompt ?? null);
}
