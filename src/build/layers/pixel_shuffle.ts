/**
 * The Idefics3/SmolVLM connector: NHWC space-to-depth by r, then a Linear
 * without bias. The reshape/transpose sequence is the reference one, so the
 * output token t = h1·(W/r) + w1 holds channel m = (i·r + j)·C + c from input
 * patch (h1·r + i)·W + (w1·r + j) — not torch's NCHW `pixel_unshuffle` order.
 *
 * @module
 */
import { type LayerContext, linear, reshape, transpose } from "./ops.ts";

/** features [N, side², C] → shuffled [N, (side/r)², C·r²]. */
export function pixelShuffle(
  ctx: LayerContext,
  x: string,
  side: number,
  channels: number,
  r: number,
): string {
  const { g } = ctx;
  const rows = reshape(g, x, [0, side, side / r, channels * r]); // [N,h,w/r,C·r]
  const swapped = transpose(g, rows, [0, 2, 1, 3]); // [N,w/r,h,C·r]
  const blocks = reshape(g, swapped, [0, side / r, side / r, channels * r * r]); // [N,w/r,h/r,C·r²]
  const back = transpose(g, blocks, [0, 2, 1, 3]); // [N,h/r,w/r,C·r²]
  return reshape(g, back, [0, (side / r) ** 2, channels * r * r]);
}

/** features [N, side², C] → image tokens [N, (side/r)², H] through `proj`. */
export function pixelShuffleProjector(
  ctx: LayerContext,
  x: string,
  side: number,
  channels: number,
  r: number,
  hidden: number,
): string {
  return ctx.g.scope("connector", () => {
    const shuffled = pixelShuffle(ctx, x, side, channels, r);
    return linear(ctx, shuffled, "proj", channels * r * r, hidden, { bias: false });
  });
}
