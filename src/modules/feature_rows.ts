/**
 * The `image_features` of a vision or projector session as a float32 matrix,
 * whatever rank the file reports ([N·T, H] or [N, T, H], float32 or float16),
 * with the row count checked: the merge needs exactly tokens-per-tile rows per
 * tile, and a file built for another tile geometry would otherwise misplace
 * every image token silently.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { OrtTensor } from "../runtime/backend.ts";
import { tensorRows } from "../runtime/float16.ts";
import type { FeatureMatrix } from "./types.ts";

/** Flattens `tensor` to rows of its last dim and checks there are `tiles × tokensPerTile`. */
export function featureRows(
  tensor: OrtTensor,
  tiles: number,
  tokensPerTile: number,
  session: string,
): FeatureMatrix {
  const matrix = tensorRows(tensor);
  const expected = tiles * tokensPerTile;
  if (matrix.rows !== expected) {
    throw new VlmError(
      "model_mismatch",
      `${session} returned image_features of shape [${
        tensor.dims.join(", ")
      }] (${matrix.rows} rows) for ${tiles} tile(s); the model's configuration needs ${tiles} × ${tokensPerTile} = ${expected} rows`,
      {
        fix:
          "use a vision file exported for this model's config.json (image size, patch size and scale factor decide the tokens per tile)",
      },
    );
  }
  return matrix;
}
