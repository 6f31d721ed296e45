// config.json objects for single-file models, which carry none: SD 1.5's, with
// everything the weight shapes determine read from them (channels, depths, widths,
// projection kind, time embedding, latent channels, text encoder size).
// What shapes cannot tell, by rule:
// - UNet attention heads: SD 1.x's 8 per block; a UNet conditioned on 1024-wide contexts
//   (OpenCLIP ViT-H, the SD 2.x family) uses 64-wide heads (channels / 64) instead.
// - norm groups: 32 (SD's); a width 32 does not divide is refused when checked, asking for --config.
// - text encoder heads: hidden / 64 (CLIP ViT-L/14 and OpenCLIP ViT-H both use 64-wide heads).
// A given config (--config) overrides any of these, key by key.

type Json = Record<string, unknown>;

/** Shape of a canonical weight, or undefined when absent. */
export type ShapeOf = (name: string) => readonly number[] | undefined;

export const SD15_UNET_CONFIG: Json = {
  in_channels: 4,
  out_channels: 4,
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  cross_attention_dim: 768,
  attention_head_dim: 8,
  norm_num_groups: 32,
  norm_eps: 1e-5,
  use_linear_projection: false,
  flip_sin_to_cos: true,
  freq_shift: 0,
};

export const SD15_CONTROLNET_CONFIG: Json = {
  ...SD15_UNET_CONFIG,
  up_block_types: undefined,
  out_channels: undefined,
  conditioning_channels: 3,
  conditioning_embedding_out_channels: [16, 32, 96, 256],
};

export const SD15_VAE_CONFIG: Json = {
  in_channels: 3,
  out_channels: 3,
  latent_channels: 4,
  block_out_channels: [128, 256, 512, 512],
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
  layers_per_block: 2,
  norm_num_groups: 32,
  scaling_factor: 0.18215,
};

export const SD15_TEXT_CONFIG: Json = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  max_position_embeddings: 77,
  vocab_size: 49408,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
};

function count(shapeOf: ShapeOf, name: (i: number) => string): number {
  let n = 0;
  while (shapeOf(name(n))) n++;
  return n;
}

function dim(shapeOf: ShapeOf, name: string, axis: number): number | undefined {
  return shapeOf(name)?.[axis];
}

/** Width of a context that marks the SD 2.x family (OpenCLIP ViT-H), whose UNets use 64-wide heads. */
const SD2_CONTEXT = 1024;
const SD2_HEAD_DIM = 64;

/** Transformer blocks in each down block's first attention (0 where a block has none). */
function transformerDepths(shapeOf: ShapeOf, blocks: number): number[] {
  return Array.from({ length: blocks }, (_, i) => count(shapeOf, (t) => `down_blocks.${i}.attentions.0.transformer_blocks.${t}.attn1.to_q.weight`));
}

/** UNet (or ControlNet, prefix-free) structure read from canonical diffusers weight names. */
function unetShapes(shapeOf: ShapeOf, base: Json): Json {
  const blocks = count(shapeOf, (i) => `down_blocks.${i}.resnets.0.conv1.weight`);
  if (blocks === 0) return base;
  const channels = Array.from({ length: blocks }, (_, i) => dim(shapeOf, `down_blocks.${i}.resnets.0.conv1.weight`, 0)!);
  const hasAttn = (i: number): boolean => shapeOf(`down_blocks.${i}.attentions.0.proj_in.weight`) !== undefined;
  const down = channels.map((_, i) => (hasAttn(i) ? 'CrossAttnDownBlock2D' : 'DownBlock2D'));
  const attnAt = down.findIndex((t) => t === 'CrossAttnDownBlock2D');
  const proj = shapeOf(`down_blocks.${Math.max(attnAt, 0)}.attentions.0.proj_in.weight`) ?? shapeOf('mid_block.attentions.0.proj_in.weight');
  const cross = dim(shapeOf, `down_blocks.${Math.max(attnAt, 0)}.attentions.0.transformer_blocks.0.attn2.to_k.weight`, 1)
    ?? dim(shapeOf, 'mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight', 1)
    ?? (base['cross_attention_dim'] as number);
  const depths = transformerDepths(shapeOf, blocks).map((d) => Math.max(d, 1));
  const temb = dim(shapeOf, 'time_embedding.linear_1.weight', 0);
  return {
    ...base,
    in_channels: dim(shapeOf, 'conv_in.weight', 1) ?? base['in_channels'],
    ...(base['out_channels'] !== undefined ? { out_channels: dim(shapeOf, 'conv_out.weight', 0) ?? base['out_channels'] } : {}),
    block_out_channels: channels,
    layers_per_block: count(shapeOf, (i) => `down_blocks.0.resnets.${i}.conv1.weight`),
    down_block_types: down,
    ...(base['up_block_types'] ? { up_block_types: [...down].reverse().map((t) => (t === 'DownBlock2D' ? 'UpBlock2D' : 'CrossAttnUpBlock2D')) } : {}),
    cross_attention_dim: cross,
    // diffusers' attention_head_dim holds head counts for these UNets (its historic naming)
    attention_head_dim: cross === SD2_CONTEXT ? channels.map((c) => Math.max(1, Math.round(c / SD2_HEAD_DIM))) : base['attention_head_dim'],
    use_linear_projection: proj ? proj.length === 2 : base['use_linear_projection'],
    transformer_layers_per_block: depths.every((d) => d === depths[0]) ? depths[0] : depths,
    ...(temb !== undefined && temb !== 4 * channels[0]! ? { time_embedding_dim: temb } : {}),
  };
}

