import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { planKeyframes, type KeyframePlan } from '../../studio/keyframes.ts';
import { exportKeyframeSources } from '../../studio/keyframe-export.ts';
import { intOption, parse } from './args.ts';
import { tools, withProject } from './project-io.ts';

/**
 * The key-frame plan that --every / --set / --auto (with --min, --max) ask for; undefined when none
 * is given. At most one of them, and --min/--max only with --auto.
 */
export function keyframePlanOption(v: { every?: string | undefined; set?: string | undefined; auto?: boolean | undefined; min?: string | undefined; max?: string | undefined }): KeyframePlan | undefined {
  const given = [v.every !== undefined && '--every', v.set !== undefined && '--set', v.auto === true && '--auto'].filter((g) => g !== false);
  if (given.length > 1) throw new UsageError(`give only one of ${given.join(', ')}`);
  if (!v.auto && (v.min !== undefined || v.max !== undefined)) throw new UsageError('--min and --max go with --auto');
  if (v.every !== undefined) return { every: intOption(v.every, 'every', 1)! };
  if (v.set !== undefined) return { set: v.set };
  if (v.auto) return { auto: { min: intOption(v.min, 'min', 1) ?? 5, max: intOption(v.max, 'max', 1) ?? 20 } };
  return undefined;
}

export const keyframesCommand: Command = {
  name: 'keyframes',
  summary: 'choose the key frames (every n-th, a list, or adaptively); export them for painting',
  usage: `Usage: rerender keyframes <project.rrproj> (--every N | --set 0,12,30 | --auto [--min 5] [--max 20]) [--export DIR [--overwrite]]
       rerender keyframes <project.rrproj> --export DIR [--overwrite]

  --every N     frames 0, N, 2N, … (counted again from each shot cut)
  --set LIST    exactly these frames (0-based)
  --auto        frame 0, then the frames that change most from their predecessor,
                until no gap exceeds --max (default 20), keeping gaps ≥ --min (default 5)
--every and --auto put a key frame at each shot cut (the first frame of each shot: nothing is
propagated across a cut) and none on the last frame before a cut. Key frames that stay keep
their images and masks.

  --export DIR  write each key frame's source picture to DIR as a numbered PNG (00012.png for
                frame 12) at the source's full resolution, less the crop, for painting
                elsewhere; bring them back with \`rerender keyframe P --import-dir DIR\`
  --overwrite   replace PNGs of the same names already in DIR (refused otherwise)`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, {
      every: { type: 'string' },
      set: { type: 'string' },
      auto: { type: 'boolean' },
      min: { type: 'string' },
      max: { type: 'string' },
      export: { type: 'string' },
      overwrite: { type: 'boolean' },
    }, 1);
    const plan = keyframePlanOption(values);
    const exportDir = values.export;
    if (plan === undefined && exportDir === undefined) throw new UsageError('give one of --every, --set, --auto or --export');
    if (exportDir === '') throw new UsageError('--export needs a folder');
    if (values.overwrite && exportDir === undefined) throw new UsageError('--overwrite goes with --export');
    // The adaptive plan decodes the video; both it and --every may need the shot cuts found first.
    const t = plan === undefined || 'set' in plan ? (exportDir === undefined ? undefined : await tools(ctx)) : await tools(ctx);
    await withProject(positionals[0]!, async (p) => {
      if (plan !== undefined) {
        const frames = await planKeyframes(p, plan, { tools: t, signal: ctx.signal, onProgress: (x) => ctx.out.progress(x) });
        const cuts = p.shotCuts()?.frames ?? [];
        const note = 'set' in plan || cuts.length === 0 ? '' : ` (${cuts.length} at shot cuts)`;
        ctx.out.result({ keyframes: frames, shotCuts: cuts }, `${frames.length} key frame(s)${note}: ${frames.join(', ')}`);
      }
      if (exportDir !== undefined) {
        const r = await exportKeyframeSources(p, { dir: exportDir, overwrite: values.overwrite === true }, { tools: t!, signal: ctx.signal, onProgress: (x) => ctx.out.progress(x) });
        ctx.out.result(
          { exported: r.files, frames: r.frames, width: r.width, height: r.height, dir: r.dir },
          `exported ${r.files.length} key frame(s) at ${r.width}×${r.height} to ${r.dir}: ${r.files.map((f) => f.slice(r.dir.length + 1)).join(', ')}`,
        );
      }
    });
  },
};
