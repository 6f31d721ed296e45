// LoRA files (kohya `lora_unet_*`/`lora_te_*`, with diffusers or LDM module names; diffusers/peft
// `lora_A`/`lora_B`) mapped onto canonical weight names and merged in memory:
// W' = W + Σ weight · scale · (up @ down), scale = alpha / rank (1 when the file has no alpha).
import nodePath from 'node:path';
import { readTensorFloat32, numel, type TensorInfo } from './safetensors.ts';
import { readWeightsIndex } from './tensor-file.ts';
import { assertNotPickle, type LazyTensor, type TensorMap } from './checkpoint.ts';
import { ldmUnetKeyToDiffusers } from './ldm-keys.ts';
import { CodedError } from '../../errors.ts';

export type LoraComponent = 'unet' | 'textEncoder';

export class LoraError extends CodedError<'BAD_MODEL'> {
  constructor(message: string) {
    super('BAD_MODEL', message);
  }
}

export interface LoraPair {
  readonly component: LoraComponent;
  /** Canonical weight name, e.g. `down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight`. */
  readonly target: string;
  readonly rank: number;
  readonly alpha: number | null;
  readonly down: TensorInfo;
  readonly up: TensorInfo;
}

export interface ParsedLora {
  readonly path: string;
  readonly pairs: readonly LoraPair[];
  /** Modules of the file that match no weight of the model (reported, not fatal). */
  readonly unmatched: readonly string[];
}

export interface CanonicalNames {
  readonly unet: Iterable<string>;
  readonly textEncoder: Iterable<string>;
}

const LDM_RESNET: Record<string, string> = {
  in_layers_0: 'in_layers.0',
  in_layers_2: 'in_layers.2',
  emb_layers_1: 'emb_layers.1',
  out_layers_0: 'out_layers.0',
  out_layers_3: 'out_layers.3',
  skip_connection: 'skip_connection',
};

/** `input_blocks_1_1_transformer_blocks_0_attn1_to_q` -> `down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q`. */
function ldmKohyaToDiffusersKohya(name: string, layersPerBlock: number): string | null {
  let head: string;
  let rest: string;
  let m = /^(input_blocks|output_blocks)_(\d+)_(\d+)_(.+)$/.exec(name);
  if (m) {
    head = `${m[1]!}.${m[2]!}.${m[3]!}`;
    rest = m[4]!;
  } else if ((m = /^middle_block_(\d+)_(.+)$/.exec(name))) {
    head = `middle_block.${m[1]!}`;
    rest = m[2]!;
  } else if ((m = /^(time_embed|out)_(\d+)$/.exec(name))) {
    head = `${m[1]!}.${m[2]!}`;
    rest = '';
  } else if (name === 'input_blocks_0_0') {
    head = 'input_blocks.0.0';
    rest = '';
  } else {
    return null;
  }
  const ldmKey = [head, LDM_RESNET[rest] ?? rest, 'weight'].filter((s) => s !== '').join('.');
  const d = ldmUnetKeyToDiffusers(ldmKey, { layersPerBlock });
  return d === null ? null : d.slice(0, -'.weight'.length).replace(/\./g, '_');
}

