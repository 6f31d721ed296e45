// `rerender translate`: stage 1 alone, the project's key frames translated with SD 1.5 +
// ControlNet under Rerender's cross-frame constraints. Model paths, LoRAs and the prompt given
// here are saved into the project first, so the editor and later runs use the same.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CliContext, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import type { LoraSpec } from '../../engine/pipeline/index.ts';
import type { ProviderSetting } from '../../engine/runtime/providers.ts';
import type { SettingsPatch } from '../../project/index.ts';
import { translateProject, type TranslateProjectResult } from '../../studio/translate.ts';
import { CodedError } from '../../errors.ts';
import type { Progress } from '../../jobs/progress.ts';
import { intOption, parse, precisionOption } from './args.ts';
import { controlTypeOf, resolveModelsDir } from '../../engine/weights/model-roots.ts';
import { findProjectModels } from '../../studio/models.ts';
import { CONTROL_KINDS, MAX_EXTRA_CONTROLNETS, type ControlKind } from '../../project/settings.ts';
import { controlnetOption } from './generate.ts';
import { tools, withProject } from './project-io.ts';

/** The settings' range of a ControlNet scale. */
const MAX_CONTROL_SCALE = 2;

export const PROVIDERS: readonly ProviderSetting[] = ['auto', 'cuda', 'webgpu', 'cpu'];

/** Options `translate` and `run` share. */
export const MODEL_OPTIONS = {
  config: { type: 'string' },
  model: { type: 'string' },
  controlnet: { type: 'string', multiple: true },
  lora: { type: 'string', multiple: true },
  prompt: { type: 'string' },
  negative: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  provider: { type: 'string' },
  precision: { type: 'string' },
  cache: { type: 'string' },
  'models-from': { type: 'string', multiple: true },
} as const;

export const MODEL_USAGE = `  --config FILE        an official Rerender_A_Video JSON config (or ours); see src-main/rerender/CONFIG.md
  --model PATH         SD 1.5 checkpoint: a .safetensors file or a diffusers folder (saved in the project;
                       default for a project without one: the first of \`rerender models list\`)
  --controlnet PATH[:TYPE[:SCALE]]
                       a ControlNet: a .safetensors file or a diffusers folder (saved in the project;
                       default likewise: the first ControlNet named for the control type, e.g. *canny*).
                       TYPE is the map it gets of each key frame: canny (default; the project's
                       thresholds), hed or softedge (HED), depth (Depth Anything), raw (the frame
                       itself); absent, the one its name says, else the project's (canny for the
                       2nd…). HED and depth need their weights in <models folder>/annotators/.
                       SCALE: conditioning scale 0..2 (default: the project's, 1 for the 2nd…).
                       Repeat for several ControlNets (their effects add up); the list replaces
                       the project's
  --models-from DIR    also look for models in DIR (A1111/Forge, ComfyUI, a huggingface_hub cache), used in
                       place; repeatable (RERENDER_MODEL_ROOTS adds more)
  --lora PATH:WEIGHT   a LoRA merged at WEIGHT (default 1); repeatable; replaces the project's LoRAs
  --prompt TEXT        the prompt (saved in the project; key frames may override it)
  --negative TEXT      the negative prompt (saved)
  --seed N --steps N   noise seed and DDIM steps (saved)
  --provider P         auto|cuda|webgpu|cpu (default auto: cuda, then webgpu, then cpu)
  --precision P        auto|fp16|fp32 (default: the project's, else auto: fp16 where the GPU supports it, else fp32)
  --cache DIR          compiled-graph cache (default: <project>.rrproj.cache/engine)`;

interface ModelValues {
  config?: string | undefined;
  model?: string | undefined;
  controlnet?: string[] | undefined;
  lora?: string[] | undefined;
  prompt?: string | undefined;
  negative?: string | undefined;
  seed?: string | undefined;
  steps?: string | undefined;
  provider?: string | undefined;
  precision?: string | undefined;
  cache?: string | undefined;
  'models-from'?: string[] | undefined;
}

export function loraOption(value: string): LoraSpec {
  // The weight follows the last ':' (paths may hold ':' themselves, e.g. C:\...).
  const at = value.lastIndexOf(':');
  const tail = at > 0 ? value.slice(at + 1) : '';
  if (at > 0 && /^-?\d*\.?\d+$/.test(tail)) return { path: value.slice(0, at), weight: Number(tail) };
  return { path: value, weight: 1 };
}

