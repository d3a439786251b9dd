/**
 * CLIP ViT embeddings: a class token in front of the patch tokens, learned
 * positions for P + 1 tokens, then the pre-LayerNorm ("pre_layrnorm").
 *
 * @module
 */
import type { EncoderSpec } from "../../spec/types.ts";
import { floatWeight, type LayerContext, layerNorm } from "./ops.ts";
import { patchEmbedding } from "./patch_embedding.ts";

/** pixels [N, 3, T, T] → embeddings [N, 1 + P, D], class token first. */
export function clipEmbeddings(
  ctx: LayerContext,
  pixels: string,
  spec: EncoderSpec,
  patches: number,
): string {
  const { g, w } = ctx;
  const d = spec.hidden;
  const tokens = patchEmbedding(ctx, pixels, spec); // [N,P,D]
  const classToken = floatWeight(g, "class", w.normal("class", [d], 0.5));
  // Broadcast the class vector to [N, 1, D]: N comes from the input at run time.
  const n = g.op("Slice", [g.op("Shape", [tokens]), g.ints([0]), g.ints([1])]);
  const shape = g.op("Concat", [n, g.ints([1, d])], { axis: 0 });
  const classes = g.op("Expand", [classToken, shape]);
  const sequence = g.op("Concat", [classes, tokens], { axis: 1 });
  const position = floatWeight(g, "position", w.normal("position", [patches + 1, d], 0.5));
  return layerNorm(ctx, g.op("Add", [sequence, position]), "pre_norm", d, spec.layerNormEps);
}

/** Drops the class token: [N, 1 + P, D] → [N, P, D]. */
export function dropClassToken(ctx: LayerContext, x: string): string {
  const { g } = ctx;
  return g.op("Slice", [x, g.ints([1]), g.ints([Number.MAX_SAFE_INTEGER]), g.ints([1])]);
}
