import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { importKeyframe } from '../../studio/keyframe-image.ts';
import { importKeyframeFolder } from '../../studio/keyframe-import-dir.ts';
import { intOption, parse } from './args.ts';
import { tools, withProject } from './project-io.ts';

export const keyframeCommand: Command = {
  name: 'keyframe',
  summary: "set one key frame's image (an artist's edit) and mask, or clear it; import a folder of painted frames",
  usage: `Usage: rerender keyframe <project.rrproj> --frame N (--import edited.png [--mask mask.png] | --clear)
       rerender keyframe <project.rrproj> --import-dir DIR [--add-missing]

  --frame N      the key frame (0-based; created if it is not one yet)
  --import FILE  the edited image: the working size, or the source's full size (then cropped and
                 scaled like the video); any format ffmpeg reads
  --mask FILE    where the new look applies (white) and where the source stays (black)
  --clear        remove the key frame's image
  --import-dir DIR  import every painted frame in DIR, matched to key frames by the last number in
                 its name (shot_00012.png is frame 12); files that match no key frame are listed
                 as skipped. All or nothing: a file that cannot be read imports none.
  --add-missing  with --import-dir: add key frames for numbers that are not key frames yet`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, {
      frame: { type: 'string' },
      import: { type: 'string' },
      mask: { type: 'string' },
      clear: { type: 'boolean' },
      'import-dir': { type: 'string' },
      'add-missing': { type: 'boolean' },
    }, 1);
    const dir = values['import-dir'];
    if (dir !== undefined) {
      if (values.frame !== undefined || values.import !== undefined || values.mask !== undefined || values.clear) throw new UsageError('--import-dir goes alone (the file names give the frames)');
      if (dir === '') throw new UsageError('--import-dir needs a folder');
      const t = await tools(ctx);
      await withProject(positionals[0]!, async (p) => {
        const r = await importKeyframeFolder(p, dir, { addMissing: values['add-missing'] === true }, { tools: t, signal: ctx.signal, onProgress: (x) => ctx.out.progress(x) });
        const lines = [
          `imported ${r.imported.length} painted frame(s) from ${r.dir}:`,
          ...r.imported.map((m) => `  frame ${m.frame} ← ${m.name}${m.isNew ? ' (new key frame)' : ''}`),
          ...(r.skipped.length > 0 ? [`skipped ${r.skipped.length}:`, ...r.skipped.map((s) => `  ${s.name}: ${s.reason}`)] : []),
        ];
        ctx.out.result({ imported: r.imported, skipped: r.skipped, dir: r.dir }, lines.join('\n'));
      });
      return;
    }
    if (values['add-missing']) throw new UsageError('--add-missing goes with --import-dir');
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