/** The control type a ControlNet's file or folder name says, when it is one a key frame's map can be made for. */
function namedKind(file: string): ControlKind | null {
  const base = path.basename(file);
  const said = controlTypeOf(base) ?? (/\.(safetensors|ckpt|pth|pt|bin)$/i.test(base) ? controlTypeOf(path.basename(path.dirname(file))) : null);
  return CONTROL_KINDS.includes(said as ControlKind) ? (said as ControlKind) : null;
}

/**
 * The repeated `--controlnet PATH[:TYPE[:SCALE]]`: the first is controlnetModel with
 * controlnet.kind/scale, the others extraControlnets (replacing the project's).
 */
export function controlnetsPatch(ctx: CliContext, values: readonly string[]): SettingsPatch {
  if (values.length > MAX_EXTRA_CONTROLNETS + 1) throw new UsageError(`--controlnet: at most ${MAX_EXTRA_CONTROLNETS + 1} ControlNets, got ${values.length}`);
  const parsed = values.map((value) => {
    const c = controlnetOption(value, ctx.cwd);
    if (c.type !== undefined && !CONTROL_KINDS.includes(c.type as ControlKind)) {
      throw new UsageError(`--controlnet ${value}: no ${c.type} map can be made of a key frame; TYPE must be one of ${CONTROL_KINDS.join(', ')}`);
    }
    if (c.scale !== undefined && c.scale > MAX_CONTROL_SCALE) throw new UsageError(`--controlnet ${value}: SCALE must be in [0, ${MAX_CONTROL_SCALE}]`);
    const file = path.resolve(ctx.cwd, c.path);
    return { path: file, kind: (c.type as ControlKind | undefined) ?? namedKind(c.path), scale: c.scale };
  });
  const [first, ...rest] = parsed;
  const controlnet: NonNullable<SettingsPatch['controlnet']> = {};
  if (first!.kind !== null) controlnet.kind = first!.kind;
  if (first!.scale !== undefined) controlnet.scale = first!.scale;
  return {
    controlnetModel: first!.path,
    ...(Object.keys(controlnet).length > 0 ? { controlnet } : {}),
    extraControlnets: rest.map((c) => ({ path: c.path, kind: c.kind ?? 'canny', scale: c.scale ?? 1 })),
  };
}

/** The project settings the command line sets (paths made absolute). */
export function settingsFromOptions(ctx: CliContext, v: ModelValues): SettingsPatch {
  const patch: SettingsPatch = {};
  if (v.model !== undefined) patch.model = path.resolve(ctx.cwd, v.model);
  if (v.controlnet !== undefined && v.controlnet.length > 0) Object.assign(patch, controlnetsPatch(ctx, v.controlnet));
  if (v.lora !== undefined) patch.loras = v.lora.map(loraOption).map((l) => ({ ...l, path: path.resolve(ctx.cwd, l.path) }));
  if (v.prompt !== undefined) patch.prompt = v.prompt;
  if (v.negative !== undefined) patch.negativePrompt = v.negative;
  const seed = intOption(v.seed, 'seed', 0);
  if (seed !== undefined) {
    if (seed > 0xffffffff) throw new UsageError('--seed must be at most 4294967295');
    patch.seed = seed;
  }
  const steps = intOption(v.steps, 'steps', 1);
  if (steps !== undefined) patch.steps = steps;
  return patch;
}

/**
 * For a project with no model or ControlNet set and none given: the ones `rerender models list`
 * finds first (the models folder, then --models-from, RERENDER_MODEL_ROOTS, the hub cache), the
 * ControlNet named for the config's control type (canny unless it says HED). Said on the terminal
 * and saved in the project like --model, so the editor and later runs use the same.
 */
export function foundModelsPatch(ctx: CliContext, v: ModelValues, current: { model: string | null; controlnetModel: string | null }, config?: unknown): SettingsPatch {
  const hed = typeof config === 'object' && config !== null && (config as { control_type?: unknown }).control_type === 'HED';
  const { patch, picked } = findProjectModels(ctx.env, current, {
    needModel: v.model === undefined,
    needControl: v.controlnet === undefined,
    modelsFrom: (v['models-from'] ?? []).map((d) => path.resolve(ctx.cwd, d)),
    cwd: ctx.cwd,
    hed,
    warn: (m) => ctx.out.warn(m),
  });
  for (const m of picked) ctx.out.info(`using ${m.kind} ${m.path} (found in ${m.root})`);
  return patch;
}

