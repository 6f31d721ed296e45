// The control maps of a key frame for the project's ControlNets. Each ControlNet's kind picks the
// preprocessor: Canny with the project's thresholds, HED for hed and softedge, depth, or the key
// frame itself (raw). HED and depth run in an inference host of their own, opened (and their
// weights checked) before the diffusion models load, so a missing file fails fast.
import path from 'node:path';
import { annotatorPreprocessor, loadCanny } from '../engine/control/index.ts';
import type { CannyFn, Preprocessor } from '../engine/control/index.ts';
import { controlFromRgb8 } from '../engine/pipeline/index.ts';
import type { ControlInput, ControlNetSpec, ControlType, Tensor } from '../engine/pipeline/index.ts';
import { InferenceHost } from '../engine/runtime/inference-host.ts';
import type { ProviderSetting } from '../engine/runtime/providers.ts';
import { controlTypeOf } from '../engine/weights/model-roots.ts';
import type { ProjectSettings } from '../project/index.ts';
import { CONTROL_KINDS, type ControlKind } from '../project/settings.ts';

// Every kind the settings hold is one the engine knows.
const _engineKinds: readonly ControlType[] = CONTROL_KINDS;
void _engineKinds;

/** One ControlNet of the project, in load order. */
export interface ProjectControlNet {
  path: string;
  kind: ControlKind;
  /** Conditioning scale; null for the first, whose scale is the translation config's controlScale. */
  scale: number | null;
}

/** `controlnetModel` (at `controlnet.kind`), then `extraControlnets`. */
export function projectControlNets(settings: Pick<ProjectSettings, 'controlnet' | 'extraControlnets'>, first: string): ProjectControlNet[] {
  return [{ path: first, kind: settings.controlnet.kind, scale: null }, ...settings.extraControlnets.map((e) => ({ path: e.path, kind: e.kind, scale: e.scale }))];
}

/** PipelineOptions.controlnet: a lone path for one ControlNet (as before), else the specs in order. */
export function pipelineControlNets(list: readonly ProjectControlNet[]): string | ControlNetSpec[] {
  if (list.length === 1) return list[0]!.path;
  return list.map((c) => ({ path: c.path, type: c.kind, ...(c.scale !== null ? { scale: c.scale } : {}) }));
}

/** Warnings for ControlNets whose file or folder name says another control type than they are given. */
export function kindWarnings(list: readonly ProjectControlNet[]): string[] {
  const out: string[] = [];
  for (const [i, c] of list.entries()) {
    const base = path.basename(c.path);
    const said = controlTypeOf(base) ?? (/\.(safetensors|ckpt|pth|pt|bin)$/i.test(base) ? controlTypeOf(path.basename(path.dirname(c.path))) : null);
    if (said === null || said === c.kind || sameMap(said, c.kind)) continue;
    const setting = i === 0 ? 'settings.controlnet.kind' : `settings.extraControlnets[${i - 1}].kind`;
    out.push(`the ControlNet ${c.path} looks like a ${said} ControlNet by its name, but it is given ${c.kind} maps (${setting})`);
  }
  return out;
}

/** HED's map serves hed and softedge ControlNets alike. */
function sameMap(a: string, b: string): boolean {
  const soft = (k: string): boolean => k === 'hed' || k === 'softedge';
  return soft(a) && soft(b);
}

/** Which preprocessor makes a kind's map. */
function mapOf(kind: ControlKind): 'canny' | 'hed' | 'depth' | 'raw' {
  return kind === 'softedge' ? 'hed' : kind;
}

export interface ControlMapOptions {
  width: number;
  height: number;
  canny: { low: number; high: number };
  /** The models folder; HED and depth weights are under its annotators/ (see engine/control/builtin.ts). */
  modelsDir: string;
  /** Compiled-graph cache for the annotators. */
  cacheDir: string;
  provider: ProviderSetting;
  intraOpThreads?: number;
  signal?: AbortSignal;
  /** Tests: the native Canny. */
  cannyFn?: CannyFn;
}

export interface ControlMaps {
  /** A key frame's control: a lone map for one ControlNet, else one input per ControlNet (the first without a scale). */
  of(rgb: Uint8Array): Promise<Tensor | ControlInput[]>;
  close(): Promise<void>;
}

/** Opens the preprocessors `list` needs (MODEL_MISSING, naming the file, when HED or depth weights are missing). */
export async function openControlMaps(list: readonly ProjectControlNet[], o: ControlMapOptions): Promise<ControlMaps> {
  const maps = [...new Set(list.map((c) => mapOf(c.kind)))];
  const canny = maps.includes('canny') ? (o.cannyFn ?? loadCanny()) : null;
  const annotators = new Map<'hed' | 'depth', Preprocessor>();
  let host: InferenceHost | null = null;
  try {
    for (const m of maps) {
      if (m !== 'hed' && m !== 'depth') continue;
      host ??= new InferenceHost({ provider: o.provider, ...(o.intraOpThreads !== undefined ? { intraOpThreads: o.intraOpThreads } : {}) });
      annotators.set(m, await annotatorPreprocessor(m, o.modelsDir, host, { cacheDir: o.cacheDir, ...(o.signal ? { signal: o.signal } : {}) }));
    }
  } catch (e) {
    await (host as InferenceHost | null)?.close().catch(() => undefined);
    throw e;
  }
  const { width, height } = o;
  return {
    async of(rgb) {
      const image = { data: rgb, width, height, channels: 3 as const };
      const made = new Map<string, Tensor>();
      for (const m of maps) {
        let bytes: Uint8Array;
        if (m === 'canny') bytes = (await canny!(image, o.canny, o.signal)).data;
        else if (m === 'raw') bytes = rgb;
        else bytes = (await annotators.get(m)!.run(image, o.signal)).data;
        made.set(m, controlFromRgb8(bytes, width, height));
      }
      if (list.length === 1) return made.get(mapOf(list[0]!.kind))!;
      return list.map((c) => ({ image: made.get(mapOf(c.kind))!, ...(c.scale !== null ? { scale: c.scale } : {}) }));
    },
    async close() {
      await (host as InferenceHost | null)?.close();
    },
  };
}
