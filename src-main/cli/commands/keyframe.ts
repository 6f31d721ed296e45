import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { importKeyframe } from '../../studio/keyframe-image.ts';
import { intOption, parse } from './args.ts';
import { tools, withProject } from './project-io.ts';

export const keyframeCommand: Command = {
  name: 'keyframe',
  summary: "set one key frame's image (an artist's edit) and mask, or clear it",
  usage: `Usage: rerender keyframe <project.rrproj> --frame N (--import edited.png [--mask mask.png] | --clear)

  --frame N      the key frame (0-based; created if it is not one yet)
  --import FILE  the edited image: the working size, or the source's full size (then cropped and
                 scaled like the video); any format ffmpeg reads
  --mask FILE    where the new look applies (white) and where the source stays (black)
  --clear        remove the key frame's image`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, {
      frame: { type: 'string' },
      import: { type: 'string' },
      mask: { type: 'string' },
      clear: { type: 'boolean' },
    }, 1);
    const frame = intOption(values.frame, 'frame', 0);
    if (frame === undefined) throw new UsageError('--frame N is required');
    if ((values.import === undefined) === (values.clear !== true)) throw new UsageError('give one of --import or --clear');
    if (values.mask !== undefined && values.import === undefined) throw new UsageError('--mask goes with --import');
    const t = values.import !== undefined ? await tools(ctx) : null;
    await withProject(positionals[0]!, async (p) => {
      if (values.clear) {
        p.clearKeyframeImage(frame);
        ctx.out.result({ frame, cleared: true }, `key frame ${frame}: image cleared`);
        return;
      }
      await importKeyframe(p, frame, { path: values.import! }, values.mask ? { path: values.mask } : null, { tools: t!, signal: ctx.signal });
      ctx.out.result({ frame, imported: values.import, mask: values.mask ?? null }, `key frame ${frame}: imported ${values.import}${values.mask ? ` with mask ${values.mask}` : ''}`);
    });
  },
};