export function providerOption(value: string | undefined): ProviderSetting {
  const p = (value ?? 'auto') as ProviderSetting;
  if (!PROVIDERS.includes(p)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
  return p;
}

/**
 * What the commands that run the engine hand to the studio: cancel, progress and warnings to the
 * terminal, provider, precision, graph cache. The precision is there only when given, so that the
 * project's own choice applies otherwise; like the provider it is not saved into the project.
 */
export function engineDeps(ctx: CliContext, v: ModelValues) {
  const precision = precisionOption(v.precision);
  return {
    signal: ctx.signal,
    provider: providerOption(v.provider),
    ...(precision !== undefined ? { precision } : {}),
    onProgress: (x: Progress) => ctx.out.progress(x),
    onWarning: (m: string) => ctx.out.warn(m),
    ...(v.cache !== undefined ? { cacheDir: path.resolve(ctx.cwd, v.cache) } : {}),
    // Its annotators/ has the HED and depth preprocessors' weights.
    modelsDir: resolveModelsDir(ctx.env, { cwd: ctx.cwd }),
  };
}

/** The parsed JSON of --config; a file that is missing or not JSON is bad input. */
export function readConfig(ctx: CliContext, file: string | undefined): unknown {
  if (file === undefined) return undefined;
  const p = path.resolve(ctx.cwd, file);
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch {
    throw new CodedError('FILE_NOT_FOUND', `the config ${file} cannot be read`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CodedError('INVALID_SETTINGS', `the config ${file} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function framesOption(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`--frames needs key frames as a list '0,10,20', got '${value}'`);
  return parts.map(Number);
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 1)} MiB`;
}

export function translateSummary(r: TranslateProjectResult): string {
  const parts = [`translated ${r.translated.length} key frame(s)${r.translated.length ? ` (${r.translated.join(', ')})` : ''}`];
  if (r.upToDate.length) parts.push(`${r.upToDate.length} already up to date`);
  if (r.kept.length) parts.push(`${r.kept.length} artist-edited kept (${r.kept.join(', ')})`);
  if (r.provider) parts.push(`on ${r.device ?? `${r.provider} (${r.floatType})`}, peak context memory ${mib(r.contextBytes)}${r.contextDeviceBytes > 0 ? ` (${mib(r.contextDeviceBytes)} in GPU memory)` : ''}`);
  if (r.flowPairsPrepared > 0) parts.push(`optical flow of ${r.flowPairsPrepared} frame pair(s) computed for propagation meanwhile`);
  return parts.join(', ');
}

export const translateCommand: Command = {
  name: 'translate',
  summary: 'translate the key frames with Stable Diffusion 1.5 + ControlNet (Rerender stage 1)',
  usage: `Usage: rerender translate <project.rrproj> [--frames 0,10] [--config c.json] [--model PATH] [--controlnet PATH[:TYPE[:SCALE]]]… [options]

Translates the project's key frames in order: the first is the anchor, each later one follows the
anchor and the key frame before it (cross-frame attention, shape-, pixel- and colour-aware fusion).
Each key frame is stored as soon as it is made; key frames already translated with the same
parameters are skipped, so a cancelled run resumes. Artist-edited key frames are kept as they are
and guide the key frames after them. A painted mask limits a key frame's translation to its area.
  --frames LIST        only bring these key frames up to date (and those before them they depend on)
${MODEL_USAGE}`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, { ...MODEL_OPTIONS, frames: { type: 'string' } }, 1);
    const frames = framesOption(values.frames);
    const engine = engineDeps(ctx, values);
    const patch = settingsFromOptions(ctx, values);
    const config = readConfig(ctx, values.config);
    const t = await tools(ctx);
    await withProject(path.resolve(ctx.cwd, positionals[0]!), async (p) => {
      const all = { ...foundModelsPatch(ctx, values, p.settings(), config), ...patch };
      if (Object.keys(all).length > 0) p.updateSettings(all);
      const r = await translateProject(p, { ...(frames ? { frames } : {}), ...(config !== undefined ? { config } : {}) }, { tools: t, ...engine });
      ctx.out.result(
        {
          keyframes: r.keyframes, translated: r.translated, upToDate: r.upToDate, kept: r.kept,
          provider: r.provider, floatType: r.floatType, notes: r.notes, contextBytes: r.contextBytes, contextDeviceBytes: r.contextDeviceBytes, flowPairsPrepared: r.flowPairsPrepared, warnings: r.warnings,
        },
        translateSummary(r),
      );
    });
  },
};
