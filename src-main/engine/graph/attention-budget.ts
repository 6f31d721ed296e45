// How many query slices keep every attention scores buffer within a GPU's binding limit. The scores
// of token-to-token attention are [B, heads, T, S] float32 (softmax runs in float32 even in fp16
// graphs), so they grow with the square of the resolution: 2 GiB for Rerender's cross-frame
// attention at 512×512, over what many adapters bind (SwiftShader: 1 GiB).
import { controlNetConfig, unetConfig } from './model-config.ts';

const SCORE_BYTES = 4;

/** Slices for one level: enough to fit `maxBindingBytes`, never more than the level's queries. */
function slices(batch: number, heads: number, tokens: number, keys: number, maxBindingBytes: number): number {
  const bytes = batch * heads * tokens * keys * SCORE_BYTES;
  return Math.max(1, Math.min(Math.ceil(bytes / maxBindingBytes), tokens));
}

/**
 * Per level below the latent (lh × lw), the slices of the UNet's or ControlNet's token-to-token
 * attention; `sources` cross-frame contexts multiply the keys (0: self-attention). Empty: no split
 * (no limit, or everything fits).
 */
export function unetAttentionChunks(kind: 'unet' | 'controlnet', config: Record<string, unknown>, lh: number, lw: number, sources: number, maxBindingBytes: number | null): number[] {
  if (maxBindingBytes === null) return [];
  const cfg = kind === 'unet' ? unetConfig(config) : controlNetConfig(config);
  const heads = Math.max(...cfg.heads);
  const out: number[] = [];
  for (let level = 0; level < cfg.blockOutChannels.length; level++) {
    const tokens = Math.ceil(lh / 2 ** level) * Math.ceil(lw / 2 ** level);
    // Batch 2: classifier-free guidance runs the negative and the prompt together.
    out.push(slices(2, heads, tokens, tokens * Math.max(1, sources), maxBindingBytes));
  }
  return out.every((n) => n === 1) ? [] : out;
}

/** The VAE's mid-block attention: one head, at the latent's resolution (level 0). */
export function vaeAttentionChunks(lh: number, lw: number, maxBindingBytes: number | null): number[] {
  if (maxBindingBytes === null) return [];
  const n = slices(1, 1, lh * lw, lh * lw, maxBindingBytes);
  return n === 1 ? [] : [n];
}
