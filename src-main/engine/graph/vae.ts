// AutoencoderKL graphs. Encoder: image in [-1, 1] → moments (mean ‖ logvar,
// quant_conv applied; sampling and scaling_factor are the caller's). Decoder:
// UNet-space latents → image in [-1, 1]; the 1/scaling_factor is applied
// inside, before post_quant_conv, so callers pass what the scheduler produced.
import { attention, conv2d, fromF32, groupNorm, linear, silu, toF32, toTokens, fromTokens, upsampleNearest2x } from './layers.ts';
import type { LayerContext } from './layers.ts';
import type { VaeConfig } from './model-config.ts';
import { resnet } from './unet-blocks.ts';

const VAE_EPS = 1e-6;

function midAttention(ctx: LayerContext, x: string, prefix: string, channels: number, groups: number): string {
  const normed = toTokens(ctx, groupNorm(ctx, x, `${prefix}.group_norm`, groups, VAE_EPS), channels);
  const q = linear(ctx, normed, `${prefix}.to_q`);
  const k = linear(ctx, normed, `${prefix}.to_k`);
  const v = linear(ctx, normed, `${prefix}.to_v`);
  const out = linear(ctx, attention(ctx, q, k, v, { heads: 1, dim: channels }, undefined, { level: 0 }), `${prefix}.to_out.0`);
  return ctx.b.op1('Add', [fromTokens(ctx, out, x), x]);
}

function midBlock(ctx: LayerContext, cfg: VaeConfig, x: string, prefix: string): string {
  const channels = cfg.blockOutChannels[cfg.blockOutChannels.length - 1]!;
  const s = { ctx, tembAct: null };
  let h = resnet(s, x, `${prefix}.mid_block.resnets.0`, cfg.normGroups, VAE_EPS);
  if (cfg.midAttention) h = midAttention(ctx, h, `${prefix}.mid_block.attentions.0`, channels, cfg.normGroups);
  return resnet(s, h, `${prefix}.mid_block.resnets.1`, cfg.normGroups, VAE_EPS);
}

export function buildVaeEncoder(ctx: LayerContext, cfg: VaeConfig): void {
  const b = ctx.b;
  const image = b.input('image', ['batch', cfg.inChannels, 'height', 'width']);
  const s = { ctx, tembAct: null };
  let h = conv2d(ctx, fromF32(ctx, image), 'encoder.conv_in');
  cfg.blockOutChannels.forEach((_, i) => {
    for (let l = 0; l < cfg.layersPerBlock; l++) h = resnet(s, h, `encoder.down_blocks.${i}.resnets.${l}`, cfg.normGroups, VAE_EPS);
    // diffusers pads (0, 1, 0, 1) before the stride-2 convolution of the VAE.
    if (ctx.w.has(`encoder.down_blocks.${i}.downsamplers.0.conv.weight`)) {
      h = conv2d(ctx, h, `encoder.down_blocks.${i}.downsamplers.0.conv`, { stride: 2, pads: [0, 0, 1, 1] });
    }
  });
  h = midBlock(ctx, cfg, h, 'encoder');
  h = conv2d(ctx, silu(ctx, groupNorm(ctx, h, 'encoder.conv_norm_out', cfg.normGroups, VAE_EPS)), 'encoder.conv_out');
  if (ctx.w.has('quant_conv.weight')) h = conv2d(ctx, h, 'quant_conv');
  b.output(toF32(ctx, h), 'moments', ['batch', 2 * cfg.latentChannels, 'latent_height', 'latent_width']);
}

export function buildVaeDecoder(ctx: LayerContext, cfg: VaeConfig): void {
  const b = ctx.b;
  const latents = b.input('latents', ['batch', cfg.latentChannels, 'latent_height', 'latent_width']);
  const s = { ctx, tembAct: null };
  let h = fromF32(ctx, b.op1('Mul', [latents, b.constFloat([1 / cfg.scalingFactor], [], { float32: true })]));
  if (ctx.w.has('post_quant_conv.weight')) h = conv2d(ctx, h, 'post_quant_conv');
  h = conv2d(ctx, h, 'decoder.conv_in');
  h = midBlock(ctx, cfg, h, 'decoder');
  cfg.blockOutChannels.forEach((_, i) => {
    for (let l = 0; l <= cfg.layersPerBlock; l++) h = resnet(s, h, `decoder.up_blocks.${i}.resnets.${l}`, cfg.normGroups, VAE_EPS);
    if (ctx.w.has(`decoder.up_blocks.${i}.upsamplers.0.conv.weight`)) {
      h = conv2d(ctx, upsampleNearest2x(ctx, h), `decoder.up_blocks.${i}.upsamplers.0.conv`);
    }
  });
  h = conv2d(ctx, silu(ctx, groupNorm(ctx, h, 'decoder.conv_norm_out', cfg.normGroups, VAE_EPS)), 'decoder.conv_out');
  b.output(toF32(ctx, h), 'image', ['batch', cfg.outChannels, 'height', 'width']);
}
