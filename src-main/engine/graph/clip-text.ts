// CLIPTextModel graph: token + position embeddings, pre-LN transformer with a
// causal mask, final layer norm → last_hidden_state (what SD conditions on).
import { DataType } from './onnx-proto.ts';
import { attention, gelu, layerNorm, linear, quickGelu, toF32 } from './layers.ts';
import type { LayerContext } from './layers.ts';
import type { ClipTextConfig } from './model-config.ts';

export function buildClipText(ctx: LayerContext, cfg: ClipTextConfig): void {
  const b = ctx.b;
  const L = cfg.maxPositions;
  const C = cfg.hiddenSize;
  const ids = b.input('input_ids', ['batch', L], DataType.INT64);
  const tokens = b.op1('Gather', [b.weight('text_model.embeddings.token_embedding.weight', ctx.w.get('text_model.embeddings.token_embedding.weight')), ids], { axis: { i: 0 } });
  const pos = ctx.w.get('text_model.embeddings.position_embedding.weight');
  let h = b.op1('Add', [tokens, b.weight('text_model.embeddings.position_embedding.weight', { dims: [L, C], data: pos.data.subarray(0, L * C) })]);

  // Causal mask (float32, added to the scores before softmax): -inf above the diagonal.
  const mask = new Float32Array(L * L);
  for (let r = 0; r < L; r++) for (let c = r + 1; c < L; c++) mask[r * L + c] = -Infinity;
  const causal = b.constFloat(mask, [1, 1, L, L], { float32: true });

  for (let i = 0; i < cfg.layers; i++) {
    const p = `text_model.encoder.layers.${i}`;
    const n1 = layerNorm(ctx, h, `${p}.layer_norm1`, cfg.eps);
    const q = linear(ctx, n1, `${p}.self_attn.q_proj`);
    const k = linear(ctx, n1, `${p}.self_attn.k_proj`);
    const v = linear(ctx, n1, `${p}.self_attn.v_proj`);
    const a = linear(ctx, attention(ctx, q, k, v, { heads: cfg.heads, dim: C }, causal), `${p}.self_attn.out_proj`);
    h = b.op1('Add', [h, a]);
    const n2 = layerNorm(ctx, h, `${p}.layer_norm2`, cfg.eps);
    const f1 = linear(ctx, n2, `${p}.mlp.fc1`);
    const act = cfg.activation === 'quick_gelu' ? quickGelu(ctx, f1) : gelu(ctx, f1);
    h = b.op1('Add', [h, linear(ctx, act, `${p}.mlp.fc2`)]);
  }
  const out = layerNorm(ctx, h, 'text_model.final_layer_norm', cfg.eps);
  b.output(toF32(ctx, out), 'last_hidden_state', ['batch', L, C]);
}
