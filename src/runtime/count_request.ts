/**
 * Token counts for a request to a loaded model, under the plan the run will
 * use: the model's image budget (5 tiles an image on wasm unless `maxTiles`
 * or `split` say otherwise) and its own tokenizer for the text. The counts
 * then equal `result.promptTokens` and `result.imagePlan` of the run, where
 * `countSequence` on the bare Plan counts the model's full split.
 *
 * @module
 */
import { countSequence, type SequenceCount } from "../tokens/sequence.ts";
import type { Size } from "../tokens/tiles.ts";
import type { VlmModel } from "./model.ts";

/** What to count: image sizes (from their headers) and the request's image options. */
export interface CountRequest {
  /** Image sizes, in prompt order. */
  images: readonly Size[];
  /** The user's question (default: empty). */
  prompt?: string;
  /** As in `generate`: `false` is one tile an image. */
  split?: boolean;
  /** As in `generate`: the request's tile cap, over the model's default. */
  maxTiles?: number;
  /** Tokens to keep free for the answer when deciding `fits` (default 0). */
  reserveForOutput?: number;
}

/** Counts a one-turn request to `model` as `model.generate` will plan and tokenize it. */
export function countRequest(model: VlmModel, request: CountRequest): SequenceCount {
  return countSequence(model.plan, {
    ...request,
    maxTiles: model.imageBudget(request),
    counter: model.tokenizer,
  });
}
