/**
 * SigLIP embeddings (as in Idefics3/SmolVLM): patch tokens plus a learned
 * position table, no class token.
 *
 * @module
 */
import type { EncoderSpec } from "../../spec/types.ts";
import { floatWeight, type LayerContext } from "./ops.ts";
import { patchEmbedding } from "./patch_embedding.ts";

/** pixels [N, 3, T, T] → embeddings [N, P, D]. Positions are 0…P−1 (full tiles). */
export function siglipEmbeddings(
  ctx: LayerContext,
  pixels: string,
  spec: EncoderSpec,
  patches: number,
): string {
  const { g, w } = ctx;
  const position = floatWeight(g, "position", w.normal("position", [patches, spec.hidden], 0.5));
  return g.op("Add", [patchEmbedding(ctx, pixels, spec), position]);
}
