// `rerender models`: the one models folder (list, import, verified download) and the folders
// artists already keep models in, listed where they are.
import path from 'node:path';
import type { CliContext, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { importModel, type ModelKind } from '../../engine/weights/models-folder.ts';
import { ANNOTATOR_MODELS, DEFAULT_MODELS, fetchHubModel, hubEndpoint } from '../../engine/weights/default-models.ts';
import { LAYOUT_LABELS, findModels, modelRoots, resolveModelsDir, type FoundModel, type ModelRoot } from '../../engine/weights/model-roots.ts';
import { ProgressTracker } from '../../jobs/progress.ts';
import { parse } from './args.ts';

const KINDS: readonly ModelKind[] = ['checkpoint', 'controlnet', 'lora', 'vae'];

function kindOption(v: string | undefined): ModelKind | undefined {
  if (v === undefined) return undefined;
  if (!(KINDS as readonly string[]).includes(v)) throw new UsageError(`--kind must be one of ${KINDS.join(', ')}, got '${v}'`);
  return v as ModelKind;
}

const MB = 1024 * 1024;

function size(bytes: number): string {
  return bytes >= 1024 * MB ? `${(bytes / (1024 * MB)).toFixed(1)} GB` : `${(bytes / MB).toFixed(1)} MB`;
}

const ORIGINS: Readonly<Record<ModelRoot['origin'], string>> = {
  'models-folder': 'the models folder',
  flag: '--models-from',
  env: 'RERENDER_MODEL_ROOTS',
  'hf-default': 'this machine\'s cache',
};

/** Grouped by root: a heading saying where and what layout, then one line per model. */
function listing(roots: readonly ModelRoot[], models: readonly FoundModel[]): string {
  const lines: string[] = [];
  for (const r of roots) {
    const here = models.filter((m) => m.root === r.dir);
    lines.push(`${r.dir}  [${LAYOUT_LABELS[r.layout]}, ${ORIGINS[r.origin]}]`);
    if (here.length === 0) lines.push(r.origin === 'models-folder' ? '  (empty: rerender models import <file>, or rerender models download)' : '  (no models)');
    for (const m of here) {
      const what = m.kind === 'controlnet' && m.control !== null ? `controlnet (${m.control})` : m.kind;
      lines.push(`  ${what.padEnd(22)} ${m.format.padEnd(11)} ${size(m.sizeBytes).padStart(9)}  ${m.name}`);
    }
  }
  return lines.join('\n');
}

const warnTo = (ctx: CliContext) => (m: string) => ctx.out.warn(m);

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list, import or download models (SD 1.5 checkpoints, ControlNets, LoRAs, VAEs)',
  usage: `Usage: rerender models list [--models-from DIR]... [--dir DIR]
       rerender models import <file-or-folder> [--kind checkpoint|controlnet|lora|vae] [--dir DIR]
       rerender models download [--annotators] [--dir DIR]

  list      every model the commands can use: the models folder first, then the folders given
            with --models-from or RERENDER_MODEL_ROOTS and this machine's huggingface_hub cache;
            for each its kind (a ControlNet's control type when its name or config says), format,
            size and where it was found
  import    copy a model (.safetensors, a PyTorch .ckpt/.pth/.pt/.bin read without running
            anything in it, or a diffusers folder) into the models folder, sorted by kind
  download  fetch the default pair (Stable Diffusion 1.5 and the canny ControlNet): used in place
            from a huggingface_hub cache that has them (its blobs checked against their sha256
            names), else downloaded from the hub (HF_ENDPOINT) with resume; each downloaded file is
            checked against the sha256 the hub publishes, and a file that does not match is
            deleted (exit 4; run it again). --annotators also fetches the networks of the built-in
            HED and depth preprocessors (ControlNetHED.pth, 29 MB; Depth Anything V2 Small, 99 MB)
            into annotators/
  --dir DIR           the models folder (default: RERENDER_MODELS_DIR or ~/.rerender-studio/models)
  --models-from DIR   also look in DIR, used where it is, never copied: an A1111/Forge WebUI or
                      ComfyUI folder (or its models/), a huggingface_hub cache, or another models
                      folder; repeatable. RERENDER_MODEL_ROOTS adds more (a ${process.platform === 'win32' ? "';'" : "':'"}-separated list)`,
  async run(ctx, argv) {
    const [verb, ...rest] = argv;
    if (verb === 'list') {
      const { values } = parse(rest, { dir: { type: 'string' }, 'models-from': { type: 'string', multiple: true } }, 0);
      const dir = resolveModelsDir(ctx.env, { flag: values.dir, cwd: ctx.cwd, warn: warnTo(ctx) });
      const roots = modelRoots(ctx.env, dir, (values['models-from'] ?? []).map((d) => resolveIn(ctx, d)), warnTo(ctx));
      const models = findModels(roots);
      ctx.out.result({ dir, roots, models }, listing(roots, models));
    } else if (verb === 'import') {
      const { values, positionals } = parse(rest, { dir: { type: 'string' }, kind: { type: 'string' } }, 1);
      const dir = resolveModelsDir(ctx.env, { flag: values.dir, cwd: ctx.cwd, warn: warnTo(ctx) });
      const entry = importModel(resolveIn(ctx, positionals[0]!), dir, kindOption(values.kind));
      ctx.out.result({ ...entry }, `imported ${entry.kind} ${entry.name} → ${entry.path}`);
    } else if (verb === 'download') {
      const { values } = parse(rest, { dir: { type: 'string' }, annotators: { type: 'boolean' } }, 0);
      const dir = resolveModelsDir(ctx.env, { flag: values.dir, cwd: ctx.cwd, warn: warnTo(ctx) });
      const results = [];
      for (const model of values.annotators ? [...DEFAULT_MODELS, ...ANNOTATOR_MODELS] : DEFAULT_MODELS) {
        ctx.out.info(`${model.kind} ${model.repo} (${hubEndpoint(ctx.env)})`);
        let tracker: ProgressTracker | null = null;
        const r = await fetchHubModel(model, dir, ctx.env, {
          signal: ctx.signal,
          onWarning: warnTo(ctx),
          onProgress: (p) => {
            // Megabytes as the unit, so the bar and ETA read naturally for multi-GB files.
            const total = Math.ceil((p.total ?? p.done) / MB);
            if (tracker === null || tracker.total !== total) tracker = new ProgressTracker({ stage: `download ${p.file}`, total, alreadyDone: Math.floor(p.done / MB), onProgress: (x) => ctx.out.progress(x) });
            const mb = Math.floor(p.done / MB);
            if (mb > tracker.done) tracker.advance(mb - tracker.done);
          },
        });
        results.push({ kind: model.kind, path: r.path, source: r.source, verified: r.verified });
      }
      ctx.out.result(
        { dir, models: results },
        results.map((r) => `${r.kind.padEnd(10)} ${r.path}  (${r.source}${r.source === 'present' ? '' : r.verified ? ', sha256 checked' : ', not checked'})`).join('\n'),
      );
    } else {
      throw new UsageError(verb === undefined ? 'say list, import or download' : `unknown models command '${verb}'`);
    }
  },
};

const resolveIn = (ctx: CliContext, p: string): string => path.resolve(ctx.cwd, p);
