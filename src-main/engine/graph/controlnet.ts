// ControlNetModel graph: conditioning embedding + UNet down path, with zero
// convs giving the residuals the UNet adds to its skips (scaled in-graph by
// the conditioning_scale input).
import { conv2d, fromF32, silu, toF32 } from './layers.ts';
import type { LayerContext } from './layers.ts';
import type { ControlNetConfig } from './model-config.ts';
import { downPath, midBlock, skipDims, timeEmbedding } from './unet-blocks.ts';
import type { UNetBuildState } from './unet-blocks.ts';

export interface ControlNetGraphInfo {
  residualCount: number;
}

export function buildControlNet(ctx: LayerContext, cfg: ControlNetConfig): ControlNetGraphInfo {
  const b = ctx.b;
  const fin = (name: string): string => fromF32(ctx, name);
  const sample = b.input('sample', ['batch', cfg.inChannels, 'height', 'width']);
  const timestep = b.input('timestep', ['timestep_batch']);
  const ehs = b.input('encoder_hidden_states', ['batch', 'tokens', cfg.crossAttentionDim]);
  const cond = b.input('controlnet_cond', ['batch', cfg.conditioningChannels, 'image_height', 'image_width']);
  const scale = fin(b.input('conditioning_scale', [1]));

  const tembAct = timeEmbedding(ctx, cfg, timestep);
  const s: UNetBuildState = { ctx, cfg, tembAct, encoderHiddenStates: fin(ehs), hookFor: () => null };

  let e = silu(ctx, conv2d(ctx, fin(cond), 'controlnet_cond_embedding.conv_in'));
  for (let i = 0; i < 2 * (cfg.conditioningEmbeddingChannels.length - 1); i += 2) {
    e = silu(ctx, conv2d(ctx, e, `controlnet_cond_embedding.blocks.${i}`));
    e = silu(ctx, conv2d(ctx, e, `controlnet_cond_embedding.blocks.${i + 1}`, { stride: 2 }));
  }
  e = conv2d(ctx, e, 'controlnet_cond_embedding.conv_out');

  const start = b.op1('Add', [conv2d(ctx, fin(sample), 'conv_in'), e]);
  const { hidden, skips } = downPath(s, start);
  skips.forEach((skip, i) => {
    const r = b.op1('Mul', [conv2d(ctx, skip.value, `controlnet_down_blocks.${i}`), scale]);
    b.output(toF32(ctx, r), `down_res_${i}`, skipDims(skip.channels, Math.floor(i / (cfg.layersPerBlock + 1))));
  });
  const last = cfg.blockOutChannels.length - 1;
  const mid = b.op1('Mul', [conv2d(ctx, midBlock(s, hidden), 'controlnet_mid_block'), scale]);
  b.output(toF32(ctx, mid), 'mid_res', skipDims(cfg.blockOutChannels[last]!, last));
  return { residualCount: skips.length };
}
