import type { Command } from '../command.ts';
import { exportVideo } from '../../studio/export.ts';
import { intOption, parse } from './args.ts';
import { tools, withProject } from './project-io.ts';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write the re-rendered video as an MP4 (H.264, source frame rate and audio)',
  usage: `Usage: rerender export <project.rrproj> <out.mp4> [--crf 18] [--no-audio]

Each frame is its render where one exists, else the key frame's image, else the source frame.
  --crf N       H.264 quality, 0 (lossless) to 51 (default: the project's setting, 18)
  --no-audio    leave the source's sound out`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, { crf: { type: 'string' }, 'no-audio': { type: 'boolean' } }, 2);
    const t = await tools(ctx);
    await withProject(positionals[0]!, async (p) => {
      const settings = p.settings();
      const r = await exportVideo(
        p,
        { outPath: positionals[1]!, crf: intOption(values.crf, 'crf', 0) ?? settings.export.crf, audio: values['no-audio'] ? false : settings.export.audio },
        { tools: t, signal: ctx.signal, onProgress: (x) => ctx.out.progress(x) },
      );
      if (r.fromSource > 0) ctx.out.warn(`${r.fromSource} of ${r.frames} frames had no render and show the source`);
      ctx.out.result({ ...r }, `wrote ${r.out}: ${r.frames} frames (${r.fromRenders} rendered, ${r.fromKeyframes} key-frame images, ${r.fromSource} source)${r.audio ? ' with audio' : ''}`);
    });
  },
};
