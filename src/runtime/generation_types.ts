/**
 * Request and result types of `model.generate` / `model.stream`.
 *
 * @module
 */
import type { ImageSource } from "../image/source.ts";
import type { ChatMessage } from "../text/messages.ts";
import type { ResponseFormat } from "../structured/format.ts";
import type { SamplingOptions } from "./sampler.ts";

/** What to generate from. Give `messages`, or `prompt` as a one-turn shorthand. */
export interface GenerateRequest extends SamplingOptions {
  /** A conversation; image parts receive `images` in order. */
  messages?: ChatMessage[];
  /** Shorthand for one user turn: every image, then this text. */
  prompt?: string;
  /** Images for the image parts, in order. */
  images?: ImageSource[];
  /** Upper bound on new tokens. Required: there is no silent default. */
  maxNewTokens: number;
  /**
   * Lower `maxNewTokens` to the room the prompt leaves in the context instead
   * of failing with `budget_unsatisfiable` (default false). Tasks set it when
   * the caller gave no limit, so a plugin's default limit always fits.
   */
  fitContext?: boolean;
  /** Override the model's image splitting. */
  split?: boolean;
  /**
   * Most tiles per image for this request (overrides the model's budget,
   * `loadModel`'s `maxTiles`: 5 on wasm by default). Integer ≥ 1 or Infinity
   * for the full split; a split image over it is planned at a smaller size.
   */
  maxTiles?: number;
  /** Token ids that end generation (default: the model's EOS ids). */
  stopTokenIds?: number[];
  /** Strings that end generation; the text is cut before them. */
  stopStrings?: string[];
  /** Drop special tokens from the text (default true; DocTags need false). */
  skipSpecialTokens?: boolean;
  /** Reuse the KV cache of the previous request's common prefix (default: the model's setting). */
  reusePrefix?: boolean;
  /** Cancels generation at the next step. */
  signal?: AbortSignal;
  /** Change the logits of every step in place, in order, before sampling (constraints, penalties). */
  logitsProcessors?: LogitsProcessor[];
  /**
   * Constrain the answer to JSON: `{ type: "json_object" }` for any object,
   * `{ type: "json_schema", schema }` for a document valid against the schema.
   * When generation ends by EOS the text parses (and validates); EOS cannot
   * come before the document is complete, and the document is closed within
   * `maxNewTokens` when the limit leaves room for its shortest completion.
   * Otherwise `finishReason` is `"max_tokens"`. Applied after `logitsProcessors`.
   */
  responseFormat?: ResponseFormat;
  /** Observes every generated token as it is produced. */
  onToken?: (token: StreamedToken) => void;
  /**
   * Record each generated token's log-probability and those of the `logprobs`
   * most likely alternatives (0: the chosen token only). Off by default: it
   * costs a log-softmax over the vocabulary per step.
   */
  logprobs?: number;
}

/** One alternative at a decoding step. */
export interface TopLogprob {
  /** Token id. */
  id: number;
  /** Its log-probability. */
  logprob: number;
}

/**
 * The log-probability of a generated token under the step's distribution
 * (after the request's logits processors, before the sampler's temperature,
 * top-k/p and repetition penalty), and the most likely alternatives.
 */
export interface TokenLogprob extends TopLogprob {
  /** The most likely ids of the step, most likely first. */
  top: TopLogprob[];
}

/**
 * Edits one step's logits in place (e.g. −∞ to forbid a token). `generated`
 * holds the ids generated so far in this request.
 */
export type LogitsProcessor = (logits: Float32Array, generated: readonly number[]) => void;

/**
 * Why generation ended. `"aborted"` appears only in a stream's `result`: the
 * signal aborted (or the text stream was cancelled) and the result holds what
 * was streamed until then (`generate` rejects with the signal's reason instead).
 */
export type FinishReason = "eos" | "stop_string" | "max_tokens" | "aborted";

/** Wall-clock timings of one request, in milliseconds unless named otherwise. */
export interface GenerationTimings {
  /** Time to load the model (sessions, tokenizer), from `loadModel`. */
  loadMs: number;
  /** Image reading, decoding, tiling and normalisation. */
  preprocessMs: number;
  /** Vision encoder (0 when every image came from the feature cache). */
  visionMs: number;
  /** Prompt embedding and the prefill decoder pass. */
  prefillMs: number;
  /** From the request to the first new token. */
  ttftMs: number;
  /** New tokens after the first, per second of decoding. */
  decodeTokensPerSec: number;
}

/** The outcome of a request. */
export interface GenerationResult {
  /** Generated text (stop string excluded). */
  text: string;
  /** Generated token ids (an EOS token, when hit, is included). */
  tokenIds: number[];
  /** Prompt length in tokens, image tokens included. */
  promptTokens: number;
  /** `<image>` tokens in the prompt. */
  imageTokens: number;
  /** Why it stopped. */
  finishReason: FinishReason;
  /** Prompt tokens served from the previous request's KV cache. */
  reusedPrefixTokens: number;
  /** Images served from the feature cache. */
  cachedImages: number;
  /** How the images were tiled (absent for `generateFromInputs` and aborted-before-start results). */
  imagePlan?: ImagePlan;
  /** Per generated token, when the request asked for `logprobs`. */
  logprobs?: TokenLogprob[];
  /** Timings. */
  timings: GenerationTimings;
}

/** The tiling of one image. */
export interface ImageTiling {
  /** Original width in pixels. */
  width: number;
  /** Original height in pixels. */
  height: number;
  /** Whether it was split into a grid. */
  split: boolean;
  /** Grid rows (0 when unsplit). */
  rows: number;
  /** Grid columns (0 when unsplit). */
  cols: number;
  /** Tiles encoded: rows·cols + the global image, or 1. */
  tiles: number;
  /** Image tokens it takes in the prompt. */
  imageTokens: number;
}

/** The image budget a request ran with and the plan it produced. */
export interface ImagePlan {
  /** Per image, in order. */
  images: ImageTiling[];
  /** Tiles across all images. */
  tiles: number;
  /** Image tokens across all images. */
  imageTokens: number;
  /** The per-image tile cap applied (null: none, the model's full split). */
  maxTiles: number | null;
}

/** One generated token as streamed. */
export interface StreamedToken {
  /** Token id. */
  id: number;
  /** Text this token added (may be empty while a character or stop string is incomplete). */
  text: string;
  /** Its log-probabilities, when the request asked for `logprobs`. */
  logprob?: TokenLogprob;
}
