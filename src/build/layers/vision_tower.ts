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
import { keyMask, type VisionAttention } from "./vit_attention.ts";
import { vitBlock } from "./vit_block.ts";

/** Blocks on the path to the features: all, or all but the last for `penultimate`. */
export function blocksRun(spec: EncoderSpec): number {
  return spec.featureLayer === "penultimate" ? spec.layers - 1 : spec.layers;
}

/** Options of {@linkcode visionTower}. */
export interface VisionTowerOptions {
  /** Patch validity, bool [N, P]: padded patches are excluded from attention keys (SigLIP only). */
  validPatches?: string;
  /** The attention graph (default `fused`; `unfused` is the published exports' form). */
  attention?: VisionAttention;
}

/** pixels [N, 3, T, T] → features [N, P, D]. */
export function visionTower(
  ctx: LayerContext,
  pixels: string,
  spec: EncoderSpec,
  patches: number,
  options: VisionTowerOptions = {},
): string {
  const clip = spec.family === "clip-vit";
  const attention = options.attention ?? "fused";
  let x = clip
    ? clipEmbeddings(ctx, pixels, spec, patches)
    : siglipEmbeddings(ctx, pixels, spec, patches);
  // One mask for every block, in the form the attention reads.
  const mask = !clip && options.validPatches
    ? keyMask(ctx, options.validPatches, attention)
    : undefined;
  for (let i = 0; i < blocksRun(spec); i++) x = vitBlock(ctx, x, i, spec, attention, mask);
  if (spec.postLayerNorm) x = layerNorm(ctx, x, "post_norm", spec.hidden, spec.layerNormEps);
  return clip ? dropClassToken(ctx, x) : x;
}
