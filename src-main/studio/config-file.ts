// Loading a config file in the editor: an official Rerender_A_Video config/*.json (or ours) read
// into a project-settings patch, plus a plain line for each part the project cannot take (its
// file paths, key-frame interval, crop, run-only switches). Nothing is applied here: the editor
// shows the change and applies the patch with one updateSettings, so it is one undo step.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigFileResult } from '../api/contract.ts';
import { CodedError } from '../errors.ts';
import { applySettingsPatch, defaultSettings } from '../project/settings.ts';
import { projectConfigOf, type ProjectConfig } from './translate.ts';

export type ConfigFileErrorCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'TOO_LARGE' | 'INVALID_CONFIG' | 'INVALID_SETTINGS';
export class ConfigFileError extends CodedError<ConfigFileErrorCode> {}

/** Official configs are well under 2 KB; anything this big is not one. */
export const MAX_CONFIG_BYTES = 1 << 20;

export async function readConfigFile(file: string): Promise<ConfigFileResult> {
  if (!path.isAbsolute(file)) throw new ConfigFileError('INVALID_ARGUMENT', `'${file}' is not an absolute path.`);
  if (path.extname(file).toLowerCase() !== '.json') throw new ConfigFileError('INVALID_ARGUMENT', 'A config is a .json file.');
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw new ConfigFileError('NOT_FOUND', `'${file}' does not exist.`);
  if (info.size > MAX_CONFIG_BYTES) throw new ConfigFileError('TOO_LARGE', 'This file is too large to be a Rerender config.');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new ConfigFileError('INVALID_CONFIG', 'This file is not valid JSON.');
  }
  return { path: file, name: path.basename(file, path.extname(file)), ...describeConfig(json) };
}

/** The settings patch of a parsed config, the settings it sets and what it leaves out. */
export function describeConfig(json: unknown): Pick<ConfigFileResult, 'settings' | 'applied' | 'ignored'> {
  let cfg: ProjectConfig;
  try {
    cfg = projectConfigOf(json);
    // Out-of-range values fail here, before the artist is asked to apply them.
    applySettingsPatch(defaultSettings(), cfg.settings);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new ConfigFileError('INVALID_SETTINGS', `This config cannot be used: ${message}`, { cause: e });
  }
  return { settings: cfg.settings as Record<string, unknown>, applied: leafPaths(cfg.settings), ignored: ignoredLines(cfg) };
}

function leafPaths(o: object, prefix: string[] = []): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    const p = [...prefix, k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(...leafPaths(v as object, p));
    else out.push(p.join('.'));
  }
  return out;
}

/** The run-only parts of a config (RerenderConfig keys project settings have no place for), in words. */
const OVERLAY_WORDS: Record<string, string> = {
  crossFrame: 'Switching the style lock off',
  shapeFusion: 'Switching shape following off',
  pixelFusion: 'Pixel-pull edge smoothing',
  adain: 'Switching colour matching off',
  contextPrecision: 'Style memory precision',
  vaeEncode: 'How source frames are encoded',
  maskFeather: 'Mask edge feather',
};

function ignoredLines({ job, overlay, warnings }: ProjectConfig): string[] {
  const out: string[] = [];
  if (job.input !== undefined || job.output !== undefined || job.workDir !== undefined) {
    out.push('Its file paths (input, output, work folder): the project keeps its own video and files.');
  }
  if (job.frameCount !== undefined) out.push(`Frame count ${job.frameCount}: the project uses its whole video.`);
  if (job.interval !== undefined) out.push(`A key frame every ${job.interval} frames: key frames are placed on the timeline.`);
  if (job.imageResolution !== undefined) out.push(`Working size ${job.imageResolution} px: chosen when a project is created.`);
  if (job.crop !== undefined) out.push(`Crop ${job.crop.join(', ')} px: chosen when a project is created.`);
  if (job.model !== undefined) out.push(`Model file ${job.model}: choose the checkpoint under Models.`);
  if (overlay.x0Strength !== undefined) out.push('Start from pure noise: the project keeps its strength (100% is the nearest).');
  for (const k of Object.keys(overlay)) {
    if (k !== 'x0Strength') out.push(`${OVERLAY_WORDS[k] ?? k}: used by command-line runs only.`);
  }
  // The mapper's own notes, less the model one said above in the editor's words.
  for (const w of warnings) {
    if (w.startsWith('sd_model ')) continue;
    const noEffect = /^(\S+) has no effect here$/.exec(w)?.[1];
    const unknown = /^unknown key (\S+) ignored$/.exec(w)?.[1];
    if (noEffect) out.push(`${noEffect}: not needed here.`);
    else if (unknown) out.push(`${unknown}: not a setting Rerender knows.`);
    else out.push(w.charAt(0).toUpperCase() + w.slice(1) + '.');
  }
  return out;
}
