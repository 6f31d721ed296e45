import type { Command } from '../command.ts';
import { formatRational } from '../../media/index.ts';
import { isProjectError, type Project } from '../../project/index.ts';
import { translationHashes } from '../../studio/params.ts';
import { describeCuts, projectCuts } from '../../studio/shot-cuts.ts';
import { renderStatus } from '../../studio/render-status.ts';
import type { RenderState } from '../../api/contract.ts';
import { parse } from './args.ts';
import { tools, withProject, withProjectReadOnly } from './project-io.ts';
import { existsSync } from 'node:fs';
import type { CliContext } from '../command.ts';

/**
 * Cuts for `info --cuts` when the project has none stored (made before cuts were stored): found
 * now, and stored if the project can be opened for writing, so the scan is not repeated; while
 * another process has it open they are only shown.
 */
async function findMissingCuts(ctx: CliContext, file: string): Promise<{ frames: number[]; stored: boolean }> {
  const t = await tools(ctx);
  const deps = { tools: t, signal: ctx.signal, onProgress: (x: Parameters<typeof ctx.out.progress>[0]) => ctx.out.progress(x) };
  try {
    return await withProject(file, (p) => projectCuts(p, deps));
  } catch (err) {
    if (!isProjectError(err, 'IN_USE')) throw err;
    return withProjectReadOnly(file, (p) => projectCuts(p, deps));
  }
}

function cutsLine(p: Project, found: { frames: number[]; stored: boolean } | null): string {
  const stored = p.shotCuts();
  if (stored) return `cuts      ${describeCuts(stored.frames)}`;
  if (found) return `cuts      ${describeCuts(found.frames)}${found.stored ? ' (found now and stored)' : ' (found now; not stored: the project is open elsewhere)'}`;
  return 'cuts      not looked for yet (made before shot cuts were stored): found at the next propagate or key-frame plan, or now with --cuts';
}

/** "190 of 217 frames up to date, 20 out of date, 7 not rendered": what an export would write. */
export function rendersLine(counts: Record<RenderState, number>, frameCount: number): string {
  const parts = [`${counts.rendered} of ${frameCount} frames up to date`];
  if (counts.rendering > 0) parts.push(`${counts.rendering} being rendered now`);
  if (counts.stale > 0) parts.push(`${counts.stale} out of date (key frames or settings changed since)`);
  if (counts.missing > 0) parts.push(`${counts.missing} not rendered`);
  return parts.join(', ');
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'show a project: source, shot cuts, working size, key frames, renders (up to date, out of date, missing), jobs',
  usage: `Usage: rerender info <project.rrproj> [--cuts]

  --cuts   a project made before shot cuts were stored: look for them now (one pass over the
           video) and store them; without it such a project just says they are not known yet`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, { cuts: { type: 'boolean' } }, 1);
    const file = positionals[0]!;
    let found: { frames: number[]; stored: boolean } | null = null;
    if (values.cuts === true) {
      const known = await withProjectReadOnly(file, async (p) => p.shotCuts() !== null);
      if (!known) found = await findMissingCuts(ctx, file);
    }
    // Read-only: info works while the editor or a propagate has the project open, and changes nothing.
    await withProjectReadOnly(file, async (p) => {
      const s = p.source();
      const keyframes = p.listKeyframes(translationHashes(p));
      const jobs = p.listJobs().slice(0, 5);
      const cuts = p.shotCuts();
      const status = renderStatus(p, { keyframes });
      const data = {
        project: p.path,
        schemaVersion: p.schemaVersion,
        source: { path: s.path, present: existsSync(s.path), width: s.probe.width, height: s.probe.height, fps: s.probe.fps, frameCount: s.probe.frameCount, audioStreams: s.probe.audio.length },
        // null: not looked for yet.
        shotCuts: cuts?.frames ?? found?.frames ?? null,
        working: s.working,
        keyframes,
        // Stored renders, fresh or not; renderStatus says which are up to date.
        renderedFrames: p.renderCount(),
        renderStatus: status.counts,
        jobs: jobs.map((j) => ({ id: j.id, kind: j.kind, status: j.status, done: j.done, total: j.total, error: j.error })),
      };
      const lines = [
        `project   ${p.path} (schema v${p.schemaVersion})`,
        `source    ${s.path}${data.source.present ? '' : '  [MISSING: it is re-linked by content when found]'}`,
        `          ${s.probe.width}×${s.probe.height}, ${s.probe.frameCount} frames at ${formatRational(s.probe.fps)} fps, ${s.probe.audio.length} audio stream(s)`,
        cutsLine(p, found),
        `working   ${s.working.width}×${s.working.height} (crop l${s.working.crop.left} r${s.working.crop.right} t${s.working.crop.top} b${s.working.crop.bottom})`,
        `keyframes ${keyframes.length === 0 ? 'none' : keyframes.map((k) => `${k.frame}:${k.state}${k.hasMask ? '+mask' : ''}`).join(' ')}`,
        `renders   ${rendersLine(status.counts, s.probe.frameCount)}`,
        ...jobs.map((j) => `job       ${j.kind} ${j.status} ${j.done}/${j.total}${j.error ? `: ${j.error}` : ''}`),
      ];
      ctx.out.result(data, lines.join('\n'));
    });
  },
};
