import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { planKeyframes, type KeyframePlan } from '../../studio/keyframes.ts';
import { intOption, parse } from './args.ts';
import { tools, withProject } from './project-io.ts';

export const keyframesCommand: Command = {
  name: 'keyframes',
  summary: 'choose the key frames (every n-th, a list, or adaptively)',
  usage: `Usage: rerender keyframes <project.rrproj> (--every N | --set 0,12,30 | --auto [--min 5] [--max 20])

  --every N     frames 0, N, 2N, …
  --set LIST    exactly these frames (0-based)
  --auto        frame 0, then the frames that change most from their predecessor,
                until no gap exceeds --max (default 20), keeping gaps ≥ --min (default 5)
Key frames that stay keep their images and masks.`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, {
      every: { type: 'string' },
      set: { type: 'string' },
      auto: { type: 'boolean' },
      min: { type: 'string' },
      max: { type: 'string' },
    }, 1);
    const chosen = [values.every !== undefined, values.set !== undefined, values.auto === true].filter(Boolean).length;
    if (chosen !== 1) throw new UsageError('give exactly one of --every, --set or --auto');
    if (!values.auto && (values.min !== undefined || values.max !== undefined)) throw new UsageError('--min and --max go with --auto');
    let plan: KeyframePlan;
    if (values.every !== undefined) plan = { every: intOption(values.every, 'every', 1)! };
    else if (values.set !== undefined) plan = { set: values.set };
    else plan = { auto: { min: intOption(values.min, 'min', 1) ?? 5, max: intOption(values.max, 'max', 1) ?? 20 } };
    const t = 'auto' in plan ? await tools(ctx) : undefined;
    await withProject(positionals[0]!, async (p) => {
      const frames = await planKeyframes(p, plan, { tools: t, signal: ctx.signal, onProgress: (x) => ctx.out.progress(x) });
      ctx.out.result({ keyframes: frames }, `${frames.length} key frame(s): ${frames.join(', ')}`);
    });
  },
};
