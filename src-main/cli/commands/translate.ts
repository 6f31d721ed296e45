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
import { tools, withProject } from './project-io.ts';

export const PROVIDERS: readonly ProviderSetting[] = ['auto', 'cuda', 'webgpu', 'cpu'];

/** Options `translate` and `run` share. */
export const MODEL_OPTIONS = {
  config: { type: 'string' },
  model: { type: 'string' },
  controlnet: { type: 'string' },
  lora: { type: 'string', multiple: true },
  prompt: { type: 'string' },
  negative: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  provider: { type: 'string' },
  precision: { type: 'string' },
  cache: { type: 'string' },
} as const;

export const MODEL_USAGE = `  --config FILE        an official Rerender_A_Video JSON config (or ours); see src-main/rerender/CONFIG.md
  --model PATH         SD 1.5 checkpoint: a .safetensors file or a diffusers folder (saved in the project)
  --controlnet PATH    Canny ControlNet: a .safetensors file or a diffusers folder (saved in the project)
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
  controlnet?: string | undefined;
  lora?: string[] | undefined;
  prompt?: string | undefined;
  negative?: string | undefined;
  seed?: string | undefined;
  steps?: string | undefined;
  provider?: string | undefined;
  precision?: string | undefined;
  cache?: string | undefined;
}

export function loraOption(value: string): LoraSpec {
  // The weight follows the last ':' (paths may hold ':' themselves, e.g. C:\...).
  const at = value.lastIndexOf(':');
  const tail = at > 0 ? value.slice(at + 1) : '';
  if (at > 0 && /^-?\d*\.?\d+$/.test(tail)) return { path: value.slice(0, at), weight: Number(tail) };
  return { path: value, weight: 1 };
}

/** The project settings the command line sets (paths made absolute). */
export function settingsFromOptions(ctx: CliContext, v: ModelValues): SettingsPatch {
  const patch: SettingsPatch = {};
  if (v.model !== undefined) patch.model = path.resolve(ctx.cwd, v.model);
  if (v.controlnet !== undefined) patch.controlnetModel = path.resolve(ctx.cwd, v.controlnet);
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
  return parts.join(', ');
}

export const translateCommand: Command = {
  name: 'translate',
  summary: 'translate the key frames with Stable Diffusion 1.5 + ControlNet (Rerender stage 1)',
  usage: `Usage: rerender translate <project.rrproj> [--frames 0,10] [--config c.json] [--model PATH] [--controlnet PATH] [options]

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
      if (Object.keys(patch).length > 0) p.updateSettings(patch);
      const r = await translateProject(p, { ...(frames ? { frames } : {}), ...(config !== undefined ? { config } : {}) }, { tools: t, ...engine });
      ctx.out.result(
        {
          keyframes: r.keyframes, translated: r.translated, upToDate: r.upToDate, kept: r.kept,
          provider: r.provider, floatType: r.floatType, notes: r.notes, contextBytes: r.contextBytes, contextDeviceBytes: r.contextDeviceBytes, warnings: r.warnings,
        },
        translateSummary(r),
      );
    });
  },
};
