// UNet2DConditionModel graph: noise prediction with optional ControlNet
// residual inputs and cross-frame attention hooks on self-attention layers.
import { DataType } from './onnx-proto.ts';
import { castFloat, conv2d, floatDataType, fromF32, groupNorm, silu, toF32, upsampleNearest2x } from './layers.ts';
import type { FloatType } from './builder.ts';
import type { LayerContext } from './layers.ts';
import { UnsupportedModelError, type UNetConfig } from './model-config.ts';
import { downPath, midBlock, resnet, skipDims, timeEmbedding, transformer2d } from './unet-blocks.ts';
import type { BlockPosition, SelfAttentionHook, UNetBuildState } from './unet-blocks.ts';
import { fourierFilter, freeuStage, lowPassMatrices, scaleBackbone, scaleBackboneStructured } from './freeu.ts';
import type { FreeUFactors } from './freeu.ts';

/**
 * Which self-attention layers take part in cross-frame attention:
 * 'decoder': every up-block attn1; 'decoder-loose': up blocks after the
 * deepest attention block (the 640/320-channel blocks of SD 1.5); 'all': down, mid and up.
 */
export type CrossFrameLayers = 'none' | 'decoder' | 'decoder-loose' | 'all';

export interface UNetGraphOptions {
  /** Adds inputs down_res_0..N-1 and mid_res, added to the skips and mid output as diffusers does. */
  controlnetResiduals: boolean;
  crossFrame: CrossFrameLayers;
  /**
   * Hooked layers output their context (attn1_ctx.<path>). With 0 sources they attend to
   * themselves; with n > 0 they take inputs attn1_kv.<k>.<path> (k < n, each [B, S_k, C]) and
   * attend to their concatenation along the tokens (Rerender: anchor ‖ previous, n = 2).
   * Concatenating in the graph lets stored contexts be fed as they are, with no copy.
   */
  crossFrameSources: number;
  /** Element type of the context outputs and inputs (float16 halves what frames store). */
  contextType: FloatType;
  /** FreeU in the up blocks (diffusers' enable_freeu, or Rerender's official variant); null: off. */
  freeu: FreeUFactors | null;
}

export interface UNetGraphInfo {
  /** Module paths of the hooked attn1 layers, in graph order. */
  crossFrameLayers: string[];
  /** Channels of each down residual input, in order. */
  residualChannels: number[];
}

export const CONTEXT_OUTPUT_PREFIX = 'attn1_ctx.';

/** Output name of a hooked layer's own context. */
export function contextOutputName(layer: string): string {
  return `${CONTEXT_OUTPUT_PREFIX}${layer}`;
}

/** Input name of key/value source `source` of a hooked layer. */
export function contextInputName(source: number, layer: string): string {
  return `attn1_kv.${source}.${layer}`;
}

function selects(mode: CrossFrameLayers, pos: BlockPosition, firstAttnUpBlock: number): boolean {
  switch (mode) {
    case 'none': return false;
    case 'all': return true;
    case 'decoder': return pos.part === 'up';
    case 'decoder-loose': return pos.part === 'up' && pos.index > firstAttnUpBlock;
  }
}

