/**
 * A whole vision tower: family embeddings, the blocks up to the spec's feature
 * layer, the optional post-LayerNorm and, for CLIP, the class token dropped.
 * Blocks after the feature layer are not emitted (they would never run).
 *
 * @module
 */
import type { EncoderSpec } from "../../spec/types.ts";
import { clipEmbeddings, dropClassToken } from "./clip_vit.ts";
import { type LayerContext, layerNorm } from "./ops.ts";
import { siglipEmbeddings } from "./siglip.ts";
import { vitBlock } from "./vit_block.ts";

/** Blocks on the path to the features: all, or all but the last for `penultimate`. */
export function blocksRun(spec: EncoderSpec): number {
  return spec.featureLayer === "penultimate" ? spec.layers - 1 : spec.layers;
}

/** pixels [N, 3, T, T] → features [N, P, D]. `keyBias` masks padded patches (SigLIP only). */
export function visionTower(
  ctx: LayerContext,
  pixels: string,
  spec: EncoderSpec,
  patches: number,
  keyBias?: string,
): string {
  const clip = spec.family === "clip-vit";
  let x = clip
    ? clipEmbeddings(ctx, pixels, spec, patches)
    : siglipEmbeddings(ctx, pixels, spec, patches);
  for (let i = 0; i < blocksRun(spec); i++) {
    x = vitBlock(ctx, x, i, spec, clip ? undefined : keyBias);
  }
  if (spec.postLayerNorm) x = layerNorm(ctx, x, "post_norm", spec.hidden, spec.layerNormEps);
  return clip ? dropClassToken(ctx, x) : x;
}
