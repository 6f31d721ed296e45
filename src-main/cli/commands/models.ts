import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { importModel, listModels, type ModelKind } from '../../engine/weights/models-folder.ts';
import { DEFAULT_MODELS, defaultModelsDir, fetchHubModel, hubEndpoint } from '../../engine/weights/default-models.ts';
import { ProgressTracker } from '../../jobs/progress.ts';
import { parse } from './args.ts';

const KINDS: readonly ModelKind[] = ['checkpoint', 'controlnet', 'lora', 'vae'];

function kindOption(v: string | undefined): ModelKind | undefined {
  if (v === undefined) return undefined;
  if (!(KINDS as readonly string[]).includes(v)) throw new UsageError(`--kind must be one of ${KINDS.join(', ')}, got '${v}'`);
  return v as ModelKind;
}

const MB = 1024 * 1024;

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list, import or download models (SD 1.5 checkpoints, ControlNets, LoRAs, VAEs)',
  usage: `Usage: rerender models list [--dir DIR]
       rerender models import <file-or-folder> [--kind checkpoint|controlnet|lora|vae] [--dir DIR]
       rerender models download [--dir DIR]

  list      the models in the models folder
  import    copy a .safetensors file or a diffusers folder into the models folder, sorted by kind
            (pickled .ckpt/.pt files are refused: convert them to .safetensors)
  download  fetch the default pair (Stable Diffusion 1.5 and the canny ControlNet): copied from
            an existing huggingface_hub cache when it has them, else downloaded from the hub
            (HF_ENDPOINT) with resume; an interrupted download continues where it stopped
  --dir     the models folder (default: RERENDER_MODELS_DIR or ~/.rerender-studio/models)`,
  async run(ctx, argv) {
    const [verb, ...rest] = argv;
    if (verb === 'list') {
      const { values } = parse(rest, { dir: { type: 'string' } }, 0);
      const dir = values.dir ?? defaultModelsDir(ctx.env);
      const models = listModels(dir);
      ctx.out.result(
        { dir, models },
        models.length === 0
          ? `no models in ${dir} (rerender models download, or rerender models import <file>)`
          : models.map((m) => `${m.kind.padEnd(10)} ${m.name}  (${m.format}, ${(m.sizeBytes / MB).toFixed(1)} MB)`).join('\n'),
      );
    } else if (verb === 'import') {
      const { values, positionals } = parse(rest, { dir: { type: 'string' }, kind: { type: 'string' } }, 1);
      const entry = importModel(positionals[0]!, values.dir ?? defaultModelsDir(ctx.env), kindOption(values.kind));
      ctx.out.result({ ...entry }, `imported ${entry.kind} ${entry.name} → ${entry.path}`);
    } else if (verb === 'download') {
      const { values } = parse(rest, { dir: { type: 'string' } }, 0);
      const dir = values.dir ?? defaultModelsDir(ctx.env);
      const results = [];
      for (const model of DEFAULT_MODELS) {
        ctx.out.info(`${model.kind} ${model.repo} (${hubEndpoint(ctx.env)})`);
        let tracker: ProgressTracker | null = null;
        const r = await fetchHubModel(model, dir, ctx.env, {
          signal: ctx.signal,
          onProgress: (p) => {
            // Megabytes as the unit, so the bar and ETA read naturally for multi-GB files.
            const total = Math.ceil((p.total ?? p.done) / MB);
            if (tracker === null || tracker.total !== total) tracker = new ProgressTracker({ stage: `download ${p.file}`, total, alreadyDone: Math.floor(p.done / MB), onProgress: (x) => ctx.out.progress(x) });
            const mb = Math.floor(p.done / MB);
            if (mb > tracker.done) tracker.advance(mb - tracker.done);
          },
        });
        results.push({ kind: model.kind, path: r.path, source: r.source });
      }
      ctx.out.result({ dir, models: results }, results.map((r) => `${r.kind.padEnd(10)} ${r.path}  (${r.source})`).join('\n'));
    } else {
      throw new UsageError(verb === undefined ? 'say list, import or download' : `unknown models command '${verb}'`);
    }
  },
};