export function buildUNet(ctx: LayerContext, cfg: UNetConfig, opts: UNetGraphOptions): UNetGraphInfo {
  const b = ctx.b;
  const fin = (name: string): string => fromF32(ctx, name);
  const sample = b.input('sample', ['batch', cfg.inChannels, 'height', 'width']);
  const timestep = b.input('timestep', ['timestep_batch']);
  const ehs = b.input('encoder_hidden_states', ['batch', 'tokens', cfg.crossAttentionDim]);
  const firstAttnUp = cfg.upBlockTypes.findIndex((t) => t === 'CrossAttnUpBlock2D');
  const hooked: string[] = [];
  const hookFor = (path: string, pos: BlockPosition): SelfAttentionHook | null => {
    if (!selects(opts.crossFrame, pos, firstAttnUp)) return null;
    hooked.push(path);
    return {
      path,
      keyValueSource(context: string, channels: number): string {
        const ct = opts.contextType;
        b.output(castFloat(ctx, context, b.floatType, ct), contextOutputName(path), ['batch', `tokens_${path}`, channels], floatDataType(ct));
        if (opts.crossFrameSources === 0) return context;
        const sources = Array.from({ length: opts.crossFrameSources }, (_, k) =>
          castFloat(ctx, b.input(contextInputName(k, path), ['batch', `kv_tokens_${k}_${path}`, channels], floatDataType(ct)), ct, b.floatType));
        return sources.length === 1 ? sources[0]! : b.op1('Concat', sources, { axis: { i: 1 } });
      },
    };
  };
  const tembAct = timeEmbedding(ctx, cfg, timestep);
  const s: UNetBuildState = { ctx, cfg, tembAct, encoderHiddenStates: fin(ehs), hookFor };

  const { hidden, skips } = downPath(s, conv2d(ctx, fin(sample), 'conv_in'));
  const residualChannels = skips.map((k) => k.channels);
  const skipValues = skips.map((skip, i) => {
    if (!opts.controlnetResiduals) return { value: skip.value, residual: null };
    // Each block contributes layersPerBlock resnet skips plus its downsampler's (one level deeper).
    const name = b.input(`down_res_${i}`, skipDims(skip.channels, Math.floor(i / (cfg.layersPerBlock + 1))));
    return { value: skip.value, residual: fin(name) };
  });
  // diffusers adds a ControlNet residual to its skip before FreeU filters it, the official code after.
  const official = opts.freeu?.variant === 'official';
  let h = midBlock(s, hidden);
  if (opts.controlnetResiduals) {
    const last = cfg.blockOutChannels[cfg.blockOutChannels.length - 1]!;
    h = b.op1('Add', [h, fin(b.input('mid_res', skipDims(last, cfg.blockOutChannels.length - 1)))]);
  }

  const reversed = [...cfg.blockOutChannels].reverse();
  const reversedHeads = [...cfg.heads].reverse();
  let hChannels = reversed[0]!;
  cfg.upBlockTypes.forEach((type, i) => {
    const channels = reversed[i]!;
    const hasAttn = type === 'CrossAttnUpBlock2D';
    if (!hasAttn && type !== 'UpBlock2D') throw new UnsupportedModelError(`unsupported up block type ${type} (SD 1.x UNets use UpBlock2D and CrossAttnUpBlock2D)`);
    let lowPass: ReturnType<typeof lowPassMatrices> | null = null;
    for (let l = 0; l <= cfg.layersPerBlock; l++) {
      const next = skipValues.pop();
      if (!next) throw new UnsupportedModelError('UNet skip connections exhausted: the config does not match the weights');
      const addResidual = (x: string): string => (next.residual ? b.op1('Add', [x, next.residual]) : x);
      let skip = official ? next.value : addResidual(next.value);
      const freeu = freeuStage(opts.freeu, i, hChannels, cfg.blockOutChannels);
      if (freeu) {
        h = official ? scaleBackboneStructured(ctx, h, hChannels, freeu.b) : scaleBackbone(ctx, h, hChannels, freeu.b);
        // The skips of one up block share one spatial size.
        if (freeu.s !== 1) skip = fourierFilter(ctx, skip, freeu.s, lowPass ??= lowPassMatrices(ctx, skip));
      }
      if (official) skip = addResidual(skip);
      h = b.op1('Concat', [h, skip], { axis: { i: 1 } });
      hChannels = channels;
      h = resnet(s, h, `up_blocks.${i}.resnets.${l}`, cfg.normGroups, cfg.normEps);
      if (hasAttn) h = transformer2d(s, h, `up_blocks.${i}.attentions.${l}`, channels, reversedHeads[i]!, { part: 'up', index: i, channels });
    }
    if (ctx.w.has(`up_blocks.${i}.upsamplers.0.conv.weight`)) {
      h = conv2d(ctx, upsampleNearest2x(ctx, h), `up_blocks.${i}.upsamplers.0.conv`);
    }
  });
  h = silu(ctx, groupNorm(ctx, h, 'conv_norm_out', cfg.normGroups, cfg.normEps));
  h = conv2d(ctx, h, 'conv_out');
  b.output(toF32(ctx, h), 'noise_pred', ['batch', cfg.outChannels, 'height', 'width'], DataType.FLOAT);
  return { crossFrameLayers: hooked, residualChannels };
}
