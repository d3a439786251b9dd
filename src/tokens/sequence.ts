/**
 * Total sequence length of a one-turn conversation (images + question +
 * template) and whether it fits the context window.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { Plan } from "../spec/plan.ts";
import { familyOf } from "../families/registry.ts";
import { estimatedTextCounter, segmentPrompt, type TextTokenCounter } from "./text_counter.ts";
import { planTiles, type Size, type TilePlan } from "./tiles.ts";

/** Token accounting for one image. */
export interface ImageTokenCount extends TilePlan {
  /** Feature rows (image tokens) this image occupies. */
  tokens: number;
}

/** What to count. */
export interface SequenceRequest {
  /** Image sizes, in prompt order. */
  images: readonly Size[];
  /** The user's question (default: empty). */
  prompt?: string;
  /** Override the spec's splitting switch. */
  split?: boolean;
  /**
   * Most tiles per image: the image budget the run will use (5 on the wasm
   * backend by default, see `defaultMaxTiles`; a model's is
   * `model.imageBudget(request)`). Default: no cap, the model's full split,
   * which is what native runtimes and the Python processor plan.
   */
  maxTiles?: number;
  /** Tokens to keep free for the answer when deciding `fits` (default 0). */
  reserveForOutput?: number;
  /** Counter for plain text (default: the built-in estimate). */
  counter?: TextTokenCounter;
}

/** Token totals of a conversation. */
export interface SequenceCount {
  /** Per-image tile plans and token counts. */
  images: ImageTokenCount[];
  /** Feature rows over all images. */
  imageTokens: number;
  /** Every other token: template, special markers, question. */
  textTokens: number;
  /** `imageTokens + textTokens`. */
  totalTokens: number;
  /** The decoder's context length. */
  contextLength: number;
  /** Whether `totalTokens + reserveForOutput ≤ contextLength`. */
  fits: boolean;
  /** `false` when `textTokens` comes from the built-in estimate rather than a tokenizer. */
  textTokensExact: boolean;
}

/**
 * Plans every image of a request and the feature rows each one takes, under
 * the image budget `maxTiles` (default: none) as the run plans them.
 */
export function countImageTokens(
  plan: Plan,
  images: readonly Size[],
  split?: boolean,
  maxTiles?: number,
): ImageTokenCount[] {
  return images.map((size) => {
    const tiles = planTiles(size.width, size.height, plan.spec.image, { split, maxTiles });
    return { ...tiles, tokens: tiles.tiles * plan.tokensPerTile };
  });
}

/**
 * Counts the tokens of one user turn with images and a question, laid out by
 * the spec's chat template, plus the generation prompt.
 *
 * The spec's family lays out the turn and says how many feature rows each
 * placeholder takes: Idefics3/SmolVLM expand every image into `<image>` rows;
 * MobileVLM's single `<image>` placeholder becomes `tokensPerTile` rows, and
 * its tokenizer adds the BOS.
 */
export function countSequence(plan: Plan, request: SequenceRequest): SequenceCount {
  const { tokens } = plan.spec;
  const counter = request.counter ?? estimatedTextCounter;
  const format = familyOf(plan.spec).prompt;
  if (format.maxImages !== null && request.images.length > format.maxImages) {
    throw new VlmError(
      "input_invalid",
      `${plan.spec.name} takes at most ${
        format.maxImages === 1 ? "one image" : `${format.maxImages} images`
      } per conversation, got ${request.images.length}`,
      { fix: format.maxImages === 1 ? "pass a single --image" : "pass fewer images" },
    );
  }
  const images = countImageTokens(plan, request.images, request.split, request.maxTiles);
  const imageBlocks = images.map((image) => format.imageBlock(image, plan.tokensPerTile, tokens));
  const rendered = format.renderUserTurn({ imageBlocks, text: request.prompt ?? "" }, tokens);
  const segments = segmentPrompt(rendered, tokens);

  const placeholders = segments.special.filter((text) => text === tokens.image.text).length;
  const imageTokens = placeholders * format.featureRowsPerPlaceholder(plan.tokensPerTile);
  const bos = format.tokenizerAddsBos(tokens) ? 1 : 0;
  const textTokens = bos + segments.special.length - placeholders +
    segments.text.reduce((sum, run) => sum + counter.count(run), 0);
  const totalTokens = imageTokens + textTokens;
  const contextLength = plan.decoder.contextLength;
  return {
    images,
    imageTokens,
    textTokens,
    totalTokens,
    contextLength,
    fits: totalTokens + (request.reserveForOutput ?? 0) <= contextLength,
    textTokensExact: counter.exact,
  };
}
