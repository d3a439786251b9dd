/**
 * Overwrites the embeddings of `<image>` tokens with image features, in
 * order: the k-th `<image>` in the sequence gets feature row k. This is the
 * masked scatter of the reference implementations.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { FeatureMatrix } from "../modules/types.ts";

/**
 * Merges `features` into `embeds` (rows = `ids`) in place. `firstFeatureRow`
 * is the feature index of the first `<image>` in `ids`, for sequences that
 * continue a cached prefix.
 */
export function mergeImageFeatures(
  embeds: FeatureMatrix,
  ids: readonly number[],
  imageTokenId: number,
  features: FeatureMatrix,
  firstFeatureRow = 0,
): void {
  if (features.cols !== embeds.cols && features.rows > 0) {
    throw new VlmError(
      "model_mismatch",
      `image features are ${features.cols} wide but token embeddings are ${embeds.cols}`,
      { fix: "the vision encoder and the decoder come from different models" },
    );
  }
  let row = firstFeatureRow;
  for (let position = 0; position < ids.length; position++) {
    if (ids[position] !== imageTokenId) continue;
    if (row >= features.rows) {
      throw new VlmError(
        "model_mismatch",
        `the prompt has more <image> tokens than image features (${features.rows})`,
        { fix: "image_seq_len in processor_config.json must match the vision encoder's output" },
      );
    }
    embeds.data.set(
      features.data.subarray(row * features.cols, (row + 1) * features.cols),
      position * embeds.cols,
    );
    row++;
  }
  if (row !== features.rows) {
    throw new VlmError(
      "model_mismatch",
      `the prompt has ${row - firstFeatureRow} <image> tokens for ${
        features.rows - firstFeatureRow
      } image feature rows`,
      { fix: "image_seq_len in processor_config.json must match the vision encoder's output" },
    );
  }
}
