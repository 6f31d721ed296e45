// The Output view's "Out of date" badge: the render shown was made before a key frame or a
// setting changed (the timeline band says the same for every frame).
import type { ProjectSummary } from '../../src-main/api/contract.ts';
import { RENDER_STATE_STYLES, stateAt } from '../lib/render-status.ts';

export function OutputStateBadge({ project, frame }: { project: Pick<ProjectSummary, 'renderStatus'>; frame: number }) {
  const state = project.renderStatus ? stateAt(project.renderStatus.spans, frame) : null;
  if (state !== 'stale' && state !== 'rendering') return null;
  const s = RENDER_STATE_STYLES[state];
  return (
    <span className={`output-state output-${state}`} title={s.description} data-testid="output-state" data-state={state}>
      {state === 'stale' ? 'Out of date' : 'Rendering…'}
    </span>
  );
}
