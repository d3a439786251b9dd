/**
 * The pre-LN transformer block shared by SigLIP and CLIP:
 * x + Attn(LN1(x)), then + MLP(LN2(·)). Shapes: x [N, S, D].
 *
 * @module
 */
import type { EncoderSpec } from "../../spec/types.ts";
import { activate, type LayerContext, layerNorm, linear } from "./ops.ts";
import { type KeyMask, type VisionAttention, vitAttention } from "./vit_attention.ts";

/**
 * Block `layers.{index}`: returns the new residual stream [N, S, D].
 * `mask`, when given, excludes padded patches from the attention keys.
 */
export function vitBlock(
  ctx: LayerContext,
  x: string,
  index: number,
  spec: EncoderSpec,
  attention: VisionAttention,
  mask?: KeyMask,
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
      attention,
      mask,
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
      { bias: true },
    );
    return g.op("Add", [h, down]);
  });
}