function layersPerBlockOf(unetNames: readonly string[]): number {
  let n = 0;
  for (const k of unetNames) {
    const m = /^down_blocks\.0\.resnets\.(\d+)\./.exec(k);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n || 2;
}

interface Slot {
  down?: TensorInfo;
  up?: TensorInfo;
  alpha?: TensorInfo;
}

/** Splits a LoRA key into (module id, role). Module ids keep the file's own style. */
function splitKey(key: string): { module: string; role: 'down' | 'up' | 'alpha' } | null {
  const patterns: readonly (readonly [RegExp, 'down' | 'up' | 'alpha'])[] = [
    [/^(.*)\.lora_down\.weight$/, 'down'],
    [/^(.*)\.lora_up\.weight$/, 'up'],
    [/^(.*)\.lora_A(?:\.default)?\.weight$/, 'down'],
    [/^(.*)\.lora_B(?:\.default)?\.weight$/, 'up'],
    [/^(.*)\.lora(?:_linear_layer)?\.down\.weight$/, 'down'],
    [/^(.*)\.lora(?:_linear_layer)?\.up\.weight$/, 'up'],
    [/^(.*)_lora\.down\.weight$/, 'down'],
    [/^(.*)_lora\.up\.weight$/, 'up'],
    [/^(.*)\.alpha$/, 'alpha'],
  ];
  for (const [re, role] of patterns) {
    const m = re.exec(key);
    if (m) return { module: m[1]!, role };
  }
  return null;
}

/** Old diffusers attention-processor LoRA names: `attn1.processor.to_q` -> `attn1.to_q`. */
function normalizeDiffusersModule(module: string): string {
  return module.replace(/\.processor\.(to_[qkv])$/, '.$1').replace(/\.processor\.to_out$/, '.to_out.0');
}

export function parseLora(path: string, names: CanonicalNames): ParsedLora {
  assertNotPickle(path);
  const header = readWeightsIndex(path);
  const unetNames = [...names.unet];
  const teNames = [...names.textEncoder];
  const byKohya = new Map<string, [LoraComponent, string]>();
  const byModule = new Map<string, [LoraComponent, string]>();
  for (const [comp, list, prefix] of [['unet', unetNames, 'lora_unet_'], ['textEncoder', teNames, 'lora_te_']] as const) {
    for (const k of list) {
      if (!k.endsWith('.weight')) continue;
      const module = k.slice(0, -'.weight'.length);
      byKohya.set(prefix + module.replace(/\./g, '_'), [comp, k]);
      byModule.set((comp === 'unet' ? 'unet.' : 'text_encoder.') + module, [comp, k]);
    }
  }
  const lpb = layersPerBlockOf(unetNames);
  const resolve = (module: string): [LoraComponent, string] | undefined => {
    if (module.startsWith('lora_unet_') || module.startsWith('lora_te_')) {
      const hit = byKohya.get(module);
      if (hit || !module.startsWith('lora_unet_')) return hit;
      const d = ldmKohyaToDiffusersKohya(module.slice('lora_unet_'.length), lpb);
      return d === null ? undefined : byKohya.get('lora_unet_' + d);
    }
    let m = normalizeDiffusersModule(module.replace(/^base_model\.model\./, ''));
    if (m.startsWith('text_encoder.') && !m.startsWith('text_encoder.text_model.')) m = 'text_encoder.text_model.' + m.slice('text_encoder.'.length);
    return byModule.get(m) ?? byModule.get('unet.' + m) ?? byModule.get('text_encoder.' + m);
  };

  const slots = new Map<string, Slot>();
  const unmatched: string[] = [];
  for (const info of header.tensors.values()) {
    const s = splitKey(info.name);
    if (!s) {
      unmatched.push(info.name);
      continue;
    }
    const slot = slots.get(s.module) ?? {};
    slot[s.role] = info;
    slots.set(s.module, slot);
  }
  const pairs: LoraPair[] = [];
  for (const [module, slot] of slots) {
    if (!slot.down || !slot.up) {
      if (slot.down || slot.up) unmatched.push(module);
      continue;
    }
    const target = resolve(module);
    if (!target) {
      unmatched.push(module);
      continue;
    }
    const rank = slot.down.shape[0]!;
    if (slot.up.shape[1] !== rank) throw new LoraError(`${nodePath.basename(path)}: ${module}: up ${JSON.stringify(slot.up.shape)} does not match down ${JSON.stringify(slot.down.shape)}`);
    const alpha = slot.alpha ? readTensorFloat32(path, slot.alpha, { allowInteger: true })[0]! : null; // an integer alpha is a valid scalar
    pairs.push({ component: target[0], target: target[1], rank, alpha, down: slot.down, up: slot.up });
  }
  return { path, pairs, unmatched };
}

export interface LoraApplication {
  readonly lora: ParsedLora;
  /** User strength, e.g. 0.7. */
  readonly weight: number;
}

/**
 * Returns `base` with every LoRA-targeted tensor replaced by a lazily merged one; untouched
 * tensors are the same objects. Files are never modified.
 */
export function applyLoras(base: TensorMap, component: LoraComponent, apps: readonly LoraApplication[]): TensorMap {
  const byTarget = new Map<string, { app: LoraApplication; pair: LoraPair }[]>();
  for (const app of apps) {
    for (const pair of app.lora.pairs) {
      if (pair.component !== component) continue;
      const t = base.get(pair.target);
      if (!t) throw new LoraError(`${nodePath.basename(app.lora.path)}: the model has no weight ${pair.target}`);
      const outF = t.shape[0]!;
      const inF = numel(t.shape) / outF;
      if (pair.up.shape[0] !== outF || numel(pair.down.shape) / pair.rank !== inF) {
        throw new LoraError(`${nodePath.basename(app.lora.path)}: LoRA for ${pair.target} has shapes up ${JSON.stringify(pair.up.shape)}, down ${JSON.stringify(pair.down.shape)}, which do not fit the weight ${JSON.stringify(t.shape)} (a LoRA for another model?)`);
      }
      const list = byTarget.get(pair.target) ?? [];
      list.push({ app, pair });
      byTarget.set(pair.target, list);
    }
  }
  const out = new Map(base);
  for (const [target, list] of byTarget) {
    const t = base.get(target)!;
    const merged: LazyTensor = {
      dtype: 'F32',
      shape: t.shape,
      source: `${t.source} + ${list.length} LoRA`,
      read: () => mergeOne(t, list),
    };
    out.set(target, merged);
  }
  return out;
}

function mergeOne(t: LazyTensor, list: readonly { app: LoraApplication; pair: LoraPair }[]): Float32Array {
  const w = t.read();
  const outF = t.shape[0]!;
  const inF = w.length / outF;
  const acc = Float64Array.from(w);
  for (const { app, pair } of list) {
    const up = readTensorFloat32(app.lora.path, pair.up);
    const down = readTensorFloat32(app.lora.path, pair.down);
    const r = pair.rank;
    const scale = app.weight * (pair.alpha === null ? 1 : pair.alpha / r);
    // up is [out, r] (or [out, r, 1, 1]); down is [r, in] or [r, in, kh, kw] flattened to [r, in·kh·kw]
    for (let o = 0; o < outF; o++) {
      const row = o * inF;
      for (let k = 0; k < r; k++) {
        const u = up[o * r + k]! * scale;
        if (u === 0) continue;
        const drow = k * inF;
        for (let j = 0; j < inF; j++) acc[row + j] = acc[row + j]! + u * down[drow + j]!;
      }
    }
  }
  return Float32Array.from(acc);
}
