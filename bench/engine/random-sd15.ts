// Random-weight Stable Diffusion 1.5 components (UNet, ControlNet, VAE, CLIP text
// encoder) at any widths: the diffusers weight names and shapes a config implies,
// filled lazily with seeded values. For timing full-size graphs without a download.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WeightTensor } from '../../src-main/engine/graph/builder.ts';
import type { ModelSource } from '../../src-main/engine/graph/compile.ts';
import { MissingWeightError } from '../../src-main/engine/graph/tensor-source.ts';
import { writeFloatSafetensors } from './weights-file.ts';

export type Shapes = Map<string, number[]>;
type Json = Record<string, unknown>;

function add(s: Shapes, prefix: string, shape: number[], bias = true): void {
  s.set(`${prefix}.weight`, shape);
  if (bias) s.set(`${prefix}.bias`, [shape[0]!]);
}

const norm = (s: Shapes, p: string, c: number): void => add(s, p, [c]);
const conv = (s: Shapes, p: string, out: number, inC: number, k = 3): void => add(s, p, [out, inC, k, k]);
const linear = (s: Shapes, p: string, out: number, inC: number, bias = true): void => add(s, p, [out, inC], bias);

function resnet(s: Shapes, p: string, inC: number, out: number, temb: number | null): void {
  norm(s, `${p}.norm1`, inC);
  conv(s, `${p}.conv1`, out, inC);
  if (temb !== null) linear(s, `${p}.time_emb_proj`, out, temb);
  norm(s, `${p}.norm2`, out);
  conv(s, `${p}.conv2`, out, out);
  if (inC !== out) conv(s, `${p}.conv_shortcut`, out, inC, 1);
}

function transformer(s: Shapes, p: string, c: number, cross: number): void {
  norm(s, `${p}.norm`, c);
  conv(s, `${p}.proj_in`, c, c, 1);
  const b = `${p}.transformer_blocks.0`;
  for (const n of ['norm1', 'norm2', 'norm3']) norm(s, `${b}.${n}`, c);
  for (const [attn, kv] of [['attn1', c], ['attn2', cross]] as const) {
    linear(s, `${b}.${attn}.to_q`, c, c, false);
    linear(s, `${b}.${attn}.to_k`, c, kv, false);
    linear(s, `${b}.${attn}.to_v`, c, kv, false);
    linear(s, `${b}.${attn}.to_out.0`, c, c);
  }
  linear(s, `${b}.ff.net.0.proj`, 8 * c, c);
  linear(s, `${b}.ff.net.2`, c, 4 * c);
  conv(s, `${p}.proj_out`, c, c, 1);
}

interface UNetShape {
  ch: number[];
  layers: number;
  cross: number;
}

function downAndMid(s: Shapes, u: UNetShape): { temb: number; skips: number[] } {
  const temb = 4 * u.ch[0]!;
  conv(s, 'conv_in', u.ch[0]!, 4);
  linear(s, 'time_embedding.linear_1', temb, u.ch[0]!);
  linear(s, 'time_embedding.linear_2', temb, temb);
  const skips = [u.ch[0]!];
  let prev = u.ch[0]!;
  u.ch.forEach((out, i) => {
    const last = i === u.ch.length - 1;
    for (let l = 0; l < u.layers; l++) {
      resnet(s, `down_blocks.${i}.resnets.${l}`, l === 0 ? prev : out, out, temb);
      if (!last) transformer(s, `down_blocks.${i}.attentions.${l}`, out, u.cross);
      skips.push(out);
    }
    if (!last) {
      conv(s, `down_blocks.${i}.downsamplers.0.conv`, out, out);
      skips.push(out);
    }
    prev = out;
  });
  const top = u.ch[u.ch.length - 1]!;
  resnet(s, 'mid_block.resnets.0', top, top, temb);
  transformer(s, 'mid_block.attentions.0', top, u.cross);
  resnet(s, 'mid_block.resnets.1', top, top, temb);
  return { temb, skips };
}

export function unetShapes(u: UNetShape): Shapes {
  const s: Shapes = new Map();
  const { temb } = downAndMid(s, u);
  const rev = [...u.ch].reverse();
  rev.forEach((out, i) => {
    const prevOut = rev[Math.max(i - 1, 0)]!;
    const inC = rev[Math.min(i + 1, rev.length - 1)]!;
    for (let l = 0; l <= u.layers; l++) {
      const skip = l === u.layers ? inC : out;
      resnet(s, `up_blocks.${i}.resnets.${l}`, (l === 0 ? prevOut : out) + skip, out, temb);
      if (i > 0) transformer(s, `up_blocks.${i}.attentions.${l}`, out, u.cross);
    }
    if (i < rev.length - 1) conv(s, `up_blocks.${i}.upsamplers.0.conv`, out, out);
  });
  norm(s, 'conv_norm_out', u.ch[0]!);
  conv(s, 'conv_out', 4, u.ch[0]!);
  return s;
}

export function controlNetShapes(u: UNetShape, cond: number[]): Shapes {
  const s: Shapes = new Map();
  const { skips } = downAndMid(s, u);
  conv(s, 'controlnet_cond_embedding.conv_in', cond[0]!, 3);
  for (let i = 0; i < cond.length - 1; i++) {
    conv(s, `controlnet_cond_embedding.blocks.${2 * i}`, cond[i]!, cond[i]!);
    conv(s, `controlnet_cond_embedding.blocks.${2 * i + 1}`, cond[i + 1]!, cond[i]!);
  }
  conv(s, 'controlnet_cond_embedding.conv_out', u.ch[0]!, cond[cond.length - 1]!);
  skips.forEach((c, i) => conv(s, `controlnet_down_blocks.${i}`, c, c, 1));
  const top = u.ch[u.ch.length - 1]!;
  conv(s, 'controlnet_mid_block', top, top, 1);
  return s;
}

