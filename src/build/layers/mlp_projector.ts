/**
 * LLaVA-style MLP projector: Linear layers with an activation between them;
 * every token is kept.
 *
 * @module
 */
import type { MlpProjector } from "../../spec/types.ts";
import { activate, type LayerContext, linear } from "./ops.ts";

/** features [N, P, D] → [N, P, H] through `layers.{j}`. */
export function mlpProjector(
  ctx: LayerContext,
  x: string,
  spec: MlpProjector,
  inDim: number,
  hidden: number,
): string {
  return ctx.g.scope("projector", () => {
    let y = x;
    for (let j = 0; j < spec.layers; j++) {
      if (j > 0) y = activate(ctx.g, y, spec.activation);
      y = linear(ctx, y, `layers.${j}`, j === 0 ? inDim : hidden, hidden, { bias: true });
    }
    return y;
  });
}

/** The two-layer GELU MLP at the front of LDP and LDPv2 (`mlp.0`, exact GELU, `mlp.1`). */
export function twoLayerGeluMlp(
  ctx: LayerContext,
  x: string,
  inDim: number,
  hidden: number,
): string {
  const first = linear(ctx, x, "mlp.0", inDim, hidden, { bias: true });
  return linear(ctx, activate(ctx.g, first, "gelu"), "mlp.1", hidden, hidden, { bias: true });
}
