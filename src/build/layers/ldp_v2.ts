/**
 * MobileVLM V2's projector (LDPv2): the two-layer MLP, a 2×2 average pool
 * (576 → 144 tokens) and a depthwise 3×3 positional-encoding generator with
 * bias, added back as a residual: Hv = f1 + DW(f1).
 *
 * @module
 */
import { depthwiseConv, imageToTokens, tokensToImage } from "./ldp.ts";
import { twoLayerGeluMlp } from "./mlp_projector.ts";
import type { LayerContext } from "./ops.ts";

/** features [N, side², D] → image tokens [N, (side/2)², H]. */
export function ldpV2Projector(
  ctx: LayerContext,
  x: string,
  side: number,
  inDim: number,
  hidden: number,
): string {
  const { g } = ctx;
  return g.scope("projector", () => {
    const mlp = twoLayerGeluMlp(ctx, x, inDim, hidden);
    const image = tokensToImage(ctx, mlp, hidden, side);
    const pooled = g.op("AveragePool", [image], { kernel_shape: [2, 2], strides: [2, 2] });
    const peg = g.op("Add", [pooled, depthwiseConv(ctx, pooled, "peg", hidden, 1, true)]);
    return imageToTokens(ctx, peg, hidden);
  });
}