export function vaeShapes(ch: number[], layers: number): Shapes {
  const s: Shapes = new Map();
  const top = ch[ch.length - 1]!;
  const mid = (p: string): void => {
    resnet(s, `${p}.mid_block.resnets.0`, top, top, null);
    norm(s, `${p}.mid_block.attentions.0.group_norm`, top);
    for (const n of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(s, `${p}.mid_block.attentions.0.${n}`, top, top);
    resnet(s, `${p}.mid_block.resnets.1`, top, top, null);
  };
  conv(s, 'encoder.conv_in', ch[0]!, 3);
  let prev = ch[0]!;
  ch.forEach((out, i) => {
    for (let l = 0; l < layers; l++) resnet(s, `encoder.down_blocks.${i}.resnets.${l}`, l === 0 ? prev : out, out, null);
    if (i < ch.length - 1) conv(s, `encoder.down_blocks.${i}.downsamplers.0.conv`, out, out);
    prev = out;
  });
  mid('encoder');
  norm(s, 'encoder.conv_norm_out', top);
  conv(s, 'encoder.conv_out', 8, top);
  conv(s, 'quant_conv', 8, 8, 1);
  conv(s, 'post_quant_conv', 4, 4, 1);
  conv(s, 'decoder.conv_in', top, 4);
  mid('decoder');
  const rev = [...ch].reverse();
  prev = top;
  rev.forEach((out, i) => {
    for (let l = 0; l <= layers; l++) resnet(s, `decoder.up_blocks.${i}.resnets.${l}`, l === 0 ? prev : out, out, null);
    if (i < rev.length - 1) conv(s, `decoder.up_blocks.${i}.upsamplers.0.conv`, out, out);
    prev = out;
  });
  norm(s, 'decoder.conv_norm_out', ch[0]!);
  conv(s, 'decoder.conv_out', 3, ch[0]!);
  return s;
}

export function clipTextShapes(hidden: number, layers: number, intermediate: number, vocab: number, positions = 77): Shapes {
  const s: Shapes = new Map();
  s.set('text_model.embeddings.token_embedding.weight', [vocab, hidden]);
  s.set('text_model.embeddings.position_embedding.weight', [positions, hidden]);
  for (let i = 0; i < layers; i++) {
    const p = `text_model.encoder.layers.${i}`;
    norm(s, `${p}.layer_norm1`, hidden);
    norm(s, `${p}.layer_norm2`, hidden);
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) linear(s, `${p}.self_attn.${n}`, hidden, hidden);
    linear(s, `${p}.mlp.fc1`, intermediate, hidden);
    linear(s, `${p}.mlp.fc2`, hidden, intermediate);
  }
  norm(s, 'text_model.final_layer_norm', hidden);
  return s;
}

/** Seeded values: norm scales ≈ 1, biases small, weights ~ U·(1/√fan_in) (keeps activations finite). */
function randomTensor(name: string, shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296 - 0.5;
  };
  if (shape.length === 1) {
    const isScale = /(norm\w*|layer_norm\d?|group_norm)\.weight$/.test(name);
    for (let i = 0; i < n; i++) out[i] = isScale ? 1 + 0.1 * next() : 0.05 * next();
    return out;
  }
  const fanIn = n / shape[0]!;
  const scale = (2 * Math.sqrt(3)) / Math.sqrt(fanIn); // uniform with variance 1/fan_in
  for (let i = 0; i < n; i++) out[i] = next() * scale;
  return out;
}

function hash(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function randomSource(shapes: Shapes, config: Json, identity: string): ModelSource {
  return {
    config,
    identity,
    weights: {
      count: shapes.size,
      has: (name) => shapes.has(name),
      get: (name): WeightTensor => {
        const shape = shapes.get(name);
        if (!shape) throw new MissingWeightError(name, identity);
        return { dims: shape, data: randomTensor(name, shape, hash(name)) };
      },
    },
  };
}

export function parameterCount(shapes: Shapes): number {
  let n = 0;
  for (const s of shapes.values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** The full-size SD 1.5 components: UNet 320/640/1280/1280 with 768-wide cross-attention, CLIP-L, the VAE and a ControlNet. */
export function sd15Shapes(): { unet: Shapes; text: Shapes; vae: Shapes; controlnet: Shapes } {
  const u = { ch: [320, 640, 1280, 1280], layers: 2, cross: 768 };
  return {
    unet: unetShapes(u),
    text: clipTextShapes(768, 12, 3072, 49408),
    vae: vaeShapes([128, 256, 512, 512], 2),
    controlnet: controlNetShapes(u, [16, 32, 96, 256]),
  };
}

/**
 * A diffusers component folder (`file` + config.json) of random weights, streamed one tensor at a
 * time. config.json is written last, so a folder that has it is finished and is kept as it is.
 */
export function writeRandomComponent(dir: string, file: string, shapes: Shapes, config: Json, identity: string, dtype: 'F32' | 'F16'): string {
  if (existsSync(join(dir, 'config.json'))) return dir;
  mkdirSync(dir, { recursive: true });
  const source = randomSource(shapes, config, identity);
  const path = join(dir, file);
  writeFloatSafetensors(`${path}.tmp`, { shapes, get: (n) => source.weights.get(n).data }, dtype);
  renameSync(`${path}.tmp`, path);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 1));
  return dir;
}
