import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { initProject } from '../../studio/init.ts';
import { formatRational } from '../../media/index.ts';
import { cropOption, intOption, parse } from './args.ts';
import { tools } from './project-io.ts';
import { sourceWarnings } from '../../project/index.ts';
import { describeCuts } from '../../studio/shot-cuts.ts';

export const initCommand: Command = {
  name: 'init',
  summary: 'create a project from a video',
  usage: `Usage: rerender init <video> -o <project.rrproj> [--size 512] [--crop l,r,t,b] [--force]

  -o, --out     the project file to create (refuses to overwrite without --force)
  --size        working size: the short side in pixels, rounded to a multiple of 64 (default 512)
  --crop        pixels to cut from the left, right, top and bottom of the source first
  --force       replace an existing project file`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, {
      out: { type: 'string', short: 'o' },
      size: { type: 'string' },
      crop: { type: 'string' },
      force: { type: 'boolean' },
    }, 1);
    if (!values.out) throw new UsageError('-o <project.rrproj> is required');
    const t = await tools(ctx);
    const project = await initProject(
      { videoPath: positionals[0]!, projectPath: values.out, shortSide: intOption(values.size, 'size', 64), crop: cropOption(values.crop), overwrite: values.force === true },
      { tools: t, signal: ctx.signal, onProgress: (x) => ctx.out.progress(x), onWarning: (w) => ctx.out.warn(w) },
    );
    try {
      const s = project.source();
      for (const w of sourceWarnings(s.probe)) ctx.out.warn(w);
      const cuts = project.shotCuts()?.frames ?? null;
      ctx.out.result(
        { project: project.path, frames: s.probe.frameCount, fps: s.probe.fps, width: s.working.width, height: s.working.height, shotCuts: cuts },
        `created ${project.path}: ${s.probe.frameCount} frames at ${formatRational(s.probe.fps)} fps, working size ${s.working.width}×${s.working.height}\n` +
          (cuts === null ? 'shot cuts not looked for yet' : describeCuts(cuts)),
      );
    } finally {
      project.close();
    }
  },
};
