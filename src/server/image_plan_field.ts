/**
 * The image plan a request ran with, as an extension field of OpenAI's
 * response bodies: `vlmkit.image_plan` on a completion, and on the chunk that
 * finishes each streamed choice. Clients that do not know it ignore it (the
 * official client keeps unknown fields on the returned object).
 *
 * @module
 */
import type { ImagePlan } from "../runtime/generation_types.ts";

/** `{ vlmkit: { image_plan } }` in snake case, or nothing for a request without images. */
export function imagePlanField(plan: ImagePlan | undefined): Record<string, unknown> {
  if (!plan || plan.images.length === 0) return {};
  return {
    vlmkit: {
      image_plan: {
        tiles: plan.tiles,
        image_tokens: plan.imageTokens,
        max_tiles: plan.maxTiles,
        split: plan.images.some((image) => image.split),
        images: plan.images.map((image) => ({
          width: image.width,
          height: image.height,
          split: image.split,
          rows: image.rows,
          cols: image.cols,
          tiles: image.tiles,
          image_tokens: image.imageTokens,
        })),
      },
    },
  };
}
