/**
 * Patch embedding shared by both ViT families: a Conv2d with kernel = stride =
 * patch ("valid", so `imageSize % patchSize` trailing pixels are dropped),
 * flattened row-major into tokens.
 *
 * @module
 */
import type { EncoderSpec } from "../../spec/types.ts";
import { floatWeight, type LayerContext, reshape, transpose } from "./ops.ts";

/** pixels [N, 3, T, T] → patch tokens [N, P, D], token = row·g + col. */
export function patchEmbedding(ctx: LayerContext, pixels: string, spec: EncoderSpec): string {
  const { g, w } = ctx;
  const p = spec.patchSize;
  const d = spec.hidden;
  const kernel = floatWeight(
    g,
    "patch.weight",
    w.normal("patch.weight", [d, 3, p, p], 1 / Math.sqrt(3 * p * p)),
  );
  const inputs = [pixels, kernel];
  // SigLIP's conv has a bias; CLIP's has none.
  if (spec.family === "siglip") inputs.push(floatWeight(g, "patch.bias", w.bias("patch.bias", d)));
  const conv = g.op("Conv", inputs, { kernel_shape: [p, p], strides: [p, p] }); // [N,D,g,g]
  return transpose(g, reshape(g, conv, [0, d, -1]), [0, 2, 1]);
}
