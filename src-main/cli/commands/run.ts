// `rerender run`: the whole video in one command (project, key frames, translation, propagation,
// export) with one progress display; rerunning it resumes.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { keyframePlanOption } from './keyframes.ts';
import { defaultProjectPath, runVideo } from '../../studio/run.ts';
import { intOption, parse } from './args.ts';
import { tools } from './project-io.ts';
import { MODEL_OPTIONS, MODEL_USAGE, engineDeps, foundModelsPatch, readConfig, settingsFromOptions, translateSummary } from './translate.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'the whole job: project, key frames, translation, propagation and export in one command',
  usage: `Usage: rerender run <video> --prompt TEXT -o out.mp4 [--config c.json] [--model PATH --controlnet PATH[:TYPE[:SCALE]]…] [--every N | --auto] [--size 512] [--project p.rrproj] [options]

Creates (or reuses) the project, chooses key frames, translates them, propagates them to every
frame and exports the MP4 at the source's frame rate. Everything is stored in the project as it
is made, so running the same command again resumes where it stopped.
  -o, --output FILE    the MP4 to write
  --project FILE       the project to use (default: beside the output, e.g. out.rrproj)
  --every N            key frames every N frames (default: the config's interval, else the
                       project's key frames, else every 10th frame)
  --auto               key frames where the picture changes most (--min 5 --max 20 gaps)
  --size N             working size of a new project: short side in pixels (default 512, or the config's image_resolution)
${MODEL_USAGE}`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, {
      ...MODEL_OPTIONS,
      output: { type: 'string', short: 'o' },
      project: { type: 'string' },
      every: { type: 'string' },
      auto: { type: 'boolean' },
      min: { type: 'string' },
      max: { type: 'string' },
      size: { type: 'string' },
    }, 1);
    if (values.output === undefined) throw new UsageError('-o out.mp4 is required');
    const engine = engineDeps(ctx, values);
    const config = readConfig(ctx, values.config);
    const projectPath = path.resolve(ctx.cwd, values.project ?? defaultProjectPath(values.output));
    // A new project gets the models `rerender models list` finds; a resumed one keeps its own.
    const found = existsSync(projectPath) ? {} : foundModelsPatch(ctx, values, { model: null, controlnetModel: null }, config);
    const settings = { ...found, ...settingsFromOptions(ctx, values) };
    const configPrompt = typeof config === 'object' && config !== null && typeof (config as { prompt?: unknown }).prompt === 'string';
    if (values.prompt === undefined && !configPrompt) throw new UsageError('--prompt TEXT is required (or a config with a prompt)');
    const keyframes = keyframePlanOption(values);
    const shortSide = intOption(values.size, 'size', 64);
    const t = await tools(ctx);
    const r = await runVideo({
      video: path.resolve(ctx.cwd, positionals[0]!),
      out: path.resolve(ctx.cwd, values.output),
      settings,
      ...(values.project !== undefined ? { project: path.resolve(ctx.cwd, values.project) } : {}),
      ...(config !== undefined ? { config } : {}),
      ...(keyframes ? { keyframes } : {}),
      ...(shortSide !== undefined ? { shortSide } : {}),
    }, { tools: t, ...engine });
    const tr = r.translate;
    ctx.out.result(
      {
        output: r.export.out, project: r.project, created: r.created, keyframes: r.keyframes,
        translate: { translated: tr.translated, upToDate: tr.upToDate, kept: tr.kept, provider: tr.provider, floatType: tr.floatType, contextBytes: tr.contextBytes, contextDeviceBytes: tr.contextDeviceBytes, notes: tr.notes },
        propagate: { framesWritten: r.propagate.framesWritten, alreadyDone: r.propagate.alreadyDone },
        export: { frames: r.export.frames, fromRenders: r.export.fromRenders, fromSource: r.export.fromSource },
      },
      [
        `${r.created ? 'created' : 'resumed'} ${r.project} with key frames ${r.keyframes.join(', ')}`,
        translateSummary(tr),
        `rendered ${r.propagate.framesWritten} frame(s)${r.propagate.alreadyDone ? ` (${r.propagate.alreadyDone} already up to date)` : ''}`,
        `wrote ${r.export.out} (${r.export.frames} frames${r.export.fromSource ? `, ${r.export.fromSource} from the source` : ''})`,
      ].join('\n'),
    );
  },
};
