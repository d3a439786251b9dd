/**
 * The pre-LN transformer block shared by SigLIP and CLIP:
 * x + Attn(LN1(x)), then + MLP(LN2(·)). Shapes: x [N, S, D].
 *
 * @module
 */
import type { EncoderSpec } from "../../spec/types.ts";
import { activate, type LayerContext, layerNorm, linear, reshape, transpose } from "./ops.ts";

/**
 * Multi-head self-attention over all S tokens. `keyBias` [N, 1, 1, S], when
 * given, is added to the scores (0 for valid keys, a large negative number
 * for padding).
 */
export function vitAttention(
  ctx: LayerContext,
  x: string,
  name: string,
  spec: EncoderSpec,
  keyBias?: string,
): string {
  const { g } = ctx;
  const d = spec.hidden;
  const headDim = d / spec.heads;
  return g.scope("attn", () => {
    const heads = (value: string) => reshape(g, value, [0, 0, spec.heads, headDim]); // [N,S,h,hd]
    const q = transpose(g, heads(linear(ctx, x, `${name}.q`, d, d, { bias: true })), [0, 2, 1, 3]);
    const k = transpose(g, heads(linear(ctx, x, `${name}.k`, d, d, { bias: true })), [0, 2, 3, 1]);
    const v = transpose(g, heads(linear(ctx, x, `${name}.v`, d, d, { bias: true })), [0, 2, 1, 3]);
    let scores = g.op("Mul", [g.op("MatMul", [q, k]), g.scalar(1 / Math.sqrt(headDim))]); // [N,h,S,S]
    if (keyBias) scores = g.op("Add", [scores, keyBias]);
    const context = g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }), v]); // [N,h,S,hd]
    const merged = reshape(g, transpose(g, context, [0, 2, 1, 3]), [0, 0, d]); // [N,S,D]
    return linear(ctx, merged, `${name}.out`, d, d, { bias: true });
  });
}

/** Block `layers.{index}`: returns the new residual stream [N, S, D]. */
export function vitBlock(
  ctx: LayerContext,
  x: string,
  index: number,
  spec: EncoderSpec,
  keyBias?: string,
): string {
  const { g } = ctx;
  const name = `layers.${index}`;
  return g.scope(name, () => {
    const eps = spec.layerNormEps;
    const attended = vitAttention(
      ctx,
      layerNorm(ctx, x, `${name}.norm1`, spec.hidden, eps),
      `${name}.attn`,
      spec,
      keyBias,
    );
    const h = g.op("Add", [x, attended]);
    const normed = layerNorm(ctx, h, `${name}.norm2`, spec.hidden, eps);
    const up = linear(ctx, normed, `${name}.mlp.up`, spec.hidden, spec.mlp, { bias: true });
    const down = linear(
      ctx,
      activate(g, up, spec.activation),
      `${name}.mlp.down`,
      spec.mlp,
      spec.hidden,
      {
        bias: true,
      },
    );
    return g.op("Add", [h, down]);
  });
}
