import type { Command } from '../command.ts';
import { exportVideo } from '../../studio/export.ts';
import { OutputExistsError } from '../../media/output.ts';
import { UsageError } from '../command.ts';
import { intOption, parse } from './args.ts';
import { tools, withProject } from './project-io.ts';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write the re-rendered video as an MP4 (H.264, source frame rate and audio)',
  usage: `Usage: rerender export <project.rrproj> <out.mp4> [--size source|working] [--crf 18] [--no-audio] [--force]

Each frame is its render where one exists, else the key frame's image, else the source frame.
At --size source (the default) the video has the source's resolution minus only the crop chosen
when the project was made: renders and key-frame images are upsampled guided by the full-size
source frame, which also fills the few pixels the working size's aspect had cut. An odd width or
height loses its last column or row (H.264 4:2:0 needs even sizes). --size working writes the
working size the frames were rendered at.
An existing video at <out.mp4> is replaced; any other existing file (a project, a database, a
document...) is refused with exit 3 unless --force is given. The project being exported is never
replaced, even with --force. The video is written beside <out.mp4> and renamed into place at the end.
  --size S      source (default) or working
  --crf N       H.264 quality, 0 (lossless) to 51 (default: the project's setting, 18)
  --no-audio    leave the source's sound out
  --force       replace <out.mp4> whatever it is (except the project itself)`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, { size: { type: 'string' }, crf: { type: 'string' }, 'no-audio': { type: 'boolean' }, force: { type: 'boolean' } }, 2);
    const size = values.size ?? 'source';
    if (size !== 'source' && size !== 'working') throw new UsageError(`--size must be 'source' or 'working', got '${size}'`);
    const t = await tools(ctx);
    await withProject(positionals[0]!, async (p) => {
      const settings = p.settings();
      const r = await exportVideo(
        p,
        {
          outPath: positionals[1]!,
          size,
          crf: intOption(values.crf, 'crf', 0) ?? settings.export.crf,
          audio: values['no-audio'] ? false : settings.export.audio,
          replace: values.force ? 'any' : 'videos',
        },
        { tools: t, signal: ctx.signal, onProgress: (x) => ctx.out.progress(x) },
      ).catch((err: unknown) => {
        if (err instanceof OutputExistsError && err.replaceable) {
          throw new OutputExistsError(err.path, err.kind, err.finding, 'it was not replaced. Choose another file name, or pass --force to replace it.');
        }
        throw err;
      });
      if (r.fromSource > 0) ctx.out.warn(`${r.fromSource} of ${r.frames} frames had no render and show the source`);
      ctx.out.result({ ...r }, `wrote ${r.out}: ${r.width}×${r.height}, ${r.frames} frames (${r.fromRenders} rendered, ${r.fromKeyframes} key-frame images, ${r.fromSource} source)${r.audio ? ' with audio' : ''}`);
    });
  },
};