export function inferUnetConfig(shapeOf: ShapeOf): Json {
  return unetShapes(shapeOf, SD15_UNET_CONFIG);
}

export function inferControlNetConfig(shapeOf: ShapeOf): Json {
  const cfg = unetShapes(shapeOf, SD15_CONTROLNET_CONFIG);
  const first = dim(shapeOf, 'controlnet_cond_embedding.conv_in.weight', 0);
  const blocks = count(shapeOf, (i) => `controlnet_cond_embedding.blocks.${i}.weight`);
  if (first === undefined || blocks === 0) return cfg;
  // blocks come in pairs (same width, then the next width with stride 2)
  const widths = [first];
  for (let i = 1; i < blocks; i += 2) widths.push(dim(shapeOf, `controlnet_cond_embedding.blocks.${i}.weight`, 0)!);
  return { ...cfg, conditioning_embedding_out_channels: widths, conditioning_channels: dim(shapeOf, 'controlnet_cond_embedding.conv_in.weight', 1) ?? 3 };
}

export function inferVaeConfig(shapeOf: ShapeOf): Json {
  const blocks = count(shapeOf, (i) => `encoder.down_blocks.${i}.resnets.0.conv1.weight`);
  if (blocks === 0) return SD15_VAE_CONFIG;
  const latent = dim(shapeOf, 'decoder.conv_in.weight', 1) ?? (dim(shapeOf, 'encoder.conv_out.weight', 0) ?? 8) / 2;
  return {
    ...SD15_VAE_CONFIG,
    in_channels: dim(shapeOf, 'encoder.conv_in.weight', 1) ?? SD15_VAE_CONFIG['in_channels'],
    out_channels: dim(shapeOf, 'decoder.conv_out.weight', 0) ?? SD15_VAE_CONFIG['out_channels'],
    latent_channels: latent,
    block_out_channels: Array.from({ length: blocks }, (_, i) => dim(shapeOf, `encoder.down_blocks.${i}.resnets.0.conv1.weight`, 0)!),
    down_block_types: Array<string>(blocks).fill('DownEncoderBlock2D'),
    up_block_types: Array<string>(blocks).fill('UpDecoderBlock2D'),
    layers_per_block: count(shapeOf, (i) => `encoder.down_blocks.0.resnets.${i}.conv1.weight`),
    mid_block_add_attention: shapeOf('encoder.mid_block.attentions.0.to_q.weight') !== undefined || shapeOf('decoder.mid_block.attentions.0.to_q.weight') !== undefined,
  };
}

export function inferTextConfig(shapeOf: ShapeOf): Json {
  const emb = shapeOf('text_model.embeddings.token_embedding.weight');
  if (!emb) return SD15_TEXT_CONFIG;
  const hidden = emb[1]!;
  return {
    ...SD15_TEXT_CONFIG,
    vocab_size: emb[0],
    hidden_size: hidden,
    // CLIP ViT-L/14 (SD 1.x) and OpenCLIP ViT-H (SD 2.x) use 64-wide heads
    num_attention_heads: Math.max(1, Math.round(hidden / 64)),
    num_hidden_layers: count(shapeOf, (i) => `text_model.encoder.layers.${i}.mlp.fc1.weight`),
    intermediate_size: dim(shapeOf, 'text_model.encoder.layers.0.mlp.fc1.weight', 0) ?? SD15_TEXT_CONFIG['intermediate_size'],
    max_position_embeddings: dim(shapeOf, 'text_model.embeddings.position_embedding.weight', 0) ?? 77,
  };
}
