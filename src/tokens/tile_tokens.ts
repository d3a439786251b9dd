/**
 * Tokens one square tile turns into: patch grid → projector → decoder tokens.
 *
 * @module
 */
import type { EncoderSpec, ProjectorSpec } from "../spec/types.ts";

/** Side of the encoder's patch grid: imageSize / patchSize (e.g. 512/16 = 32). */
export function patchGridSide(encoder: EncoderSpec): number {
  return Math.floor(encoder.imageSize / encoder.patchSize);
}

/** Patch tokens the encoder emits per tile, class token excluded. */
export function patchesPerTile(encoder: EncoderSpec): number {
  return patchGridSide(encoder) ** 2;
}

/**
 * How many tokens per tile the projector keeps, and by which linear factor it
 * shrinks each side of the grid: pixel shuffle by r, LDP/LDPv2 by 2, MLP by 1.
 */
export function projectorDownsample(projector: ProjectorSpec): number {
  switch (projector.kind) {
    case "pixel-shuffle-linear":
      return projector.scaleFactor;
    case "ldp":
    case "ldpv2":
      return 2;
    case "mlp":
      return 1;
  }
}

/**
 * Decoder tokens per tile: (grid / f)² where f is the projector's downsample
 * factor. Examples: SigLIP-B/16@512 with r=4 → 64; SO400M/14@384 with r=3 → 81;
 * CLIP-L/14@336 with LDP → 144. Assumes the spec is valid (f divides the grid).
 */
export function tokensPerTile(encoder: EncoderSpec, projector: ProjectorSpec): number {
  return (patchGridSide(encoder) / projectorDownsample(projector)) ** 2;
}

/** The shuffle ratios r in `candidates` that divide the patch grid side. */
export function validScaleFactors(
  encoder: EncoderSpec,
  candidates: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8],
): number[] {
  const side = patchGridSide(encoder);
  return candidates.filter((r) => side % r === 0);
}
