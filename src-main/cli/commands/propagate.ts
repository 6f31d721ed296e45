import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { propagateProject } from '../../studio/propagate.ts';
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
  usage: `Usage: rerender propagate <project.rrproj> [--frames a-b]

Renders every frame (or frames a to b) from the key frames that have images, and stores each
render in the project as it is made. Frames already rendered with the same settings and key
frames are skipped, so a cancelled or killed run resumes where it stopped. The synthesis
settings are the project's (see \`rerender info\`).
  --frames a-b  only (re)render these frames (0-based, inclusive)`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, { frames: { type: 'string' } }, 1);
    const frames = rangeOption(values.frames);
    const t = await tools(ctx);
    await withProject(positionals[0]!, async (p) => {
      const r = await propagateProject(p, { frames }, { tools: t, signal: ctx.signal, onProgress: (x) => ctx.out.progress(x) });
      const secs = (r.ms.total / 1000).toFixed(1);
      ctx.out.result(
        { framesWritten: r.framesWritten, alreadyDone: r.alreadyDone, keyframes: r.keyframes, runId: r.runId, ms: r.ms },
        `rendered ${r.framesWritten} frame(s) in ${secs} s from key frames ${r.keyframes.join(', ')}` + (r.alreadyDone > 0 ? ` (${r.alreadyDone} already up to date)` : ''),
      );
    });
  },
};
