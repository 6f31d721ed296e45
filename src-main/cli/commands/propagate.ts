import type { CliContext, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import type { MediaTools } from '../../media/index.ts';
import type { Project } from '../../project/index.ts';
import { warmFlowCache } from '../../studio/flow-warmup.ts';
import { openSource } from '../../studio/source.ts';
import { propagateProject } from '../../studio/propagate.ts';
import { describeCuts, projectCuts } from '../../studio/shot-cuts.ts';
import { parse } from './args.ts';
import { tools, withProject } from './project-io.ts';

function rangeOption(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)-(\d+)$/.exec(value.trim());
  if (!m) throw new UsageError(`--frames needs a range 'a-b' of 0-based frames, got '${value}'`);
  return [Number(m[1]), Number(m[2])];
}

export const propagateCommand: Command = {
  name: 'propagate',
  summary: 'carry the key frames\' look to every frame (EbSynth-style synthesis + blending)',
  usage: `Usage: rerender propagate <project.rrproj> [--frames a-b] [--flow-only]

Renders every frame (or frames a to b) from the key frames that have images, and stores each
render in the project as it is made. Frames already rendered with the same settings and key
frames are skipped, so a cancelled or killed run resumes where it stopped. The synthesis
settings are the project's (see \`rerender info\`). Nothing is carried across a shot cut: each
shot needs a key frame of its own, and a shot without one is left unrendered (and said so).
  --frames a-b  only (re)render these frames (0-based, inclusive)
  --flow-only   only compute and cache the optical flow the key frames' shots need (on a CPU box,
                or while the key frames are being painted); the next propagation starts with it`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, { frames: { type: 'string' }, 'flow-only': { type: 'boolean' } }, 1);
    const frames = rangeOption(values.frames);
    const t = await tools(ctx);
    if (values['flow-only']) {
      if (frames) throw new UsageError('--flow-only prepares the flow of whole shots: it takes no --frames');
      await withProject(positionals[0]!, async (p) => prepareFlow(ctx, p, t));
      return;
    }
    await withProject(positionals[0]!, async (p) => {
      const r = await propagateProject(p, { frames }, { tools: t, signal: ctx.signal, onProgress: (x) => ctx.out.progress(x) });
      const secs = (r.ms.total / 1000).toFixed(1);
      if (r.synthesisCount > 0) ctx.out.info(r.backend.note ?? `synthesis ran on ${r.backend.device}`);
      if (r.cutsDetected) ctx.out.info(`found ${describeCuts(r.cuts)} (stored in the project)`);
      // Nothing is carried across a cut, so a shot without a key frame of its own stays unrendered
      // (only those that meet the frames asked for are worth a word).
      const unkeyed = r.unkeyedShots.filter((s) => !frames || (s.last >= frames[0] && s.first <= frames[1]));
      for (const s of unkeyed) {
        ctx.out.warn(`shot ${s.first}-${s.last} has no key frame with an image: it was not rendered. Give it one: \`rerender keyframe <project> --frame ${s.first} --import edited.png\`.`);
      }
      ctx.out.result(
        { framesWritten: r.framesWritten, alreadyDone: r.alreadyDone, keyframes: r.keyframes, runId: r.runId, ms: r.ms, backend: r.backend, shotCuts: r.cuts, unkeyedShots: unkeyed },
        `rendered ${r.framesWritten} frame(s) in ${secs} s from key frames ${r.keyframes.join(', ')}` + (r.alreadyDone > 0 ? ` (${r.alreadyDone} already up to date)` : '') +
          (unkeyed.length > 0 ? `; ${unkeyed.length} shot(s) without a key frame left unrendered` : ''),
      );
    });
  },
};

/** `propagate --flow-only`: the flow cache filled for the shots that hold a key frame. */
async function prepareFlow(ctx: CliContext, p: Project, t: MediaTools): Promise<void> {
  const cuts = await projectCuts(p, { tools: t, signal: ctx.signal });
  if (cuts.detected) ctx.out.info(`found ${describeCuts(cuts.frames)} (stored in the project)`);
  const src = await openSource(p, [], { tools: t, signal: ctx.signal });
  const r = await warmFlowCache(p, src, { tools: t, signal: ctx.signal, onProgress: (x) => ctx.out.progress(x) });
  if (r.pairs === 0) ctx.out.warn('no shot has a key frame yet: there is no flow to prepare. Add key frames first (`rerender keyframes <project> --every N`).');
  ctx.out.result({ ...r }, `optical flow ready for ${r.pairs} frame pair(s): ${r.computed} computed now, ${r.cached} already cached`);
}
